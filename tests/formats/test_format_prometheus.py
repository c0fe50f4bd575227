"""Prometheus text format, parsed back with prometheus_client's own parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from gccheck.formats.prometheus import Format, escape_label
from gccheck.model import Kind, Report, Result, Status, TargetReport

REQ, ADV = Kind.REQUIREMENT, Kind.ADVISORY
ODD = 'lab "α"\\east\nwing'


def _report(strict: bool = False) -> Report:
    return Report(targets=(
        TargetReport("prod", "on-prem", "aws", "s3://b", (
            Result("gc-env-var", REQ, Status.PASS, ""),
            Result("bucket-versioning", REQ, Status.FAIL, ""),
            Result("blob-soft-delete", REQ, Status.NOT_REQUIRED, ""),
            Result("noncurrent-never-expire", ADV, Status.WARN, ""),
            Result("object-lock-retention", ADV, Status.UNKNOWN, ""),
        )),
        TargetReport(ODD, "customer-managed-cloud", None, None, (
            Result("gc-env-var", REQ, Status.PASS, ""),
            Result("bucket-versioning", REQ, Status.UNKNOWN, ""),
        )),
        TargetReport("ok", "on-prem", "aws", "s3://c", (
            Result("gc-env-var", REQ, Status.PASS, ""),
            Result("noncurrent-never-expire", ADV, Status.WARN, ""),
        )),
    ), version="1.2.3", strict=strict, generated_at=1_700_000_123.5)


def _families(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge" and family.documentation
        # No sample carries a timestamp (the textfile collector rejects them).
        assert all(s.timestamp is None for s in family.samples), family.name
        out[family.name] = [(dict(s.labels), s.value) for s in family.samples]
    return out


def test_parses_back_with_the_documented_values() -> None:
    families = _families(Format().render(_report()))
    status = {(s["deployment"], s["requirement"]): (s["hosting"], v)
              for s, v in families["gccheck_requirement_status"]}
    assert status == {
        ("prod", "gc-env-var"): ("on-prem", 0.0),
        ("prod", "bucket-versioning"): ("on-prem", 1.0),
        ("prod", "blob-soft-delete"): ("on-prem", 3.0),
        (ODD, "gc-env-var"): ("customer-managed-cloud", 0.0),
        (ODD, "bucket-versioning"): ("customer-managed-cloud", 2.0),
        ("ok", "gc-env-var"): ("on-prem", 0.0),
    }
    advisories = {(s["deployment"], s["advisory"]): v for s, v in families["gccheck_advisory_status"]}
    assert advisories == {("prod", "noncurrent-never-expire"): 1.0,
                          ("prod", "object-lock-retention"): 2.0,
                          ("ok", "noncurrent-never-expire"): 1.0}
    ready = {s["deployment"]: v for s, v in families["gccheck_deployment_ready"]}
    assert ready == {"prod": 0.0, ODD: 0.0, "ok": 1.0}
    assert families["gccheck_audit_timestamp_seconds"] == [({}, 1_700_000_123.5)]
    assert families["gccheck_build_info"] == [({"version": "1.2.3"}, 1.0)]


def test_strict_changes_readiness_only() -> None:
    families = _families(Format().render(_report(strict=True)))
    assert {s["deployment"]: v for s, v in families["gccheck_deployment_ready"]}["ok"] == 0.0


def test_label_escaping_and_help_type_lines() -> None:
    text = Format().render(_report())
    assert escape_label(ODD) == 'lab \\"α\\"\\\\east\\nwing'
    assert f'deployment="{escape_label(ODD)}"' in text
    lines = text.splitlines()
    assert lines[0].startswith("# HELP gccheck_requirement_status ")
    assert lines[1] == "# TYPE gccheck_requirement_status gauge"
    # No sample carries a timestamp (the textfile collector rejects them).
    samples = [line for line in lines if not line.startswith("#")]
    assert all(len(line.rsplit("} ", 1)[-1].split()) == 1 for line in samples if "}" in line)
    assert text.endswith("\n")


def test_an_empty_fleet_has_only_the_audit_metrics() -> None:
    families = _families(Format().render(Report((), "1", generated_at=5.0)))
    assert families["gccheck_requirement_status"] == []
    assert families["gccheck_audit_timestamp_seconds"] == [({}, 5.0)]
