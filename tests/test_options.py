"""One options table: `check`'s flags and the fleet file's keys cannot drift apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from support.constants import REPO

from gccheck.cli import check
from gccheck.errors import InputError
from gccheck.fleet import ENTRY_KEYS, parse_fleet
from gccheck.matrix import load_matrix
from gccheck.options import TARGET_OPTIONS
from gccheck.rules import RULES

MATRIX = load_matrix(None, RULES)


def _flags() -> dict[str, click.Option]:
    return {opt.opts[0]: opt for opt in check.params if isinstance(opt, click.Option)}


def test_every_option_is_a_flag_with_its_variable_and_a_fleet_key() -> None:
    flags = _flags()
    for option in TARGET_OPTIONS:
        if option.flag:
            param = flags[f"--{option.key}"]
            envvars = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar)
            assert envvars[0] == "GCCHECK_" + option.key.upper().replace("-", "_")
            assert param.help
        assert option.key in ENTRY_KEYS
    # ... and no flag of a deployment exists outside the table.
    run_flags = {"--format", "--fail-on", "--termination-message", "--matrix", "--output",
                 "--strict", "--warn-only", "--debug", "--help"}
    assert set(flags) - run_flags == {f"--{o.key}" for o in TARGET_OPTIONS if o.flag}


# One bad value per option that is both a flag and a fleet key: both say the same thing.
BAD = [
    ("timeout", "700", 700, "700 is outside 0.1..600 seconds"),
    ("timeout", "nan", float("nan"), "is not a number of seconds"),
    ("azure-plane", "both", "both", "expected one of mgmt, data, got 'both'"),
    ("endpoint-url", "minio:9000", "minio:9000",
     "'minio:9000' must be an http:// or https:// URL with a host"),
    ("azure-blob-endpoint", "ftp://x", "ftp://x", "must be an http:// or https:// URL"),
    ("name", "prod\x1b[2J", "prod\x1b[2J", "must not contain control characters"),
    # Longer names would be cut where a report caps a field, and two could collide.
    ("name", "x" * 201, "x" * 201, "201 characters, at most 200"),
    ("workload", "wandb/pod/x", "wandb/pod/x", "unknown kind 'pod'"),
    ("aws-profile", "a\tb", "a\tb", "must not contain control characters"),
    ("release-name", "Prod", "Prod", "'Prod' is not a Helm release name"),
    ("release-name", "x" * 54, "x" * 54, "at most 53 characters"),
    ("namespace", "team.a", "team.a", "'team.a' is not a Kubernetes namespace name"),
    ("chart", "c\x1b[2J", "c\x1b[2J", "must not contain control characters"),
]


@pytest.mark.parametrize(("key", "flag_value", "fleet_value", "problem"), BAD)
def test_a_bad_value_is_refused_alike_as_a_flag_and_as_a_fleet_key(
        gccheck_inproc: Any, key: str, flag_value: str, fleet_value: Any, problem: str) -> None:
    args = ["--hosting", "on-prem"] if key != "hosting" else []
    run = gccheck_inproc("check", *args, f"--{key}", flag_value)
    assert run.code == 2, run.err
    assert f"--{key}: " in run.err and problem in run.err, run.err
    entry = {"name": "a", "hosting": "on-prem", key: fleet_value}
    with pytest.raises(InputError) as raised:
        parse_fleet({"deployments": [entry]}, "fleet.yaml", MATRIX, base=Path("/base"))
    assert f": {key}: " in str(raised.value) and problem in str(raised.value)


def test_azure_subscription_keeps_azures_own_variable(gccheck_inproc: Any) -> None:
    param = _flags()["--azure-subscription"]
    assert list(param.envvar) == ["GCCHECK_AZURE_SUBSCRIPTION", "AZURE_SUBSCRIPTION_ID"]


def test_hosting_help_lists_the_types_of_matrix_yaml(tmp_path: Path, gccheck_inproc: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import gccheck.matrix

    data = yaml.safe_load(gccheck.matrix.default_matrix_path().read_text())
    data["hosting-types"]["sovereign-cloud"] = {"title": "Sovereign", "requires": []}
    custom = tmp_path / "matrix.yaml"
    custom.write_text(yaml.safe_dump(data))
    monkeypatch.setattr(gccheck.matrix, "default_matrix_path", lambda: custom)
    run = gccheck_inproc("check", "--help")
    assert run.code == 0
    assert "sovereign-cloud" in " ".join(run.out.replace("-\n", "-").split())


def test_every_option_sets_a_target_spec_field_and_every_field_has_an_option() -> None:
    from dataclasses import fields

    from gccheck.options import SOURCE_KEYS
    from gccheck.target import TargetSpec

    assert {o.field for o in TARGET_OPTIONS} == {f.name for f in fields(TargetSpec)}
    assert {o.key for o in TARGET_OPTIONS if o.field == "source"} >= set(SOURCE_KEYS)


def test_the_fleet_reference_documents_every_key() -> None:
    docs = (REPO / "docs" / "audit.md").read_text()
    keys = docs.split("### Keys", 1)[1].split("###", 1)[0]
    assert [k for k in ENTRY_KEYS if f"`{k}`" not in keys] == []
