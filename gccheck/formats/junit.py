"""JUnit XML: one test suite per target, one test case per requirement.

fail -> <failure>, unknown -> <error> (the check could not run), not-required -> <skipped>.
Advisories that warn are listed in the suite's <system-out>.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gccheck.model import Kind, Report, Status


class Format:
    def render(self, report: Report, color: bool = False) -> str:
        suites = ET.Element("testsuites", name="gccheck")
        for target in report.targets:
            required = [r for r in target.results if r.kind is Kind.REQUIREMENT]
            suite = ET.SubElement(
                suites, "testsuite", name=f"{target.name} ({target.hosting})",
                tests=str(len(required)),
                failures=str(sum(r.status is Status.FAIL for r in required)),
                errors=str(sum(r.status is Status.UNKNOWN for r in required)),
                skipped=str(sum(r.status is Status.NOT_REQUIRED for r in required)))
            for r in required:
                case = ET.SubElement(suite, "testcase", classname=f"gccheck.{target.hosting}",
                                     name=r.id)
                text = "\n".join(x for x in (r.detail, r.remediation or "") if x)
                if r.status is Status.FAIL:
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
