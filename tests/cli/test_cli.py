"""The CLI contract: commands, formats, exit codes, errors, secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from support.constants import GC_ON, NONCURRENT_RULE
from support.run import clean_env, run_gccheck, run_on_a_tty
from support.s3 import S3Server, make_bucket

from gccheck import __version__


def test_version_and_help(gccheck_inproc: Any) -> None:
    run = gccheck_inproc("--version")
    assert run.code == 0 and __version__ in run.out
    for command in ([], ["check"], ["matrix"], ["explain"], ["demo"]):
        run = gccheck_inproc(*command, "--help")
        assert run.code == 0 and "Usage:" in run.out


def test_help_shows_every_command_summary_whole(gccheck_inproc: Any) -> None:
    run = gccheck_inproc("--help")
    commands = run.out.split("Commands:")[1].strip().splitlines()
    assert [line.split()[0] for line in commands] == ["audit", "check", "demo", "explain",
                                                      "matrix"]
    assert not [line for line in commands if line.rstrip().endswith("...")], commands


def test_explain_without_an_id_lists_the_ids(gccheck_inproc: Any) -> None:
    run = gccheck_inproc("explain")
    assert run.code == 0, run.err
    from gccheck.commands import load

    matrix = load(None)
    listed = [line.split()[0] for line in run.out.splitlines() if line.startswith("  ")]
    assert listed == [*matrix.requirements, *matrix.advisories]
    assert "gccheck explain ID" in run.out


def test_a_terminal_that_is_not_utf8_gets_question_marks_not_an_error() -> None:
    run = run_gccheck("check", "--hosting", "shared-cloud", env={"PYTHONIOENCODING": "ascii"})
    assert run.code == 0, run.err
    assert run.out.startswith("wandb ? shared-cloud ? no bucket")


def test_python_dash_m_works() -> None:
    run = run_gccheck("--version")
    assert run.code == 0 and __version__ in run.out


def test_env_only_check_pass_and_fail(gccheck_inproc: Any) -> None:
    run = gccheck_inproc("check", "--hosting", "dedicated-cloud")
    assert run.code == 0 and "READY" in run.out
    run = gccheck_inproc("check", "--hosting", "on-prem", env={"BUCKET": ""})
    assert run.code == 1 and "GORILLA_ARTIFACT_GC_ENABLED" in run.out
    assert "export GORILLA_ARTIFACT_GC_ENABLED=true" in run.out  # the fix under the table


def test_hosting_from_environment_variable(gccheck_inproc: Any) -> None:
    run = gccheck_inproc("check", "--format", "json", env={"GCCHECK_HOSTING": "shared-cloud"})
    assert run.code == 0 and json.loads(run.out)["targets"][0]["hosting"] == "shared-cloud"


@pytest.mark.parametrize("args, fragment", [
    (["check"], "--hosting"),
    (["check", "--hosting", "self-hosted"], "unknown hosting type 'self-hosted'"),
    (["check", "--hosting", "on-prem", "--format", "yaml"], "--format"),
    (["check", "--hosting", "on-prem", "--timeout", "-1"], "--timeout"),
    (["check", "--hosting", "on-prem", "--timeout", "nan"], "'nan' is not a number of seconds"),
    (["audit", "fleet.yaml", "--timeout", "NaN"], "'NaN' is not a number of seconds"),
    (["check", "--hosting", "on-prem", "--name", "prod\x1b[2J"], "--name"),
    (["check", "--hosting", "on-prem", "--bucket", "az://acct1/files", "--azure-blob-endpoint",
      "http://[::1"], "--azure-blob-endpoint: 'http://[::1' is not a valid URL"),
    (["check", "--hosting", "on-prem", "--bucket", "az://acct1/files", "--azure-arm-endpoint",
      "not a url"], "--azure-arm-endpoint: 'not a url' must be an http:// or https:// URL"),
    (["check", "--hosting", "on-prem", "--bucket", "gcs://x"], "gs://"),
    (["check", "--hosting", "on-prem", "--env-file", "/nonexistent/.env"], "no such file"),
    (["check", "--hosting", "on-prem", "--matrix", "/nonexistent.yaml"], "no such file"),
    (["explain", "no-such-check"], "unknown requirement or advisory"),
    (["explain", "bucket-versoning"], "'bucket-versoning' (did you mean 'bucket-versioning'?)"),
    (["check", "--hosting", "onprem"], "unknown hosting type 'onprem' (did you mean 'on-prem'?)"),
    (["check", "--hosting", "on-prem", "--format", "jsn"], "(did you mean 'json'?)"),
    (["audit", "f.yaml", "--fail-on", "unknwn"], "(did you mean 'unknown'?)"),
    (["check", "--hosting", "on-prem", "--azure-plane", "mgmnt"], "(did you mean 'mgmt'?)"),
    (["check", "--hosting", "on-prem", "--warn-only", "--fail-on", "fail"],
     "--warn-only means --fail-on never, but --fail-on fail was given too"),
    (["audit", "f.yaml", "--warn-only", "--fail-on", "unknown"], "--warn-only means"),
    (["check", "--hosting", "on-prem", "--env-file", "a.env", "--values", "v.yaml"],
     "give only one settings source of --env-file, --values, --workload, --terraform-plan, "
     "--chart (got --env-file, --values)"),
    (["check", "--hosting", "on-prem", "--terraform-plan", "p.json", "--workload", "auto"],
     "give only one settings source of --env-file, --values, --workload, --terraform-plan, "
     "--chart (got --workload, --terraform-plan)"),
    # --values go with --chart (the values it renders with); another source does not.
    (["check", "--hosting", "on-prem", "--chart", "c", "--values", "v.yaml", "--env-file",
      "a.env"], "give only one settings source of --env-file, --values, --workload, "
     "--terraform-plan, --chart (got --env-file, --chart)"),
    (["check", "--hosting", "on-prem", "--chart", "c", "--workload", "auto"],
     "(got --workload, --chart)"),
    (["check", "--hosting", "on-prem", "--release-name", "prod"],
     "--release-name needs --chart (the release the chart is rendered as)"),
    (["check", "--hosting", "on-prem", "--values", "v.yaml", "--namespace", "wandb"],
     "--namespace needs --chart (the namespace the chart is rendered in)"),
    (["check", "--hosting", "on-prem", "--chart", "/nonexistent/chart"],
     "--chart /nonexistent/chart: no such file or directory"),
    (["frobnicate"], "No such command"),
])
def test_usage_and_input_errors_exit_2_with_one_line(gccheck_inproc: Any, args: list[str],
                                                     fragment: str) -> None:
    run = gccheck_inproc(*args)
    assert run.code == 2
    assert run.err.count("\n") == 1, run.err
    assert run.err.startswith("gccheck: error:") and fragment in run.err
    assert "Traceback" not in run.err


@pytest.mark.parametrize("variable, value, option", [
    ("GCCHECK_TIMEOUT", "10s", "--timeout"), ("GCCHECK_FORMAT", "html", "--format"),
])
def test_a_bad_value_from_a_variable_names_the_variable(gccheck_inproc: Any, variable: str,
                                                        value: str, option: str) -> None:
    run = gccheck_inproc("check", "--hosting", "on-prem", env={variable: value})
    assert run.code == 2
    assert run.err.count("\n") == 1 and option in run.err
    assert f"(set by {variable})" in run.err
    from_flag = gccheck_inproc("check", "--hosting", "on-prem", option, value)
    assert from_flag.code == 2 and "set by" not in from_flag.err


def test_bad_env_file_line(tmp_path: Path, gccheck_inproc: Any) -> None:
    env_file = tmp_path / "bad.env"
    env_file.write_text("GORILLA_ARTIFACT_GC_ENABLED=true\nnot a line with secret=hunter2\n")
    run = gccheck_inproc("check", "--hosting", "on-prem", "--env-file", str(env_file))
    assert run.code == 2 and "line 2" in run.err and "hunter2" not in run.err


def test_a_bad_endpoint_in_the_settings_is_named_where_it_was_written(
        tmp_path: Path, gccheck_inproc: Any) -> None:
    env_file = tmp_path / "wandb.env"
    env_file.write_text("BUCKET=s3://AKIAEXAMPLE0000:secretsecret@bucket\n"
                        "AWS_ENDPOINT_URL_S3=minio:9000\n")
    run = gccheck_inproc("check", "--hosting", "on-prem", "--env-file", str(env_file))
    assert run.code == 2
    assert run.err == (f"gccheck: error: AWS_ENDPOINT_URL_S3 (env file {env_file}: line 2): "
                       "'minio:9000' must be an http:// or https:// URL with a host, e.g. "
                       "http://127.0.0.1:9000\n")


def test_env_file_source_with_provenance(tmp_path: Path, gccheck_inproc: Any) -> None:
    env_file = tmp_path / "wandb.env"
    env_file.write_text("export GORILLA_ARTIFACT_GC_ENABLED='TRUE'\n")
    run = gccheck_inproc("check", "--hosting", "on-prem", "--env-file", str(env_file),
                         "--format", "json", env={"GORILLA_ARTIFACT_GC_ENABLED": "false"})
    result = json.loads(run.out)["targets"][0]["results"][0]
    assert result["status"] == "pass"
    assert result["source"] == f"env file {env_file}: line 1"


def test_debug_says_what_was_read_and_asked_when_all_goes_well(moto_server: S3Server,
                                                              gccheck_inproc: Any) -> None:
    from support.constants import TEST_KEY, TEST_SECRET

    bucket = make_bucket(moto_server, "Enabled", lifecycle=[NONCURRENT_RULE])
    run = gccheck_inproc("check", "--hosting", "on-prem", "--bucket", moto_server.url(bucket),
                         "--debug", env=GC_ON)
    assert run.code == 0, run.err
    lines = run.err.splitlines()
    assert any("wandb: settings from process environment" in line and
               f"bucket s3://***:***@{moto_server.host}:{moto_server.port}/{bucket}" in line
               for line in lines), run.err
    assert any("S3 client: endpoint http://" in line and "credentials from the bucket URL" in line
               for line in lines), run.err
    for call in ("get_bucket_versioning", "get_bucket_lifecycle_configuration"):
        assert any(f"{call} on s3://***:***@" in line and line.endswith(": HTTP 200")
                   for line in lines), run.err
    assert any(" probed in " in line for line in lines)
    assert TEST_SECRET not in run.err and TEST_KEY not in run.err


def test_json_schema(moto_server: S3Server, gccheck_inproc: Any) -> None:
    bucket = make_bucket(moto_server, "Enabled", lifecycle=[NONCURRENT_RULE])
    run = gccheck_inproc("check", "--hosting", "on-prem", "--bucket", moto_server.url(bucket),
                         "--format", "json", env=GC_ON)
    data = json.loads(run.out)
    assert set(data) == {"schema", "gccheck", "ready", "targets"}
    assert data["schema"] == 1 and data["gccheck"] == __version__ and data["ready"] is True
    target = data["targets"][0]
    assert {"name", "hosting", "provider", "bucket", "ready", "results"} <= set(target)
    assert target["bucket"].startswith("s3://***:***@127.0.0.1:")
    for result in target["results"]:
        assert {"id", "status", "summary", "detail", "remediation"} <= set(result)
        assert result["status"] in ("pass", "fail", "unknown", "warn", "not-required")
    ids = [r["id"] for r in target["results"]]
    assert ids[:4] == ["gc-env-var", "bucket-versioning", "blob-soft-delete", "ssc-provider"]


def test_exit_codes_and_warn_only_and_fail_on(moto_server: S3Server,
                                             gccheck_inproc: Any) -> None:
    never = make_bucket(moto_server)
    url = moto_server.url(never)
    assert gccheck_inproc("check", "--hosting", "on-prem", "--bucket", url, env=GC_ON).code == 1
    assert gccheck_inproc("check", "--hosting", "on-prem", "--bucket", url, "--warn-only",
                          env=GC_ON).code == 0
    unknown = gccheck_inproc("check", "--hosting", "on-prem", env=GC_ON)  # no bucket
    assert unknown.code == 3 and "UNVERIFIED" in unknown.out
    assert gccheck_inproc("check", "--hosting", "on-prem", "--warn-only", env=GC_ON).code == 0
    assert gccheck_inproc("check", "--hosting", "on-prem", "--fail-on", "fail",
                          env=GC_ON).code == 0
    assert gccheck_inproc("check", "--hosting", "on-prem", "--bucket", url, "--fail-on", "fail",
                          env=GC_ON).code == 1
    assert gccheck_inproc("check", "--hosting", "on-prem", "--bucket", url, "--fail-on",
                          "never", env=GC_ON).code == 0


def test_markdown_and_junit(moto_server: S3Server, gccheck_inproc: Any) -> None:
    url = moto_server.url(make_bucket(moto_server, "Suspended"))
    md = gccheck_inproc("check", "--hosting", "customer-managed-cloud", "--bucket", url,
                        "--format", "markdown")
    assert md.code == 1
    assert "| ❌ fail | `bucket-versioning` |" in md.out and "### Fixes" in md.out
    junit = gccheck_inproc("check", "--hosting", "customer-managed-cloud", "--bucket", url,
                           "--format", "junit")
    suite = ET.fromstring(junit.out).find("testsuite")
    assert suite is not None
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"gc-env-var", "bucket-versioning", "blob-soft-delete", "ssc-provider"}
    assert cases["bucket-versioning"].find("failure") is not None
    assert cases["gc-env-var"].find("failure") is not None
    assert cases["ssc-provider"].find("skipped") is not None
    assert suite.get("failures") == "2"


def test_output_file_and_termination_message(tmp_path: Path, gccheck_inproc: Any) -> None:
    out = tmp_path / "report.json"
    message = tmp_path / "termination-log"
    run = gccheck_inproc("check", "--hosting", "on-prem", "--format", "json", "--output",
                         str(out), "--termination-message", str(message))
    assert run.code in (1, 3) and run.out == ""
    assert json.loads(out.read_text())["ready"] is False
    line = message.read_text()
    assert line == ("gccheck wandb (on-prem): NOT READY: gc-env-var fails: "
                    "GORILLA_ARTIFACT_GC_ENABLED is not set in the process environment\n")
    assert not list(tmp_path.glob(".*.tmp"))


def test_termination_reason_is_the_first_item_the_verdict_names() -> None:
    from gccheck.commands import termination_line
    from gccheck.model import Kind, Report, Result, Status, TargetReport

    results = (
        Result("gc-env-var", Kind.REQUIREMENT, Status.PASS, "is 'true'"),
        Result("bucket-versioning", Kind.REQUIREMENT, Status.UNKNOWN, "access denied: x"),
        Result("noncurrent-never-expire", Kind.ADVISORY, Status.WARN, "no rule\nexpires them"),
    )
    target = TargetReport("w", "on-prem", "aws", "s3://b", results)
    plain = Report((target,), "1", strict=False, generated_at=0.0)
    strict = Report((target,), "1", strict=True, generated_at=0.0)
    assert termination_line(plain) == ("gccheck w (on-prem): UNVERIFIED: could not check "
                                       "bucket-versioning: access denied: x")
    # Under --strict the warned advisory fails, and the reason is its own.
    assert termination_line(strict) == ("gccheck w (on-prem): NOT READY: "
                                        "noncurrent-never-expire fails: no rule expires them")


def test_termination_message_says_why_it_is_unverified(tmp_path: Path,
                                                      gccheck_inproc: Any) -> None:
    message = tmp_path / "termination-log"
    # A refused connection answers at once; --timeout 10 leaves a loaded machine room to
    # load boto3 before the deadline, so the reason is the refusal, not the clock.
    run = gccheck_inproc("check", "--hosting", "on-prem", "--bucket", "s3://127.0.0.1:1/bucket",
                         "--timeout", "10", "--termination-message", str(message),
                         env={**GC_ON, "AWS_ACCESS_KEY_ID": "AKIATERM", "AWS_SECRET_ACCESS_KEY":
                              "termsecretterm"})
    assert run.code == 3
    assert message.read_text() == ("gccheck wandb (on-prem): UNVERIFIED: could not check "
                                   "bucket-versioning: could not connect to "
                                   "http://127.0.0.1:1\n")


@pytest.mark.parametrize("bucket, missing", [
    ("s3://$(BUCKET_ACCESS_KEY):$(BUCKET_SECRET_KEY)@minio:9000/wandb",
     "$(BUCKET_ACCESS_KEY), $(BUCKET_SECRET_KEY)"),
    ("s3://AKIAREALKEY00:$(BUCKET_SECRET_KEY)@minio:9000/wandb", "$(BUCKET_SECRET_KEY)"),
    ("s3://minio:9000/$(BUCKET_NAME)", "$(BUCKET_NAME)"),
])
def test_unexpanded_kubernetes_references_in_the_bucket_are_named(gccheck_inproc: Any,
                                                                  bucket: str,
                                                                  missing: str) -> None:
    run = gccheck_inproc("check", "--hosting", "on-prem", env={**GC_ON, "BUCKET": bucket})
    assert run.code == 2
    assert run.err == (f"gccheck: error: the bucket URL (process environment) still holds "
                       f"{missing}: Kubernetes leaves a reference to an undefined variable as "
                       "written, so the Secret, ConfigMap or key that would set "
                       f"{'them' if ',' in missing else 'it'} is missing or misnamed (an "
                       "optional reference?)\n")


def test_a_password_with_a_dollar_paren_inside_is_a_password(gccheck_inproc: Any) -> None:
    run = gccheck_inproc("check", "--hosting", "on-prem", "--timeout", "5", env={
        **GC_ON, "BUCKET": "s3://minioadmin:Pa55$(w0rd)Xyz@127.0.0.1:1/wandb"})
    assert run.code == 3, run.err  # probed (the port is closed), not rejected as a reference
    assert "w0rd" not in run.out + run.err


def test_table_colour_only_on_terminals_and_never_with_no_color(gccheck_inproc: Any) -> None:
    from support.run import clean_env

    env = {k: v for k, v in clean_env().items() if k != "NO_COLOR"}
    code, shown, _ = run_on_a_tty("check", "--hosting", "on-prem", stream="stdout", env=env)
    assert code == 1
    assert "\x1b[31;1mfail\x1b[0m" in shown and "\x1b[31;1mNOT READY" in shown
    code, plain, _ = run_on_a_tty("check", "--hosting", "on-prem", stream="stdout",
                                  env={**env, "NO_COLOR": "1"})
    assert code == 1 and "fail" in plain and "\x1b[" not in plain
    piped = gccheck_inproc("check", "--hosting", "on-prem", env={"NO_COLOR": ""})
    assert "fail" in piped.out and "\x1b[" not in piped.out


def test_matrix_command_formats(gccheck_inproc: Any) -> None:
    table = gccheck_inproc("matrix")
    assert table.code == 0
    assert "Customer-managed on-prem" in table.out and "GORILLA_ARTIFACT_GC_ENABLED" in table.out
    data = json.loads(gccheck_inproc("matrix", "--format", "json").out)
    assert data["hosting-types"]["on-prem"]["requires"] == [
        "gc-env-var", "bucket-versioning", "blob-soft-delete"]
    markdown = gccheck_inproc("matrix", "--format", "markdown").out
    assert markdown.startswith("| hosting type")


@pytest.mark.parametrize("check_id", ["gc-env-var", "bucket-versioning", "blob-soft-delete",
                                      "ssc-provider", "lifecycle-expires-current",
                                      "noncurrent-never-expire", "object-lock-retention"])
def test_explain_every_id(gccheck_inproc: Any, check_id: str) -> None:
    run = gccheck_inproc("explain", check_id)
    assert run.code == 0
    assert run.out.startswith(check_id) and "Why:" in run.out and "Fix:" in run.out
    assert "Permissions gccheck needs" in run.out


def test_explain_gives_cli_terraform_and_helm(gccheck_inproc: Any) -> None:
    out = gccheck_inproc("explain", "bucket-versioning").out
    assert "aws s3api put-bucket-versioning" in out and "aws_s3_bucket_versioning" in out
    assert "s3:GetBucketVersioning" in out
    helm = gccheck_inproc("explain", "gc-env-var").out
    assert "extraEnv" in helm and "GORILLA_ARTIFACT_GC_ENABLED: \"true\"" in helm


SECRET_KEY_ID = "AKIAPLANTEDKEY123456"
SECRET = "planted/Secret+Value0123456789abcdefghij"
AZURE_KEY = "cGxhbnRlZC1henVyZS1hY2NvdW50LWtleQ=="


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "junit"])
def test_secrets_never_appear_in_any_format(moto_server: S3Server, tmp_path: Path, fmt: str,
                                            gccheck_inproc: Any) -> None:
    from urllib.parse import quote

    bucket = make_bucket(moto_server)
    url = moto_server.url(bucket, SECRET_KEY_ID, SECRET)
    env = {"AWS_SECRET_ACCESS_KEY": SECRET, "AZURE_STORAGE_KEY": AZURE_KEY,
           "GORILLA_ARTIFACTS_GC_ENABLED": SECRET}
    outputs = []
    for args in (["--bucket", url], ["--bucket", "s3://AK:" + quote(SECRET, safe="") + "@x:1/"],
                 ["--bucket", f"az://:{quote(AZURE_KEY, safe='')}@acct1/files"]):
        run = gccheck_inproc("check", "--hosting", "on-prem", "--format", fmt, "--timeout", "1",
                             "--debug", *args, env=env)
        outputs.append(run.out + run.err)
    leaked = [s for s in (SECRET, quote(SECRET, safe=""), SECRET_KEY_ID, AZURE_KEY,
                          quote(AZURE_KEY, safe="")) for o in outputs if s in o]
    assert leaked == []
    assert any("***" in o for o in outputs)


def test_output_file_gets_the_usual_mode(tmp_path: Path, gccheck_inproc: Any) -> None:
    import os
    import stat

    out = tmp_path / "report.json"
    old = os.umask(0o022)
    try:
        gccheck_inproc("check", "--hosting", "shared-cloud", "--format", "json", "--output",
                       str(out))
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    out.chmod(0o640)
    gccheck_inproc("check", "--hosting", "shared-cloud", "--format", "json", "--output", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


def test_junit_under_strict_fails_on_warning_advisories(moto_server: S3Server,
                                                        gccheck_inproc: Any) -> None:
    url = moto_server.url(make_bucket(moto_server, "Enabled"))  # no noncurrent rule: warns
    run = gccheck_inproc("check", "--hosting", "on-prem", "--bucket", url, "--format", "junit",
                         "--strict", env=GC_ON)
    assert run.code == 1
    suite = ET.fromstring(run.out).find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    case = next(c for c in suite.findall("testcase") if c.get("name") == "noncurrent-never-expire")
    assert case.find("failure") is not None


def test_unwritable_termination_message_does_not_change_the_verdict(gccheck_inproc: Any) -> None:
    run = gccheck_inproc("check", "--hosting", "on-prem", "--fail-on", "never",
                         "--termination-message", "/nonexistent-dir/termination-log")
    assert run.code == 0
    assert "warning: --termination-message" in run.err


# Secrets a regular expression cannot see the end of: quotes, spaces, short ones, markup.
ODD_SECRETS = ('pa"ss', 'secret"quoted"xyz', "a b'c d e", "<sec&ret>\"'x", "back\\slash99",
               "wJalrXUtnFEMI/K7MDENG#bPx?Rfi", "ends-in-a-backslash\\")


def _forms(secret: str) -> set[str]:
    import html
    import json

    return {secret, json.dumps(secret)[1:-1], html.escape(secret),
            html.escape(secret, quote=False)}


@pytest.mark.parametrize("secret", ODD_SECRETS)
def test_odd_secrets_in_bucket_urls_never_appear(tmp_path: Path, secret: str,
                                                 gccheck_inproc: Any) -> None:
    import yaml

    url = f"s3://AKIAODD:{secret}@127.0.0.1:1/bucket"
    outputs = []
    for fmt in ("table", "json", "markdown", "junit"):
        run = gccheck_inproc("check", "--hosting", "on-prem", "--format", fmt, "--timeout",
                             "0.5", "--debug", "--bucket", url, env=GC_ON)
        assert run.code == 3, run.err
        outputs.append(run.out + run.err)
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(yaml.safe_dump({"deployments": [
        {"name": "odd", "hosting": "on-prem", "bucket": url, "timeout": 0.5, "env": GC_ON}]}))
    for fmt in ("json", "html", "prometheus", "junit"):
        run = gccheck_inproc("audit", str(fleet), "--format", fmt, "--quiet", "--debug")
        outputs.append(run.out + run.err)
    bad = gccheck_inproc("check", "--hosting", "on-prem", "--bucket",
                         f"s3://AKIAODD:{secret}@host.example/b")
    assert bad.code == 2
    outputs.append(bad.err)
    leaked = [(form, o[:200]) for form in _forms(secret) for o in outputs if form in o]
    assert leaked == []
    # The outputs that show the bucket (check: table, json, markdown; audit: json, html; the
    # error) show it masked.
    assert [i for i in (0, 1, 2, 4, 5, 8) if "***" not in outputs[i]] == []


# A name with a byte that is not UTF-8, as the shell passes $'\xff.env': os.fsdecode gives it
# as a lone surrogate, which subprocess turns back into the byte.
ODD = os.fsdecode(b"\xff")


@pytest.mark.parametrize(("args", "named"), [
    (["--env-file", f"{ODD}.env"], b"env file \\udcff.env"),
    (["--values", f"{ODD}.yaml"], b"values file \\udcff.yaml"),
    (["--env-file", os.devnull, "--output", f"no{ODD}dir/out.json"], b"--output no\\udcffdir"),
])
def test_errors_show_a_non_utf8_name_escaped(tmp_path: Path, args: list[str],
                                             named: bytes) -> None:
    """Not the '?' of stderr's errors=replace: the user must see which name it is."""
    proc = subprocess.run([sys.executable, "-m", "gccheck", "check", "--hosting", "on-prem",
                           "--bucket", "s3://AK:SK@127.0.0.1:9/wandb", "--timeout", "0.5",
                           *args], capture_output=True, env=clean_env(), cwd=tmp_path,
                          timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(b"gccheck: error: " + named), proc.stderr
    assert proc.stderr.count(b"\n") == 1 and b"?" not in proc.stderr


def test_a_fleet_file_error_shows_a_non_utf8_name_escaped(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "gccheck", "audit", f"{ODD}.yaml"],
                          capture_output=True, env=clean_env(), cwd=tmp_path, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == b"gccheck: error: fleet file \\udcff.yaml: no such file\n"


def test_a_termination_message_warning_shows_a_non_utf8_name_escaped(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "gccheck", "check", "--hosting", "on-prem",
                           "--bucket", "s3://AK:SK@127.0.0.1:9/wandb", "--timeout", "0.5",
                           "--env-file", os.devnull, "--termination-message", f"no{ODD}dir/log"],
                          capture_output=True, env=clean_env(), cwd=tmp_path, timeout=60)
    # The verdict decides the exit code; the message file only warns (gc-env-var fails).
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith(b"gccheck: warning: --termination-message no\\udcffdir/log: "
                                  b"cannot write ("), proc.stderr
    assert proc.stderr.count(b"\n") == 1 and b"?" not in proc.stderr
