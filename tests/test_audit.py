"""`gccheck audit`: concurrency isolation, exit codes, progress, output, end to end."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.constants import GC_ON, NONCURRENT_RULE
from support.ports import silent_port
from support.run import run_gccheck, run_on_a_tty
from support.s3 import S3Server, make_bucket

from gccheck import audit as audit_module
from gccheck.audit import audit
from gccheck.bucket_url import BucketLocation
from gccheck.engine import scheduler as schedule_module
from gccheck.errors import InputError
from gccheck.masking import Redactor
from gccheck.matrix import Matrix, load_matrix
from gccheck.model import BucketFacts, Kind, Result, Settings, Status, TargetReport
from gccheck.probes.interface import ProbeOptions
from gccheck.progress import NoProgress, ProgressBar, progress_for, render_bar
from gccheck.rules import RULES
from gccheck.target import InlineEnv, TargetSpec, Workload


@pytest.fixture(scope="module")
def matrix() -> Matrix:
    return load_matrix(None, RULES)


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """host:port of a TCP server that accepts connections and never answers: a hung S3 endpoint."""
    with silent_port() as port:
        yield f"127.0.0.1:{port}"


def _url(server: S3Server, bucket: str) -> str:
    return server.url(bucket)


def test_a_hung_endpoint_does_not_delay_the_others(moto_server: S3Server, matrix: Matrix,
                                                   silent_endpoint: str) -> None:
    versioned = make_bucket(moto_server, "Enabled", lifecycle=[NONCURRENT_RULE])
    never = make_bucket(moto_server)
    hung_timeout = 3.0
    specs = [
        TargetSpec("hung", "on-prem", bucket=f"s3://AKIAHUNG0000:hungsecret0000@{silent_endpoint}"
                   "/wandb?region=us-east-1", source=InlineEnv(GC_ON), timeout=hung_timeout),
        *(TargetSpec(f"ok-{i}", "on-prem", bucket=_url(moto_server, versioned),
                     source=InlineEnv(GC_ON), timeout=hung_timeout) for i in range(4)),
        TargetSpec("never", "customer-managed-cloud", bucket=_url(moto_server, never),
                   source=InlineEnv(GC_ON), timeout=hung_timeout),
        TargetSpec("no-env", "on-prem", bucket=_url(moto_server, versioned), source=InlineEnv({}),
                   timeout=hung_timeout),
    ]
    started = time.monotonic()
    finished: dict[str, float] = {}

    def done(report: TargetReport) -> None:
        finished[report.name] = time.monotonic() - started

    report = audit(specs, matrix, {}, Redactor(), concurrency=8, on_done=done)
    elapsed = time.monotonic() - started

    by_name = {t.name: t for t in report.targets}
    assert [t.name for t in report.targets] == [s.name for s in specs]  # input order
    for i in range(4):
        assert by_name[f"ok-{i}"].exit_code() == 0, by_name[f"ok-{i}"]
    assert by_name["never"].exit_code() == 1
    assert by_name["no-env"].exit_code() == 1
    hung = by_name["hung"]
    assert hung.exit_code() == 3
    versioning = next(r for r in hung.results if r.id == "bucket-versioning")
    assert versioning.status is Status.UNKNOWN
    assert f"within {hung_timeout:g} s" in versioning.summary
    # The others were reported while the hung one was still waiting, and it was given up on
    # at its timeout rather than after the SDK's retries.
    assert max(v for k, v in finished.items() if k != "hung") < hung_timeout
    assert list(finished)[-1] == "hung"
    assert elapsed < hung_timeout + 5


class _StuckProbe:
    """A probe that ignores its timeout (a bug in a probe must not hang the audit)."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def probe(self, bucket: BucketLocation, settings: Settings,
              options: ProbeOptions) -> BucketFacts:
        self.release.wait(30)
        raise RuntimeError("released")


class _Registry:
    def __init__(self, probe: Any) -> None:
        self.probe = probe

    def for_provider(self, provider: str) -> Any:
        return self.probe


def test_the_deadline_frees_the_slot_of_a_probe_that_ignores_its_timeout(matrix: Matrix) -> None:
    stuck = _StuckProbe()
    specs = [TargetSpec(f"stuck-{i}", "on-prem", bucket="s3://wandb-stuck",
                        source=InlineEnv(GC_ON), timeout=0.2) for i in range(2)]
    specs.append(TargetSpec("env-only", "on-prem", source=InlineEnv(GC_ON), timeout=0.2))
    order: list[str] = []
    try:
        report = audit(specs, matrix, {}, Redactor(), concurrency=2,
                       on_done=lambda t: order.append(t.name), probes=_Registry(stuck))  # type: ignore[arg-type]
    finally:
        stuck.release.set()
    # Both slots were stuck: env-only could only run once a deadline gave a slot back.
    assert order[0] == "stuck-0" and sorted(order) == ["env-only", "stuck-0", "stuck-1"]
    for target in report.targets[:2]:
        versioning = next(r for r in target.results if r.id == "bucket-versioning")
        assert versioning.status is Status.UNKNOWN
        assert versioning.summary.startswith("timeout: no verdict within 3.2 s (--timeout 0.2)")
        assert target.bucket == "s3://wandb-stuck"
    env_only = report.targets[2]
    assert env_only.exit_code() == 3  # no bucket: versioning unknown, env var judged
    assert next(r for r in env_only.results if r.id == "gc-env-var").status is Status.PASS


def test_a_crashing_target_is_unknown_and_the_rest_go_on(matrix: Matrix,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    real = schedule_module.check_prepared

    def flaky(prepared: Any, *args: Any) -> TargetReport:
        if prepared.spec.name == "boom":
            raise ValueError("bug")
        return real(prepared, *args)

    monkeypatch.setattr(schedule_module, "check_prepared", flaky)
    specs = [TargetSpec("boom", "on-prem", source=InlineEnv(GC_ON)),
             TargetSpec("fine", "shared-cloud")]
    report = audit(specs, matrix, {}, Redactor())
    assert report.targets[0].exit_code() == 3
    assert "check failed unexpectedly (ValueError)" in report.targets[0].results[0].summary
    assert report.targets[1].exit_code() == 0
    assert report.exit_code() == 3


def test_live_settings_that_cannot_be_read_make_that_deployment_unknown(
        matrix: Matrix, monkeypatch: pytest.MonkeyPatch) -> None:
    # A unit test of the scheduler's wrapping of the error (stubbing gccheck's own prepare);
    # real dead and misbehaving API servers are in test_audit's dead-kubeconfig test and
    # test_faults_k8s.
    real = audit_module.prepare

    def prepare(spec: TargetSpec, *args: Any) -> Any:
        if spec.reads_live:
            raise InputError("workload wandb/deployment/app: the API server did not answer")
        return real(spec, *args)

    monkeypatch.setattr(audit_module, "prepare", prepare)
    specs = [TargetSpec("live", "on-prem", source=Workload("wandb/deployment/app")),
             TargetSpec("saas", "shared-cloud")]
    report = audit(specs, matrix, {}, Redactor())
    live = report.targets[0]
    assert live.exit_code() == 3
    assert live.results[0].summary == ("settings could not be read: workload "
                                       "wandb/deployment/app: the API server did not answer")
    assert report.targets[1].exit_code() == 0


def test_progress_follows_completion_and_the_report_keeps_input_order(matrix: Matrix) -> None:
    class Slow:
        def probe(self, bucket: BucketLocation, settings: Settings,
                  options: ProbeOptions) -> BucketFacts:
            time.sleep(0.3 if bucket.bucket == "slow-bucket" else 0.0)
            return BucketFacts(provider=bucket.provider, missing=True, missing_reason="gone")

    specs = [TargetSpec("slow", "on-prem", bucket="s3://slow-bucket", source=InlineEnv(GC_ON)),
             TargetSpec("fast", "on-prem", bucket="s3://fast-bucket", source=InlineEnv(GC_ON))]
    order: list[str] = []
    report = audit(specs, matrix, {}, Redactor(), concurrency=2,
                   on_done=lambda t: order.append(t.name), probes=_Registry(Slow()))  # type: ignore[arg-type]
    assert order == ["fast", "slow"]
    assert [t.name for t in report.targets] == ["slow", "fast"]


# ---- exit codes ------------------------------------------------------------------------------

READY = {"name": "ready", "hosting": "shared-cloud"}
UNKNOWN = {"name": "unknown", "hosting": "on-prem", "env": GC_ON}  # no bucket: unverified
FAILING = {"name": "failing", "hosting": "on-prem", "env": {}}  # env var missing


def _fleet(tmp_path: Path, *entries: dict[str, Any]) -> str:
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({"deployments": list(entries)}))
    return str(path)


@pytest.mark.parametrize(("entries", "args", "code"), [
    ((READY,), (), 0),
    ((READY, UNKNOWN), (), 3),
    ((UNKNOWN, READY, FAILING), (), 1),
    ((FAILING, UNKNOWN), (), 1),
    ((READY, UNKNOWN, FAILING), ("--warn-only",), 0),
    ((READY, UNKNOWN), ("--fail-on", "fail"), 0),
    ((READY, FAILING), ("--fail-on", "fail"), 1),
    ((READY, FAILING), ("--fail-on", "never"), 0),
])
def test_exit_code_is_the_worst_deployment(tmp_path: Path, gccheck_inproc: Any,
                                           entries: tuple[dict[str, Any], ...],
                                           args: tuple[str, ...], code: int) -> None:
    run = gccheck_inproc("audit", _fleet(tmp_path, *entries), "--format", "json", *args)
    assert run.code == code, run.err
    data = json.loads(run.out)
    assert [t["name"] for t in data["targets"]] == [e["name"] for e in entries]


def test_strict_counts_advisories_everywhere(moto_server: S3Server, tmp_path: Path,
                                             gccheck_inproc: Any) -> None:
    # Versioned, but no rule expires noncurrent versions: an advisory warns.
    bucket = make_bucket(moto_server, "Enabled")
    fleet = _fleet(tmp_path, READY, {"name": "warns", "hosting": "on-prem", "env": GC_ON,
                                     "bucket": moto_server.url(bucket)})
    assert gccheck_inproc("audit", fleet, "-q").code == 0
    assert gccheck_inproc("audit", fleet, "-q", "--strict").code == 1


# ---- formats and output -------------------------------------------------------------------


def test_json_is_the_check_schema_with_one_target_per_deployment(tmp_path: Path,
                                                                 gccheck_inproc: Any) -> None:
    run = gccheck_inproc("audit", _fleet(tmp_path, READY, FAILING), "--format", "json")
    data = json.loads(run.out)
    assert set(data) == {"schema", "gccheck", "ready", "targets"} and data["schema"] == 1
    assert data["ready"] is False
    assert [(t["name"], t["hosting"], t["ready"]) for t in data["targets"]] == [
        ("ready", "shared-cloud", True), ("failing", "on-prem", False)]
    check = json.loads(gccheck_inproc("check", "--hosting", "shared-cloud", "--format",
                                      "json").out)
    assert set(check["targets"][0]) == set(data["targets"][0])


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "junit", "html", "prometheus"])
def test_every_format_writes_atomically_to_output(tmp_path: Path, gccheck_inproc: Any,
                                                  fmt: str) -> None:
    out = tmp_path / "reports" / f"audit.{fmt}"
    out.parent.mkdir()
    out.write_text("the previous report\n")
    run = gccheck_inproc("audit", _fleet(tmp_path, READY, FAILING), "--format", fmt,
                         "--output", str(out))
    assert run.code == 1 and run.out == ""
    assert run.err.strip() == ("gccheck audit: 2 deployments: 1 ready, 1 not ready, "
                               f"0 unverified; report written to {out}")
    text = out.read_text()
    assert "failing" in text and "the previous report" not in text
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]  # no temp file left


def test_a_failed_write_leaves_the_previous_report_whole(tmp_path: Path, gccheck_inproc: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import gccheck.output

    out = tmp_path / "audit.prom"
    out.write_text("the previous report\n")

    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gccheck.output.os, "replace", refuse)
    run = gccheck_inproc("audit", _fleet(tmp_path, READY), "--format", "prometheus",
                         "--output", str(out))
    assert run.code == 2 and "No space left on device" in run.err
    assert out.read_text() == "the previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.prom", "fleet.yaml"]


def test_output_into_a_missing_folder_is_an_input_error(tmp_path: Path,
                                                        gccheck_inproc: Any) -> None:
    run = gccheck_inproc("audit", _fleet(tmp_path, READY), "--output",
                         str(tmp_path / "nope" / "r.html"), "--format", "html")
    assert run.code == 2
    assert run.err.startswith("gccheck: error: --output ") and run.err.count("\n") == 1


def test_secrets_from_the_fleet_never_reach_the_report(moto_server: S3Server, tmp_path: Path,
                                                       gccheck_inproc: Any) -> None:
    # Short enough (20 characters) that gccheck would quote it: a key pasted into the GC
    # variable by mistake is shown in that variable's verdict unless the redactor learnt it
    # from the fleet entry's AWS_SECRET_ACCESS_KEY.
    secret = "fleetSecret/with+slash"[:20]
    url_secret = "urlsecret/with+slash000000000000000000"
    fleet = _fleet(tmp_path, {"name": "leaky", "hosting": "on-prem", "env": {
        "GORILLA_ARTIFACT_GC_ENABLED": secret, "AWS_SECRET_ACCESS_KEY": secret},
        "bucket": f"s3://AKIAFLEET000:{url_secret}@{moto_server.host}:{moto_server.port}/nope"})
    for fmt in ("table", "json", "markdown", "junit", "html", "prometheus"):
        run = gccheck_inproc("audit", fleet, "--format", fmt, "--debug")
        assert run.code == 1, run.err
        for planted in (secret, url_secret, "fleetSecret", "urlsecret"):
            assert planted not in run.out + run.err, (fmt, planted)
        if fmt != "prometheus":  # the others quote the GC variable's value: hidden
            # As each format shows text: HTML's entities, Markdown's backslash escapes.
            shown = run.out.replace("&#x27;", "'")
            if fmt == "markdown":
                shown = re.sub(r"\\(.)", r"\1", shown)
            assert "GORILLA_ARTIFACT_GC_ENABLED is '***'" in shown, fmt


def test_environment_variables_configure_the_audit(tmp_path: Path, gccheck_inproc: Any) -> None:
    fleet = _fleet(tmp_path, READY, UNKNOWN)
    run = gccheck_inproc("audit", env={"GCCHECK_FLEET": fleet, "GCCHECK_FORMAT": "prometheus",
                                       "GCCHECK_QUIET": "1", "GCCHECK_FAIL_ON": "fail",
                                       "GCCHECK_CONCURRENCY": "3"})
    assert run.code == 0 and run.err == ""
    assert run.out.startswith("# HELP gccheck_requirement_status")


def test_audit_format_variable_wins_and_leaves_check_alone(tmp_path: Path,
                                                           gccheck_inproc: Any) -> None:
    fleet = _fleet(tmp_path, READY)
    env = {"GCCHECK_AUDIT_FORMAT": "html", "GCCHECK_FORMAT": "json", "GCCHECK_QUIET": "1"}
    audited = gccheck_inproc("audit", fleet, env=env)
    assert audited.code == 0 and audited.out.startswith("<!DOCTYPE html>")
    checked = gccheck_inproc("check", "--hosting", "shared-cloud", env=env)
    assert checked.code == 0 and json.loads(checked.out)["schema"] == 1


# ---- progress --------------------------------------------------------------------------------


def test_render_bar() -> None:
    assert render_bar(0, 4, 0, 0, width=8) == "gccheck audit [........]  0/4  0 failing"
    assert render_bar(3, 4, 1, 2, width=8) == "gccheck audit [######..]  3/4  1 failing  2 unknown"
    assert render_bar(1000, 1000, 0, 0, width=4).startswith("gccheck audit [####]  1000/1000")
    assert render_bar(7, 1000, 0, 0).split()[3] == "7/1000"


def _target(name: str, status: Status) -> TargetReport:
    return TargetReport(name, "on-prem", None, None,
                        (Result("gc-env-var", Kind.REQUIREMENT, status, "x"),))


class _Tty(StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_redraws_in_place_throttled_and_erases_itself() -> None:
    now = [0.0]
    stream = _Tty()
    bar = ProgressBar(3, stream, interval=1.0, clock=lambda: now[0])
    bar.advance(_target("a", Status.FAIL))
    now[0] = 0.5
    bar.advance(_target("b", Status.UNKNOWN))  # within the interval: not drawn
    now[0] = 0.6
    bar.advance(_target("c", Status.PASS))  # the last one is always drawn
    bar.close()
    frames = stream.getvalue().split("\r")
    assert frames[1].startswith("gccheck audit [") and frames[1].rstrip().endswith(
        "1/3  1 failing")
    assert frames[2].rstrip().endswith("3/3  1 failing  1 unknown")
    assert frames[3].strip() == "" and frames[4] == ""
    assert (bar.done, bar.failing, bar.unknown) == (3, 1, 1)


def test_progress_only_on_a_terminal_and_not_when_quiet() -> None:
    assert isinstance(progress_for(5, StringIO()), NoProgress)
    assert isinstance(progress_for(5, _Tty(), quiet=True), NoProgress)
    assert isinstance(progress_for(5, _Tty()), ProgressBar)


def test_no_progress_on_stderr_when_it_is_not_a_terminal(tmp_path: Path) -> None:
    fleet = _fleet(tmp_path, READY, FAILING, UNKNOWN)
    run = run_gccheck("audit", fleet, "--format", "json")
    assert run.code == 1
    assert run.err == "gccheck audit: 3 deployments: 1 ready, 1 not ready, 1 unverified\n"
    quiet = run_gccheck("audit", fleet, "--format", "json", "--quiet")
    assert quiet.err == "" and json.loads(quiet.out)["ready"] is False


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    fleet = _fleet(tmp_path, READY, FAILING, UNKNOWN)
    code, out, err = run_on_a_tty("audit", fleet, "--format", "json", stream="stderr")
    assert code == 1
    assert "\r" in err and "3/3  1 failing  1 unknown" in err
    assert err.rstrip().endswith("gccheck audit: 3 deployments: 1 ready, 1 not ready, "
                                 "1 unverified")
    assert "gccheck audit [" not in out and json.loads(out)["ready"] is False
    code, out, err = run_on_a_tty("audit", fleet, "--format", "json", "--quiet", stream="stderr")
    assert err == "" and code == 1


# ---- end to end --------------------------------------------------------------------------


def test_fleet_mixing_clouds_and_sources(moto_server: S3Server, tmp_path: Path,
                                         gccheck_inproc: Any) -> None:
    versioned = make_bucket(moto_server, "Enabled", lifecycle=[NONCURRENT_RULE])
    suspended = make_bucket(moto_server, "Suspended")
    (tmp_path / "lab.env").write_text(f"GORILLA_ARTIFACT_GC_ENABLED=true\n"
                                      f"BUCKET={moto_server.url(suspended)}\n")
    fleet = {
        "defaults": {"hosting": "customer-managed-cloud", "env": GC_ON, "timeout": 5},
        "deployments": [
            {"name": "minio-ready", "hosting": "on-prem", "bucket": moto_server.url(versioned)},
            {"name": "lab-dotenv", "env-file": "lab.env"},
            {"name": "typo", "env": {"GORILLA_ARTIFACT_GC_ENABLED": "ture"},
             "bucket": moto_server.url(versioned)},
            {"name": "gcs-dedicated", "hosting": "dedicated-cloud", "bucket": "gs://wandb-dc"},
            {"name": "azure-saas", "hosting": "shared-cloud", "bucket": "az://acct01/files"},
            {"name": "ssc-on-minio", "hosting": "dedicated-cloud-ssc",
             "bucket": moto_server.url(versioned)},
        ],
    }
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(fleet))
    run = gccheck_inproc("audit", str(path), "--format", "json", "-q")
    data = json.loads(run.out)
    verdicts = {t["name"]: {r["id"]: r["status"] for r in t["results"]} for t in data["targets"]}
    assert verdicts["minio-ready"]["bucket-versioning"] == "pass"
    assert verdicts["minio-ready"]["gc-env-var"] == "pass"
    assert verdicts["lab-dotenv"]["bucket-versioning"] == "fail"  # suspended, from the env file
    assert verdicts["typo"]["gc-env-var"] == "fail"
    assert set(verdicts["gcs-dedicated"].values()) == {"not-required"}
    assert set(verdicts["azure-saas"].values()) == {"not-required"}
    assert verdicts["ssc-on-minio"]["ssc-provider"] == "fail"
    ready = {t["name"]: t["ready"] for t in data["targets"]}
    assert ready == {"minio-ready": True, "lab-dotenv": False, "typo": False,
                     "gcs-dedicated": True, "azure-saas": True, "ssc-on-minio": False}
    assert run.code == 1
    lab = next(t for t in data["targets"] if t["name"] == "lab-dotenv")
    assert lab["notes"][0].startswith("bucket from env file ")


def test_the_demo_ends_with_an_html_audit(tmp_path: Path) -> None:
    run = run_gccheck("demo", cwd=tmp_path, timeout=120)
    assert run.code == 0, run.err
    report = tmp_path / "gccheck-demo-report.html"
    assert f"HTML report: {report}" in run.err
    html = report.read_text()
    assert "minio-ready" in html and "minio-never-versioned" in html
    assert 'data-status="fail"' in html


def test_fleet_across_s3_gcs_azure_with_every_file_source(moto_server: S3Server, tmp_path: Path,
                                                          gccheck_inproc: Any) -> None:
    """One audit: S3 (inline env, Helm values), GCS (emulator) and Azure (Azurite)."""
    from support.cloud_servers import account_key, azurite, gcs_emulator

    versioned = make_bucket(moto_server, "Enabled", lifecycle=[NONCURRENT_RULE])
    never = make_bucket(moto_server)
    (tmp_path / "values.yaml").write_text(yaml.safe_dump({
        "global": {"bucket": {"provider": "s3", "name": f"{moto_server.host}:{moto_server.port}",
                              "path": never, "region": "us-east-1",
                              "accessKey": "AKIATESTKEY000000000",
                              "secretKey": "testsecret/with+slash000000000000000000"}},
        "app": {"env": GC_ON}}))
    keys = {"gcfleeton": account_key("fleet-on"), "gcfleetoff": account_key("fleet-off")}
    noncurrent = {"action": {"type": "Delete"}, "condition": {"daysSinceNoncurrentTime": 30}}
    with gcs_emulator() as gcs, azurite(keys) as blob:
        for account in keys:
            blob.bucket(account, soft_delete_days=7 if account == "gcfleeton" else None)
        gcs_on = gcs.bucket("wandb-fleet-gcs-on", versioning={"enabled": True},
                            lifecycle={"rule": [noncurrent]})
        gcs_off = gcs.bucket("wandb-fleet-gcs-off", versioning={"enabled": False})
        gcs_env = {**GC_ON, "STORAGE_EMULATOR_HOST": gcs.endpoint}
        fleet = {
            "defaults": {"hosting": "on-prem", "env": GC_ON, "timeout": 10,
                         "azure-blob-endpoint": blob.endpoint},
            "deployments": [
                {"name": "s3-inline", "bucket": moto_server.url(versioned)},
                {"name": "s3-helm-values", "values": "values.yaml"},
                {"name": "gcs-versioned", "bucket": f"gs://{gcs_on}", "env": gcs_env},
                {"name": "gcs-unversioned", "bucket": f"gs://{gcs_off}", "env": gcs_env},
                {"name": "azure-soft-delete", "bucket": blob.url("gcfleeton", "wandb")},
                {"name": "azure-no-soft-delete", "bucket": blob.url("gcfleetoff", "wandb")},
            ],
        }
        path = tmp_path / "fleet.yaml"
        path.write_text(yaml.safe_dump(fleet))
        run = gccheck_inproc("audit", str(path), "--format", "json", "-q")
    data = json.loads(run.out)
    status = {t["name"]: {r["id"]: r["status"] for r in t["results"]} for t in data["targets"]}
    assert status["s3-inline"]["bucket-versioning"] == "pass"
    assert status["s3-helm-values"]["bucket-versioning"] == "fail"
    assert status["s3-helm-values"]["gc-env-var"] == "pass"
    assert status["gcs-versioned"]["bucket-versioning"] == "pass"
    assert status["gcs-unversioned"]["bucket-versioning"] == "fail"
    assert status["azure-soft-delete"]["blob-soft-delete"] == "pass"
    assert status["azure-no-soft-delete"]["blob-soft-delete"] == "fail"
    assert {t["name"]: t["ready"] for t in data["targets"]} == {
        "s3-inline": True, "s3-helm-values": False, "gcs-versioned": True,
        "gcs-unversioned": False, "azure-soft-delete": True, "azure-no-soft-delete": False}
    assert run.code == 1
    for secret in (*keys.values(), "testsecret/with+slash"):
        assert secret not in run.out


def test_live_workloads_are_read_during_the_audit(moto_server: S3Server, tmp_path: Path,
                                                  gccheck_inproc: Any) -> None:
    """A reachable cluster gives its settings; an unreachable one makes only its entry unknown."""
    from support.k8s_api import KubeAPI, deployment, start, write_kubeconfig
    from support.ports import closed_port

    versioned = make_bucket(moto_server, "Enabled", lifecycle=[NONCURRENT_RULE])
    kube = start(KubeAPI())
    try:
        kube.api.add(deployment("wandb-app", containers=[{"name": "app", "env": [
            {"name": "GORILLA_ARTIFACT_GC_ENABLED", "value": "true"},
            {"name": "BUCKET", "value": moto_server.url(versioned)}]}]))
        write_kubeconfig(tmp_path / "live.kubeconfig", kube.url)
        write_kubeconfig(tmp_path / "dead.kubeconfig", f"http://127.0.0.1:{closed_port()}")
        path = _fleet(tmp_path,
                      {"name": "live", "hosting": "on-prem", "workload": "wandb/deployment/wandb-app",
                       "kubeconfig": "live.kubeconfig", "timeout": 5},
                      {"name": "dead-cluster", "hosting": "on-prem",
                       "workload": "wandb/deployment/wandb-app",
                       "kubeconfig": "dead.kubeconfig", "timeout": 2},
                      READY)
        run = gccheck_inproc("audit", path, "--format", "json", "-q")
    finally:
        kube.stop()
    data = json.loads(run.out)
    status = {t["name"]: {r["id"]: r for r in t["results"]} for t in data["targets"]}
    assert status["live"]["gc-env-var"]["status"] == "pass"
    assert status["live"]["bucket-versioning"]["status"] == "pass"
    dead = status["dead-cluster"]["gc-env-var"]
    assert dead["status"] == "unknown"
    assert dead["summary"].startswith("settings could not be read: could not connect to the "
                                    "Kubernetes API")
    assert [t["ready"] for t in data["targets"]] == [True, False, True]
    assert run.code == 3


def test_deployments_sharing_a_values_file_read_it_once(tmp_path: Path, matrix: Matrix,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """64 entries naming one 340 KB values file took 40 s and 866 MB when each read it anew:
    what a file-based source read is shared across the run (Settings are frozen)."""
    from gccheck.sources.helm_values import HelmValuesSource
    from gccheck.target import ValuesFiles

    values = tmp_path / "values.yaml"
    values.write_text("global:\n  extraEnv:\n    GORILLA_ARTIFACT_GC_ENABLED: 'true'\n")
    reads: list[tuple[str, ...]] = []
    real_read = HelmValuesSource.read

    def counted(self: HelmValuesSource) -> Settings:
        reads.append(self.paths)
        return real_read(self)

    monkeypatch.setattr(HelmValuesSource, "read", counted)
    specs = [TargetSpec(f"d{i}", "on-prem" if i % 2 else "customer-managed-cloud",
                        source=ValuesFiles((str(values),))) for i in range(8)]
    report = audit(specs, matrix, {}, Redactor(), concurrency=2)
    assert reads == [(str(values),)]
    assert [t.name for t in report.targets] == [f"d{i}" for i in range(8)]
    assert {r.status for t in report.targets for r in t.results if r.id == "gc-env-var"} == {
        Status.PASS}
