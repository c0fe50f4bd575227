"""JSON, schema 1 (documented in the README). Additive changes only within a schema version."""

from __future__ import annotations

import json
from typing import Any

from gccheck.model import Report, Result, TargetReport, Verdict

SCHEMA = 1


def result_dict(result: Result) -> dict[str, Any]:
    return {
        "id": result.id,
        "kind": result.kind.value,
        "status": result.status.value,
        "summary": result.summary,
        "detail": result.detail,
        "remediation": result.remediation,
        "source": result.source,
    }


def target_dict(target: TargetReport, verdict: Verdict) -> dict[str, Any]:
    return {
        "name": target.name,
        "hosting": target.hosting,
        "provider": target.provider,
        "bucket": target.bucket,
        "ready": verdict.ready,
        "verdict": verdict.value,
        "notes": list(target.notes),
        "results": [result_dict(r) for r in target.results],
    }


def report_dict(report: Report) -> dict[str, Any]:
    verdicts = report.verdicts()
    return {
        "schema": SCHEMA,
        "gccheck": report.version,
        "ready": all(v.ready for v in verdicts),
        "targets": [target_dict(t, v) for t, v in zip(report.targets, verdicts, strict=True)],
    }


class Format:
    def render(self, report: Report, color: bool = False, width: int | None = None) -> str:
        return json.dumps(report_dict(report), indent=2) + "\n"
