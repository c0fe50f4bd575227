"""JUnit XML: one test suite per target, one test case per requirement.

fail -> <failure>, unknown -> <error> (the check could not run), not-required -> <skipped>.
Advisories are listed in the suite's <system-out>; under --strict a warning one is also a
failing test case, as it fails the run. A test case's classname carries the deployment, so
two deployments of one hosting type never share a test id.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gccheck.model import Kind, Report, Status
from gccheck.neutral import neutralise


def _xml(text: str) -> str:
    """Text XML 1.0 can hold: the report is neutralised already; this keeps a Format used
    on its own from ever writing a file CI cannot parse."""
    return neutralise(text, None, multiline=True)


class Format:
    def render(self, report: Report, color: bool = False, width: int | None = None) -> str:
        suites = ET.Element("testsuites", name="gccheck")
        for target, judged in zip(report.targets, report.judgements(), strict=True):
            # Under --strict an advisory that warns fails the run, so it is a test case too.
            failing = {r.id for r in judged.failing}
            cases = [r for r in target.results
                     if r.kind is Kind.REQUIREMENT or r.id in failing]
            suite = ET.SubElement(
                suites, "testsuite", name=_xml(f"{target.name} ({target.hosting})"),
                tests=str(len(cases)), failures=str(len(failing)),
                errors=str(sum(r.status is Status.UNKNOWN for r in cases)),
                skipped=str(sum(r.status is Status.NOT_REQUIRED for r in cases)))
            classname = _xml(f"gccheck.{target.name}.{target.hosting}")
            for r in cases:
                case = ET.SubElement(suite, "testcase", classname=classname, name=_xml(r.id))
                text = _xml("\n".join(x for x in (r.detail, r.remediation or "") if x))
                if r.id in failing:
                    ET.SubElement(case, "failure", message=_xml(r.summary)).text = text
                elif r.status is Status.UNKNOWN:
                    ET.SubElement(case, "error", message=_xml(r.summary)).text = text
                elif r.status is Status.NOT_REQUIRED:
                    ET.SubElement(case, "skipped", message=_xml(r.summary))
                else:
                    ET.SubElement(case, "system-out").text = _xml(r.summary)
            advisories = [f"{r.status.value}: {r.id}: {r.summary}" for r in target.results
                          if r.kind is Kind.ADVISORY]
            if advisories:
                ET.SubElement(suite, "system-out").text = _xml("\n".join(advisories))
        ET.indent(suites)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(
            suites, encoding="unicode") + "\n"
