"""JUnit XML for GitLab and Jenkins: one test case per file, a failure per error."""

from __future__ import annotations

from typing import Any, TextIO
from xml.etree import ElementTree as ET

from agentos_contracts.diagnostics import Severity


def render(report: Any, stream: TextIO) -> None:
    by_file: dict[str, list[Any]] = {f: [] for f in report.files}
    for d in report.diagnostics:
        by_file.setdefault(d.file, []).append(d)
    failures = sum(1 for ds in by_file.values() if any(d.severity is Severity.ERROR for d in ds))
    suites = ET.Element("testsuites", name="agentos validate", tests=str(len(by_file)), failures=str(failures))
    suite = ET.SubElement(suites, "testsuite", name="agentos validate", tests=str(len(by_file)),
                          failures=str(failures), errors="0", skipped="0")
    for file in sorted(by_file):
        case = ET.SubElement(suite, "testcase", classname="agentos.validate", name=file, file=file)
        errors = [d for d in by_file[file] if d.severity is Severity.ERROR]
        for d in errors:
            fail = ET.SubElement(case, "failure", type=d.code,
                                 message=f"{d.file}:{d.line}:{d.column}: {d.code} {d.message}")
            fail.text = f"{d.file}:{d.line}:{d.column}: {d.code} {d.message}" + (f"\nhint: {d.hint}" if d.hint else "")
        warnings = [d for d in by_file[file] if d.severity is not Severity.ERROR]
        if warnings:
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(f"{d.file}:{d.line}:{d.column}: warning {d.code} {d.message}" for d in warnings)
    ET.indent(suites)
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n")
