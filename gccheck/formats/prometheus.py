"""Prometheus text exposition format, for node_exporter's textfile collector or a Pushgateway.

Metrics (one series per deployment and check):

    gccheck_requirement_status{deployment, hosting, requirement}
        0 pass, 1 fail, 2 unknown (could not be verified), 3 not required
    gccheck_advisory_status{deployment, hosting, advisory}
        0 pass, 1 warn, 2 unknown
    gccheck_deployment_ready{deployment, hosting}
        1 when every requirement passes (with --strict: and no advisory warns), else 0
    gccheck_audit_timestamp_seconds
        when the audit ran (Unix time): alert when it gets old
    gccheck_build_info{version}
        always 1

Alert on `gccheck_requirement_status == 1` (fails) and `== 2` (unverified).
"""

from __future__ import annotations

from collections.abc import Mapping

from gccheck.model import Kind, Report, Status

REQUIREMENT_VALUES = {
    Status.PASS: 0,
    Status.FAIL: 1,
    Status.UNKNOWN: 2,
    Status.NOT_REQUIRED: 3,
    Status.WARN: 1,  # requirements never warn; counted as failing if one ever does
}
ADVISORY_VALUES = {
    Status.PASS: 0,
    Status.WARN: 1,
    Status.FAIL: 1,
    Status.UNKNOWN: 2,
    Status.NOT_REQUIRED: 0,
}


def escape_label(value: str) -> str:
    """A label value as the exposition format wants it: \\, " and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items()) + "}"


def _family(out: list[str], name: str, help_text: str) -> None:
    out.append(f"# HELP {name} {_help(help_text)}")
    out.append(f"# TYPE {name} gauge")


def _statuses(out: list[str], report: Report, kind: Kind, label: str,
              values: Mapping[Status, int]) -> None:
    """One gccheck_<label>_status sample per deployment and result of that kind."""
    for t in report.targets:
        for r in t.results:
            if r.kind is kind:
                out.append(f"gccheck_{label}_status" + _labels(
                    deployment=t.name, hosting=t.hosting, **{label: r.id})
                    + f" {values[r.status]}")


class Format:
    def render(self, report: Report, color: bool = False, width: int | None = None) -> str:
        out: list[str] = []
        _family(out, "gccheck_requirement_status", "W&B artifact GC requirement per deployment: "
                "0 pass, 1 fail, 2 unknown (could not be verified), 3 not required.")
        _statuses(out, report, Kind.REQUIREMENT, "requirement", REQUIREMENT_VALUES)
        _family(out, "gccheck_advisory_status", "W&B artifact GC advisory per deployment: "
                "0 pass, 1 warn, 2 unknown.")
        _statuses(out, report, Kind.ADVISORY, "advisory", ADVISORY_VALUES)
        _family(out, "gccheck_deployment_ready", "1 when every GC requirement of the "
                "deployment passes, else 0.")
        for t, verdict in zip(report.targets, report.verdicts(), strict=True):
            out.append("gccheck_deployment_ready" + _labels(deployment=t.name, hosting=t.hosting)
                       + f" {1 if verdict.ready else 0}")
        _family(out, "gccheck_audit_timestamp_seconds", "When the gccheck audit ran, in Unix "
                "time.")
        out.append(f"gccheck_audit_timestamp_seconds {report.generated_at:.3f}")
        _family(out, "gccheck_build_info", "The gccheck version that wrote these metrics.")
        out.append("gccheck_build_info" + _labels(version=report.version) + " 1")
        return "\n".join(out) + "\n"
