"""JUnit: every test case id is unique across a fleet, and the file is always XML (issue 13,
item 3)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import yaml

from gccheck.formats import get_format
from gccheck.model import Kind, Report, Result, Status, TargetReport


def _ids(xml_text: str) -> list[tuple[str | None, str | None]]:
    root = ET.fromstring(xml_text)
    return [(c.get("classname"), c.get("name")) for c in root.iter("testcase")]


def test_two_deployments_of_one_hosting_type_have_distinct_test_ids() -> None:
    results = (Result("gc-env-var", Kind.REQUIREMENT, Status.FAIL, "not set"),
               Result("bucket-versioning", Kind.REQUIREMENT, Status.PASS, "enabled"))
    report = Report((TargetReport("prod-us", "on-prem", "aws", "s3://a", results),
                     TargetReport("prod-eu", "on-prem", "aws", "s3://b", results)), "1")
    ids = _ids(get_format("junit").render(report))
    assert len(ids) == 4 and len(set(ids)) == 4
    assert ("gccheck.prod-eu.on-prem", "gc-env-var") in ids


def test_an_audit_gives_each_deployment_its_own_test_ids(tmp_path: Path,
                                                         gccheck_inproc: Any) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(yaml.safe_dump({"deployments": [
        {"name": name, "hosting": "on-prem", "env": {}} for name in ("lab", "prod", "staging")]}))
    run = gccheck_inproc("audit", str(fleet), "--format", "junit", "-q")
    assert run.code == 1, run.err
    ids = _ids(run.out)
    assert len(ids) == 12 and len(set(ids)) == len(ids)
    assert {classname for classname, _ in ids} == {
        "gccheck.lab.on-prem", "gccheck.prod.on-prem", "gccheck.staging.on-prem"}
