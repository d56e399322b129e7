"""JUnit XML for GitLab and Jenkins: one test case per file, a failure per error.

The output validates against Jenkins' ``junit-10.xsd`` (the schema pytest checks its
own reports with): so no ``file`` attribute on ``<testcase>``; the file is the test
case's ``name`` and every failure's text starts with ``file:line:column``, which GitLab
and Jenkins both show. XML 1.0 cannot hold most control characters even escaped, so
any in a message are written as visible ``\\xNN`` escapes: the document always parses.
"""

from __future__ import annotations

import re
from typing import Any, TextIO
from xml.etree import ElementTree as ET

from agentos_contracts.diagnostics import Severity
from agentos_contracts.report import NOT_FINDINGS

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 forbids replaced by a visible escape."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text)


def _where(d: Any) -> str:
    return f"{d.file}:{d.line}:{d.column}: {d.code} {d.message}"


def render(report: Any, stream: TextIO) -> None:
    command = getattr(report, "command", "validate")
    by_file: dict[str, list[Any]] = {f: [] for f in report.files}
    for d in report.diagnostics:
        by_file.setdefault(d.file, []).append(d)
    failures = sum(1 for ds in by_file.values() if any(d.severity is Severity.ERROR for d in ds))
    skipped = {f: [d for d in ds if d.code in NOT_FINDINGS] for f, ds in by_file.items()}
    name = f"agentos {command}"
    suites = ET.Element("testsuites", name=name, tests=str(len(by_file)), failures=str(failures), errors="0")
    suite = ET.SubElement(suites, "testsuite", name=name, tests=str(len(by_file)),
                          failures=str(failures), errors="0", skipped=str(sum(1 for v in skipped.values() if v)))
    for file in sorted(by_file):
        case = ET.SubElement(suite, "testcase", classname=f"agentos.{command}", name=xml_text(file))
        for d in skipped[file][:1]:  # a folder scan left this file out: not ours
            ET.SubElement(case, "skipped", message=xml_text(d.message))
        by_file[file] = [d for d in by_file[file] if d.code not in NOT_FINDINGS]
        errors = [d for d in by_file[file] if d.severity is Severity.ERROR]
        for d in errors:
            fail = ET.SubElement(case, "failure", type=d.code, message=xml_text(_where(d)))
            fail.text = xml_text(_where(d) + (f"\nhint: {d.hint}" if d.hint else ""))
        others = [d for d in by_file[file] if d.severity is not Severity.ERROR]
        if others:
            out = ET.SubElement(case, "system-out")
            out.text = xml_text("\n".join(f"{d.file}:{d.line}:{d.column}: {d.severity.value} {d.code} {d.message}"
                                          for d in others))
    ET.indent(suites)
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n")
