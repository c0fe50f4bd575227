"""Reading a big Terraform plan: `load_plan` + bucket facts + settings vs a bare `json.load`.

Writes a plan of N resources (default 50,000) in `terraform show -json` shape: each resource in
`resource_changes`, `planned_values` and `configuration`, spread over 500 modules, with 1 in 100
an S3 bucket and its versioning resource (linked by a reference, as W&B's module does) and one
W&B helm_release. Both readers run in this process on the same file, so the ratio is what
gccheck adds to parsing. Then the whole command as a user runs it, `gccheck check --hosting
customer-managed-cloud --terraform-plan plan.json --bucket ADDRESS` (a fresh process each run),
against a fresh `python -c 'json.load(...)'`. Target: a 100,000-resource plan in seconds
(`--resources 100000`).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gccheck.model import VersioningState
from gccheck.terraform import load_plan

MODULES = 500


def _resource(i: int) -> tuple[dict[str, Any], dict[str, Any]]:
    # A bucket and its versioning resource (i % 100 == 0, 1) share a module, as the reference
    # `aws_s3_bucket.bN.id` inside that module needs.
    module = f"module.app{(i // 100) % MODULES}"
    if i % 100 == 0:
        type_, name = "aws_s3_bucket", f"b{i}"
        after = {"force_destroy": False, "tags": {"team": "ml"}, "timeouts": None}
        unknown = {"bucket": True, "id": True, "arn": True, "versioning": True}
        config = {"bucket": {"references": ["var.namespace"]}}
    elif i % 100 == 1:
        type_, name = "aws_s3_bucket_versioning", f"v{i}"
        after = {"versioning_configuration": [{"status": "Enabled", "mfa_delete": None}]}
        unknown = {"bucket": True, "id": True}
        config = {"bucket": {"references": [f"aws_s3_bucket.b{i - 1}.id",
                                            f"aws_s3_bucket.b{i - 1}"]}}
    else:
        type_, name = "aws_iam_role_policy", f"p{i}"
        after = {"name": f"policy-{i}", "policy": json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:Get*"],
                                                   "Resource": ["*"]}]}), "name_prefix": None}
        unknown = {"id": True, "role": True}
        config = {"name": {"constant_value": f"policy-{i}"}, "role": {"references": [
            "aws_iam_role.r.name", "aws_iam_role.r"]}}
    change = {"address": f"{module}.{type_}.{name}", "module_address": module,
              "mode": "managed", "type": type_, "name": name,
              "provider_name": "registry.terraform.io/hashicorp/aws",
              "change": {"actions": ["create"], "before": None, "after": after,
                         "after_unknown": unknown, "before_sensitive": False,
                         "after_sensitive": {}}}
    resource_config = {"address": f"{type_}.{name}", "mode": "managed", "type": type_,
                       "name": name, "provider_config_key": "aws", "expressions": config,
                       "schema_version": 0}
    return change, resource_config


def write_plan(path: Path, resources: int) -> None:
    changes: list[dict[str, Any]] = []
    modules: dict[str, dict[str, Any]] = {}
    planned: dict[str, dict[str, Any]] = {}
    for i in range(resources):
        change, config = _resource(i)
        name = change["module_address"].split(".", 1)[1]
        changes.append(change)
        modules.setdefault(name, {"source": f"./modules/{name}", "expressions": {},
                                  "module": {"resources": []}})["module"]["resources"].append(
            config)
        planned.setdefault(change["module_address"], {
            "address": change["module_address"], "resources": []})["resources"].append({
                "address": change["address"], "mode": "managed", "type": change["type"],
                "name": change["name"], "values": change["change"]["after"],
                "sensitive_values": {}})
    changes.append({"address": "helm_release.wandb", "mode": "managed", "type": "helm_release",
                    "name": "wandb", "change": {"actions": ["create"], "before": None, "after": {
                        "chart": "operator-wandb", "set": [], "set_sensitive": [], "values": [
                            "global:\n  extraEnv:\n    GORILLA_ARTIFACT_GC_ENABLED: \"true\"\n"]},
                        "after_unknown": {"id": True}, "after_sensitive": {}}})
    document = {"format_version": "1.2", "terraform_version": "1.9.5",
                "planned_values": {"root_module": {"child_modules": list(planned.values())}},
                "resource_changes": changes,
                "configuration": {"root_module": {"module_calls": modules}}}
    path.write_text(json.dumps(document))


def timed(fn: Any, runs: int) -> float:
    samples = []
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resources", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.json"
        write_plan(path, args.resources)
        size = path.stat().st_size / 1e6

        def baseline() -> None:
            with path.open("rb") as handle:
                json.load(handle)

        def gccheck() -> None:
            plan = load_plan(str(path))
            bucket = plan.select_bucket(plan.buckets()[0].address, None)
            assert bucket.facts().versioning is VersioningState.ENABLED
            for other in plan.buckets():
                other.facts()
            assert plan.settings().get("GORILLA_ARTIFACT_GC_ENABLED") == "true"

        address = "module.app0.aws_s3_bucket.b0"
        command = [sys.executable, "-m", "gccheck", "check", "--hosting",
                   "customer-managed-cloud", "--terraform-plan", str(path), "--bucket", address,
                   "--format", "json", "--output", str(Path(tmp) / "report.json")]
        load_only = [sys.executable, "-c",
                     f"import json; json.load(open({str(path)!r}, 'rb'))"]

        def cli() -> None:
            # Exit 0: the bucket's versioning is planned, the env var set: every result known.
            subprocess.run(command, check=True, cwd=Path(__file__).resolve().parent.parent)

        def cli_baseline() -> None:
            subprocess.run(load_only, check=True)

        gccheck()  # warm-up: imports, and a check that every bucket links
        cli()
        base = timed(baseline, args.runs)
        ours = timed(gccheck, args.runs)
        cli_base = timed(cli_baseline, args.runs)
        cli_ours = timed(cli, args.runs)
    print(f"plan: {args.resources:,} resources, {size:.0f} MB; medians of {args.runs} runs")
    print(f"{'reader':<56} {'seconds':>8} {'ratio':>6}")
    print(f"{'json.load (baseline)':<56} {base:8.2f} {1:6.2f}")
    print(f"{'load_plan + every bucket facts + settings':<56} {ours:8.2f} {ours / base:6.2f}")
    print(f"{'python -c json.load, a fresh process (baseline)':<56} {cli_base:8.2f} {1:6.2f}")
    print(f"{'gccheck check --terraform-plan --bucket, a fresh process':<56} {cli_ours:8.2f} "
          f"{cli_ours / cli_base:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
