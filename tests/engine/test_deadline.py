"""Local work never eats the network deadline, and what needs no network is never `unknown`
for lack of time (issue 15 item 6)."""

from __future__ import annotations

import random
import string
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from support.cpu_load import busy_cpus
from support.run import run_gccheck

from gccheck.audit import audit
from gccheck.bucket_url import BucketLocation
from gccheck.masking import Redactor
from gccheck.matrix import Matrix, load_matrix
from gccheck.model import BucketFacts, Settings, Status, VersioningState
from gccheck.probes.interface import ProbeOptions
from gccheck.rules import RULES
from gccheck.target import InlineEnv, TargetSpec


@pytest.fixture
def matrix() -> Matrix:
    return load_matrix(None, RULES)


class _Probe:
    """A probe that answers at once ("enabled"), or, stuck, never before it is released."""

    def __init__(self, stuck: bool) -> None:
        self.stuck = stuck
        self.release = threading.Event()

    def probe(self, bucket: BucketLocation, settings: Settings,
              options: ProbeOptions) -> BucketFacts:
        if self.stuck:
            self.release.wait(30)
        return BucketFacts(provider=bucket.provider, versioning=VersioningState.ENABLED)


class _Registry:
    def __init__(self, probe: _Probe) -> None:
        self.probe = probe

    def for_provider(self, provider: str) -> _Probe:
        return self.probe


def _statuses(report: Any) -> dict[str, Status]:
    return {r.id: r.status for r in report.targets[0].results}


def test_a_timed_out_bucket_keeps_the_verdicts_that_need_no_network(matrix: Matrix) -> None:
    stuck = _Probe(stuck=True)
    spec = TargetSpec("stuck", "on-prem", bucket="s3://wandb-stuck",
                      source=InlineEnv({"GORILLA_ARTIFACTS_GC_ENABLED": "true"}), timeout=0.2)
    try:
        report = audit([spec], matrix, {}, Redactor(), probes=_Registry(stuck))  # type: ignore[arg-type]
    finally:
        stuck.release.set()
    results = {r.id: r for r in report.targets[0].results}
    assert results["gc-env-var"].status is Status.FAIL  # not set: known without any answer
    assert "did you mean GORILLA_ARTIFACTS_GC_ENABLED" in results["gc-env-var"].summary
    assert results["bucket-versioning"].status is Status.UNKNOWN
    assert results["bucket-versioning"].summary.startswith("timeout: no verdict within")
    assert report.targets[0].bucket == "s3://wandb-stuck"
    assert report.exit_code() == 1


def test_judging_after_the_answer_is_not_cut_short(matrix: Matrix,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The bucket answered within the timeout; a slow (local) rule after that must not turn
    the answer into a timeout."""
    env_true = RULES["env-true"]

    def slow(*args: Any) -> Any:
        time.sleep(3.6)  # past the 3.2 s deadline of --timeout 0.2
        return env_true(*args)

    monkeypatch.setitem(RULES, "env-true", slow)
    spec = TargetSpec("slow-rules", "on-prem", bucket="s3://wandb-ok",
                      source=InlineEnv({"GORILLA_ARTIFACT_GC_ENABLED": "true"}), timeout=0.2)
    report = audit([spec], matrix, {}, Redactor(), probes=_Registry(_Probe(stuck=False)))  # type: ignore[arg-type]
    statuses = _statuses(report)
    assert statuses["gc-env-var"] is Status.PASS
    assert statuses["bucket-versioning"] is Status.PASS
    assert report.exit_code() == 0


def _hostile_env_file(path: Path) -> None:
    """40,000 names (about 1.1 MB), none of them the GC variable: half random names of its
    length, half look-alikes that share a third of it but are more than two edits away."""
    rng = random.Random(15)
    letters = string.ascii_uppercase + "_"
    lines = []
    for i in range(20_000):
        name = "".join(rng.choice(letters) for _ in range(rng.randint(25, 29)))
        lines.append(f"X{name}={i}")
        lookalike = "GORILLA_A" + "".join(rng.choice("QXZ") for _ in range(18))
        lines.append(f"{lookalike}{i}=v")
    path.write_text("\n".join(lines) + "\n")


def test_a_huge_env_file_without_the_variable_fails_under_cpu_load(tmp_path: Path) -> None:
    env_file = tmp_path / "wandb.env"
    _hostile_env_file(env_file)
    assert env_file.stat().st_size > 1_000_000
    with busy_cpus():
        run = run_gccheck("check", "--hosting", "on-prem", "--env-file", str(env_file),
                          "--timeout", "1", "--fail-on", "fail", "--format", "json")
    assert run.code == 1, (run.out[-2000:], run.err)
    assert '"status": "fail"' in run.out and "timeout" not in run.out
