"""The shipped AWS policy is exactly enough: with it every verdict is complete; without any
one of its actions, the result that needs it turns `unknown` and names that action."""

from __future__ import annotations

import json

import pytest
from support.constants import NONCURRENT_RULE, REPO
from support.run import run_gccheck
from support.s3 import S3Server, enforce_iam, iam_user, make_bucket

POLICY = json.loads((REPO / "policies" / "aws-iam-policy.json").read_text())
ACTIONS: list[str] = POLICY["Statement"][0]["Action"]
# moto checks GetObjectLockConfiguration as s3:ListBucket where AWS checks
# s3:GetBucketObjectLockConfiguration (see FIELD-NOTES): tests grant and remove both together.
MOTO_ALIASES = {"s3:GetBucketObjectLockConfiguration": ["s3:ListBucket"]}
# Which result needs which action.
NEEDED_BY = {
    "s3:GetBucketVersioning": "bucket-versioning",
    "s3:GetLifecycleConfiguration": "noncurrent-never-expire",
    "s3:GetBucketObjectLockConfiguration": "object-lock-retention",
}


def granted(actions: list[str]) -> list[str]:
    return [*actions, *(alias for a in actions for alias in MOTO_ALIASES.get(a, []))]


def results(server: S3Server, bucket: str, key: str, secret: str) -> dict[str, dict[str, str]]:
    run = run_gccheck("check", "--hosting", "on-prem", "--format", "json", "--bucket",
                      server.url(bucket, key, secret),
                      env={"GORILLA_ARTIFACT_GC_ENABLED": "true"})
    return {r["id"]: r for r in json.loads(run.out)["targets"][0]["results"]}


def test_policy_lists_exactly_the_actions_gccheck_uses() -> None:
    from gccheck.probes.s3 import PERMISSIONS

    assert sorted(ACTIONS) == sorted(PERMISSIONS.values()) == sorted(NEEDED_BY)
    readme = (REPO / "README.md").read_text()
    assert "policies/" in readme
    for action in ACTIONS:
        assert action in readme


def test_exact_policy_gives_complete_verdicts(iam_moto_server: S3Server) -> None:
    bucket = make_bucket(iam_moto_server, "Enabled", lifecycle=[NONCURRENT_RULE])
    key, secret = iam_user(iam_moto_server, "exact", granted(ACTIONS))
    enforce_iam(iam_moto_server)
    got = results(iam_moto_server, bucket, key, secret)
    assert {r["status"] for r in got.values()} <= {"pass", "not-required"}, got


@pytest.mark.parametrize("removed", sorted(NEEDED_BY))
def test_each_removed_action_turns_its_result_unknown(iam_moto_server: S3Server,
                                                      removed: str) -> None:
    bucket = make_bucket(iam_moto_server, "Enabled", lifecycle=[NONCURRENT_RULE])
    key, secret = iam_user(iam_moto_server, "minus", granted([a for a in ACTIONS if a != removed]))
    enforce_iam(iam_moto_server)
    got = results(iam_moto_server, bucket, key, secret)
    affected = got[NEEDED_BY[removed]]
    assert affected["status"] == "unknown", affected
    assert removed in affected["summary"] + affected["detail"]
    others = {rid: r["status"] for rid, r in got.items()
              if rid != NEEDED_BY[removed] and not (removed == "s3:GetLifecycleConfiguration"
                                                    and rid == "lifecycle-expires-current")}
    assert "unknown" not in others.values(), others
