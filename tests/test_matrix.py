from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from support.constants import REPO

from gccheck.errors import InputError
from gccheck.matrix import default_matrix_path, load_matrix
from gccheck.rules import RULES


def shipped() -> dict:  # type: ignore[type-arg]
    data = yaml.safe_load((REPO / "matrix.yaml").read_text())
    assert isinstance(data, dict)
    return data


def test_shipped_matrix_matches_the_documented_table() -> None:
    matrix = load_matrix(None, RULES)
    requires = {h.id: set(h.requires) for h in matrix.hosting_types.values()}
    storage = {"bucket-versioning", "blob-soft-delete"}
    assert requires == {
        "shared-cloud": set(),
        "shared-cloud-ssc": storage | {"ssc-provider"},
        "dedicated-cloud": set(),
        "dedicated-cloud-ssc": storage | {"ssc-provider"},
        "customer-managed-cloud": storage | {"gc-env-var"},
        "on-prem": storage | {"gc-env-var"},
    }
    assert matrix.ssc_providers == {"aws", "gcp"}
    assert matrix.requirements["blob-soft-delete"].providers == {"azure"}
    assert "azure" not in (matrix.requirements["bucket-versioning"].providers or ())
    assert matrix.requirements["gc-env-var"].variable == "GORILLA_ARTIFACT_GC_ENABLED"


def test_checkout_default_path_is_the_repo_file() -> None:
    assert default_matrix_path().read_text() == (REPO / "matrix.yaml").read_text()


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "matrix.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def mutate(change: str) -> dict:  # type: ignore[type-arg]
    data = shipped()
    if change == "unknown-top":
        data["colour"] = "blue"
    elif change == "unknown-hosting-key":
        data["hosting-types"]["on-prem"]["needs"] = []
    elif change == "dangling-requirement":
        data["hosting-types"]["on-prem"]["requires"].append("bucket-encryption")
    elif change == "dangling-provider":
        data["requirements"]["blob-soft-delete"]["providers"] = ["oracle"]
    elif change == "dangling-ssc-provider":
        data["secure-storage-connector"]["providers"] = ["aws", "ibm"]
    elif change == "unknown-check":
        data["requirements"]["gc-env-var"]["check"] = "env-maybe"
    elif change == "missing-title":
        del data["hosting-types"]["on-prem"]["title"]
    elif change == "bad-version":
        data["version"] = 7
    elif change == "requires-not-list":
        data["hosting-types"]["on-prem"]["requires"] = "gc-env-var"
    return data


@pytest.mark.parametrize("change, key", [
    ("unknown-top", "colour"),
    ("unknown-hosting-key", "hosting-types.on-prem.needs"),
    ("dangling-requirement", "hosting-types.on-prem.requires[3]"),
    ("dangling-provider", "requirements.blob-soft-delete.providers[0]"),
    ("dangling-ssc-provider", "secure-storage-connector.providers[1]"),
    ("unknown-check", "requirements.gc-env-var.check"),
    ("missing-title", "hosting-types.on-prem.title"),
    ("bad-version", "version"),
    ("requires-not-list", "hosting-types.on-prem.requires"),
])
def test_invalid_matrix_names_file_and_key(tmp_path: Path, change: str, key: str) -> None:
    path = write(tmp_path, mutate(change))
    with pytest.raises(InputError) as error:
        load_matrix(path, RULES)
    message = str(error.value)
    assert str(path) in message and key in message
    assert "\n" not in message


@pytest.mark.parametrize("text, fragment", [
    ("version: 1\nproviders: [\n", "not valid YAML"),
    ("- just\n- a list\n", "expected a mapping"),
    ("", "expected a mapping"),
])
def test_malformed_matrix_files(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        load_matrix(write(tmp_path, text), RULES)


def test_cli_reports_bad_matrix_with_exit_2(tmp_path: Path, gccheck_inproc) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, mutate("dangling-requirement"))
    run = gccheck_inproc("check", "--hosting", "on-prem", "--matrix", str(path))
    assert run.code == 2
    assert run.err.count("\n") == 1 and "bucket-encryption" in run.err


def test_a_bucket_on_a_provider_the_custom_matrix_leaves_out(tmp_path: Path,
                                                            gccheck_inproc) -> None:  # type: ignore[no-untyped-def]
    # A trimmed matrix without coreweave: the other verdicts still stand (gc-env-var fails).
    data = yaml.safe_load(default_matrix_path().read_text())
    del data["providers"]["coreweave"]
    for section in ("requirements", "advisories"):
        for check in data[section].values():
            if "coreweave" in check.get("providers", []):
                check["providers"].remove("coreweave")
    path = tmp_path / "matrix.yaml"
    path.write_text(yaml.safe_dump(data))
    run = gccheck_inproc("check", "--hosting", "on-prem", "--matrix", str(path), "--format",
                         "json", "--bucket", "cw://AKIACW:cwsecretcwsecret@cwobject.com/bucket")
    assert run.code == 1, run.err
    results = {r["id"]: r for r in json.loads(run.out)["targets"][0]["results"]}
    assert results["gc-env-var"]["status"] == "fail"
    assert results["bucket-versioning"]["status"] == "not-required"
    assert results["bucket-versioning"]["summary"] == "does not apply to coreweave"
