"""End to end: one W&B configuration written as a values file, as WeightsAndBiases resources
(v1 and v2) and as a live workload gives the same verdict on a real (moto) S3 bucket."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from support.constants import FIXTURES, TEST_KEY, TEST_SECRET
from support.k8s_api import KubeServer, config_map, deployment, secret, write_kubeconfig
from support.run import Run
from support.s3 import S3Server, make_bucket

GC = "GORILLA_ARTIFACT_GC_ENABLED"
CHECK = ("check", "--hosting", "customer-managed-cloud", "--timeout", "5")


def values_file(tmp_path: Path, server: S3Server, bucket: str, gc: str) -> Path:
    path = tmp_path / "values.yaml"
    path.write_text(textwrap.dedent(f"""\
        global:
          host: https://wandb.example.com
          bucket:
            provider: s3
            name: "{server.host}:{server.port}"
            path: {bucket}
            region: us-east-1
            accessKey: "{TEST_KEY}"
            secretKey: "{TEST_SECRET}"
          extraEnv:
            {GC}: "{gc}"
        """))
    return path


def cr_v1(tmp_path: Path, server: S3Server, bucket: str, gc: str) -> Path:
    values = values_file(tmp_path, server, bucket, gc).read_text()
    path = tmp_path / "cr-v1.yaml"
    path.write_text("apiVersion: apps.wandb.com/v1\nkind: WeightsAndBiases\nmetadata:\n"
                    "  name: wandb\nspec:\n  values:\n" + textwrap.indent(values, "    "))
    return path


def cr_v2(tmp_path: Path, server: S3Server, bucket: str, gc: str) -> Path:
    path = tmp_path / "cr-v2.yaml"
    path.write_text(textwrap.dedent(f"""\
        apiVersion: apps.wandb.com/v2
        kind: WeightsAndBiases
        metadata: {{name: wandb}}
        spec:
          wandb:
            hostname: https://wandb.example.com
            retention: {{artifactGarbageCollection: {gc}}}
          objectStore:
            default:
              externalObjectStore:
                endpoint: {{value: "http://{server.host}:{server.port}"}}
                bucket: {{value: {bucket}}}
                region: {{value: us-east-1}}
                accessKey: {{value: "{TEST_KEY}"}}
                secretKey: {{value: "{TEST_SECRET}"}}
        """))
    return path


def live(kube: KubeServer, tmp_path: Path, server: S3Server, bucket: str, gc: str) -> Path:
    """The workload operator-wandb renders for the same values."""
    api = kube.api
    api.add(config_map("wandb-bucket-configmap", {
        "BUCKET_NAME": f"{server.host}:{server.port}", "BUCKET_PATH": bucket,
        "AWS_REGION": "us-east-1"}))
    api.add(secret("wandb-bucket", {"ACCESS_KEY": TEST_KEY, "SECRET_KEY": TEST_SECRET}))
    ref = {"name": "wandb-bucket", "optional": True}
    api.add(deployment("wandb-app", labels={"app.kubernetes.io/name": "app",
                                            "app.kubernetes.io/instance": "wandb"},
                       containers=[{
                           "name": "app", "image": "wandb/local:0.70.0",
                           "envFrom": [{"configMapRef": {"name": "wandb-bucket-configmap"}}],
                           "env": [
                               {"name": "BUCKET_ACCESS_KEY",
                                "valueFrom": {"secretKeyRef": {**ref, "key": "ACCESS_KEY"}}},
                               {"name": "BUCKET_SECRET_KEY",
                                "valueFrom": {"secretKeyRef": {**ref, "key": "SECRET_KEY"}}},
                               {"name": "BUCKET", "value": "s3://$(BUCKET_ACCESS_KEY):"
                                "$(BUCKET_SECRET_KEY)@$(BUCKET_NAME)/$(BUCKET_PATH)"},
                               {"name": GC, "value": gc}]}]))
    return write_kubeconfig(tmp_path / "kubeconfig", kube.url)


def verdict(run: Run) -> dict[str, str]:
    report = json.loads(run.out)
    target = report["targets"][0]
    return {r["id"]: r["status"] for r in target["results"]}


@pytest.mark.parametrize("versioning,gc,code", [("Enabled", "true", 0),
                                                ("Suspended", "false", 1)])
def test_same_configuration_same_verdict(tmp_path: Path, moto_server: S3Server,
                                         kube: KubeServer, gccheck_inproc: Callable[..., Run],
                                         versioning: str, gc: str, code: int) -> None:
    bucket = make_bucket(moto_server, versioning)
    sources: dict[str, tuple[str, ...]] = {
        "values": ("--values", str(values_file(tmp_path, moto_server, bucket, gc))),
        "cr-v1": ("--values", str(cr_v1(tmp_path, moto_server, bucket, gc))),
        "cr-v2": ("--values", str(cr_v2(tmp_path, moto_server, bucket, gc))),
        "workload": ("--workload", "auto", "--kubeconfig",
                     str(live(kube, tmp_path, moto_server, bucket, gc))),
    }
    verdicts: dict[str, dict[str, str]] = {}
    for name, args in sources.items():
        run = gccheck_inproc(*CHECK, *args, "--format", "json")
        assert run.code == code, (name, run.out, run.err)
        verdicts[name] = verdict(run)
        assert TEST_SECRET not in run.out + run.err
    assert len({json.dumps(v, sort_keys=True) for v in verdicts.values()}) == 1, verdicts
    expected = "pass" if code == 0 else "fail"
    assert verdicts["values"]["gc-env-var"] == verdicts["values"]["bucket-versioning"] == expected


def test_every_result_names_its_source(tmp_path: Path, moto_server: S3Server,
                                       gccheck_inproc: Callable[..., Run]) -> None:
    bucket = make_bucket(moto_server, "Enabled")
    base = values_file(tmp_path, moto_server, bucket, "true")
    override = tmp_path / "prod.yaml"
    override.write_text(f'app:\n  env:\n    {GC}: "false"\n')
    run = gccheck_inproc(*CHECK, "-f", str(base), "-f", str(override))
    assert run.code == 1, run.err
    assert f"from {override}: app.env.{GC} (line 3)" in run.out
    assert f"bucket from {base}: global.bucket.name (line 5)" in run.out
    assert f"change in {override} (line 3), then helm upgrade with -f {override}:" in run.out
    assert TEST_SECRET not in run.out


def test_keys_only_in_the_cluster_use_the_callers_credentials(
        tmp_path: Path, moto_server: S3Server, gccheck_inproc: Callable[..., Run]) -> None:
    bucket = make_bucket(moto_server, "Enabled")
    path = tmp_path / "values.yaml"
    path.write_text(textwrap.dedent(f"""\
        global:
          bucket:
            provider: s3
            name: "{moto_server.host}:{moto_server.port}"
            path: {bucket}
            region: us-east-1
            secret: {{secretName: wandb-minio}}
          extraEnv: {{{GC}: "true"}}
        """))
    run = gccheck_inproc(*CHECK, "-f", str(path), env={
        "AWS_ACCESS_KEY_ID": TEST_KEY, "AWS_SECRET_ACCESS_KEY": TEST_SECRET})
    assert run.code == 0, run.out + run.err
    assert "Secret wandb-minio" in run.out and "own credentials" in run.out


def test_value_from_in_a_values_file_is_unknown(gccheck_inproc: Callable[..., Run]) -> None:
    run = gccheck_inproc(*CHECK, "-f", str(FIXTURES / "values" / "operator-valuefrom.yaml"),
                         "--format", "json")
    gc = next(r for r in json.loads(run.out)["targets"][0]["results"] if r["id"] == "gc-env-var")
    assert gc["status"] == "unknown" and "--workload" in gc["summary"]
    assert "global.extraEnv" in gc["source"]


@pytest.mark.parametrize("name,where", [
    ("not-yaml.yaml", r"not-yaml.yaml: line 5: not valid YAML \(mapping values"),
    ("list.yaml", r"list.yaml: line 1: expected a mapping"),
    ("unknown-shape.yaml", r"unknown-shape.yaml: unknown shape"),
    ("deployment.yaml", r"deployment.yaml: a Deployment"),
])
def test_bad_values_files_exit_2_with_one_line(gccheck_inproc: Callable[..., Run], name: str,
                                               where: str) -> None:
    import re

    run = gccheck_inproc(*CHECK, "-f", str(FIXTURES / "values" / name))
    assert run.code == 2
    assert run.out == ""
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and re.search(where, lines[0]), run.err


def test_unreachable_cluster_exits_2_quickly(tmp_path: Path,
                                             gccheck_inproc: Callable[..., Run]) -> None:
    import socket
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = write_kubeconfig(tmp_path / "kc", f"http://127.0.0.1:{port}")
    started = time.monotonic()
    run = gccheck_inproc(*CHECK, "--workload", "auto", "--kubeconfig", str(config))
    assert run.code == 2 and "could not connect to the Kubernetes API" in run.err
    assert len(run.err.strip().splitlines()) == 1
    assert time.monotonic() - started < 2

