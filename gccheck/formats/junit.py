"""JUnit XML: one test suite per target, one test case per requirement.

fail -> <failure>, unknown -> <error> (the check could not run), not-required -> <skipped>.
Advisories are listed in the suite's <system-out>; under --strict a warning one is also a
failing test case, as it fails the run.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gccheck.model import Kind, Report, Status


class Format:
    def render(self, report: Report, color: bool = False) -> str:
        suites = ET.Element("testsuites", name="gccheck")
        for target in report.targets:
            # Under --strict an advisory that warns fails the run, so it is a test case too.
            cases = [r for r in target.results if r.kind is Kind.REQUIREMENT
                     or (report.strict and r.status is Status.WARN)]
            failing = {r.id for r in cases if r.status is Status.FAIL
                       or (report.strict and r.status is Status.WARN)}
            suite = ET.SubElement(
                suites, "testsuite", name=f"{target.name} ({target.hosting})",
                tests=str(len(cases)), failures=str(len(failing)),
                errors=str(sum(r.status is Status.UNKNOWN for r in cases)),
                skipped=str(sum(r.status is Status.NOT_REQUIRED for r in cases)))
            for r in cases:
                case = ET.SubElement(suite, "testcase", classname=f"gccheck.{target.hosting}",
                                     name=r.id)
                text = "\n".join(x for x in (r.detail, r.remediation or "") if x)
                if r.id in failing:
                    ET.SubElement(case, "failure", message=r.summary).text = text
                elif r.status is Status.UNKNOWN:
                    ET.SubElement(case, "error", message=r.summary).text = text
                elif r.status is Status.NOT_REQUIRED:
                    ET.SubElement(case, "skipped", message=r.summary)
                else:
                    ET.SubElement(case, "system-out").text = r.summary
            advisories = [f"{r.status.value}: {r.id}: {r.summary}" for r in target.results
                          if r.kind is Kind.ADVISORY]
            if advisories:
                ET.SubElement(suite, "system-out").text = "\n".join(advisories)
        ET.indent(suites)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(
            suites, encoding="unicode") + "\n"
