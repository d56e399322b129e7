"""Each machine format is accepted by its consumer's own definition, whatever the paths and messages hold.

SARIF against the OASIS 2.1.0 schema (with ``uri`` / ``uri-reference`` formats checked
by an RFC 3986 validator), JUnit against Jenkins' junit-10.xsd, GitHub workflow
commands against their escaping rules.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import jsonschema
import pytest
import xmlschema
from hypothesis import given, settings
from hypothesis import strategies as st
from rfc3986_validator import validate_rfc3986

from agentos_contracts.diagnostics import Diagnostic, Severity, Span
from agentos_contracts.report import github, junit, sarif

SCHEMAS = Path(__file__).resolve().parents[1] / "fixtures" / "report" / "schemas"
SARIF_SCHEMA = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
JUNIT_XSD = xmlschema.XMLSchema10(str(SCHEMAS / "junit-10.xsd"))

FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    return not isinstance(value, str) or bool(validate_rfc3986(value, rule="URI"))


@FORMATS.checks("uri-reference")
def _uri_reference(value: object) -> bool:
    return not isinstance(value, str) or bool(validate_rfc3986(value, rule="URI_reference"))


@dataclass
class Report:
    files: list[str]
    diagnostics: list[Diagnostic]
    command: str = "validate"
    extra: dict[str, Any] = field(default_factory=dict)


def diag(file: str, message: str = "`x` is wrong", severity: Severity = Severity.ERROR) -> Diagnostic:
    return Diagnostic(Span(file, 3, 5, 3, 9), severity, "AC112", message, "/class/slo/wcet_ms", "lower it")


def sarif_of(report: Report) -> dict[str, Any]:
    out = io.StringIO()
    sarif.render(report, out)
    return json.loads(out.getvalue())


def check_sarif(doc: dict[str, Any]) -> None:
    jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=FORMATS).validate(doc)


NASTY = ["./.github/c/x.yaml", "a b#1%.yaml", "dir/ü ñ/[x]?.yaml", "-", "<command line>", "c:x.yaml", "plain.yaml"]


@pytest.mark.parametrize("file", NASTY)
def test_sarif_is_valid_for_any_file_name(file: str) -> None:
    doc = sarif_of(Report([file], [diag(file)]))
    check_sarif(doc)
    [result] = doc["runs"][0]["results"]
    assert result["partialFingerprints"]


def test_sarif_uris_are_relative_and_percent_encoded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    absolute = str(tmp_path / "sub" / "a b.yaml")
    outside = "/nonexistent-root/x.yaml"
    files = ["./.github/c/x.yaml", "a b#1%.yaml", absolute, outside]
    doc = sarif_of(Report(files, [diag(f) for f in files]))
    check_sarif(doc)
    where = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in doc["runs"][0]["results"]]
    assert where[0] == {"uri": ".github/c/x.yaml", "uriBaseId": "%SRCROOT%"}  # not `github/...`
    assert where[1] == {"uri": "a%20b%231%25.yaml", "uriBaseId": "%SRCROOT%"}
    assert where[2] == {"uri": "sub/a%20b.yaml", "uriBaseId": "%SRCROOT%"}  # made relative to the checkout
    assert where[3] == {"uri": "file:///nonexistent-root/x.yaml"}  # outside it: an absolute URI, no base


def test_sarif_fingerprint_survives_a_line_move() -> None:
    a = Diagnostic(Span("c.yaml", 3, 5), Severity.ERROR, "AC112", "m", "/class/slo/wcet_ms", "")
    b = Diagnostic(Span("c.yaml", 30, 1), Severity.ERROR, "AC112", "m", "/class/slo/wcet_ms", "")
    other = Diagnostic(Span("c.yaml", 3, 5), Severity.ERROR, "AC112", "m", "/class/slo/deadline_ms", "")
    assert sarif.fingerprint(a) == sarif.fingerprint(b) != sarif.fingerprint(other)


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=30).filter(lambda s: "\0" not in s))
def test_sarif_any_relative_name_gives_a_valid_uri_reference(name: str) -> None:
    doc = sarif_of(Report([name], [diag(name)]))
    check_sarif(doc)


def junit_of(report: Report) -> str:
    out = io.StringIO()
    junit.render(report, out)
    return out.getvalue()


CONTROL = "bad \x00\x01\x08\x0b\x1b[31m\x7f value \ud800 \ufffe end"


def test_junit_validates_against_jenkins_xsd_and_parses_whatever_the_message_holds() -> None:
    report = Report(["ok.yaml", "a b&<c>.yaml"], [diag("a b&<c>.yaml", CONTROL), diag("a b&<c>.yaml", "w", Severity.WARNING)])
    text = junit_of(report)
    root = ET.fromstring(text.encode("utf-8"))  # well-formed
    JUNIT_XSD.validate(text)
    [suite] = root
    cases = {c.get("name"): c for c in suite}
    assert set(cases) == {"ok.yaml", "a b&<c>.yaml"}
    failure = cases["a b&<c>.yaml"].find("failure")
    assert failure is not None and failure.text is not None
    assert failure.text.startswith("a b&<c>.yaml:3:5: AC112 bad \\x00\\x01\\x08\\x0b\\x1b[31m\\x7f value")
    assert "file" not in cases["ok.yaml"].attrib


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40), st.text(min_size=1, max_size=20))
def test_junit_any_message_and_file_name_stays_valid(message: str, file: str) -> None:
    text = junit_of(Report([file], [diag(file, message)]))
    JUNIT_XSD.validate(text)


_COMMAND = re.compile(r"::(error|warning|notice) ((?:[a-z]+=[^,:]*)(?:,[a-z]+=[^,:]*)*)::(.*)")


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40), st.text(min_size=1, max_size=20))
def test_github_commands_are_one_line_each_with_escaped_properties(message: str, file: str) -> None:
    out = io.StringIO()
    github.render(Report([file], [diag(file, message)]), out)
    lines = out.getvalue().split("\n")  # the runner reads commands line by line, split on LF
    assert lines[-1] == "" and len(lines) == 2
    lines = lines[:1]
    m = _COMMAND.fullmatch(lines[0].replace("\r", ""))
    assert m is not None, lines[0]
    props = dict(p.split("=", 1) for p in m.group(2).split(","))
    unescape = lambda s: s.replace("%2C", ",").replace("%3A", ":").replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")  # noqa: E731
    assert unescape(props["file"]) == file and props["line"] == "3"


def test_skipped_files_are_skipped_test_cases_and_no_code_scanning_results() -> None:
    note = Diagnostic(Span(".github/ci.yml", 1, 1), Severity.NOTE, "AC017", "skipped: not an agentos document", "", "")
    report = Report([".github/ci.yml"], [note])
    text = junit_of(report)
    JUNIT_XSD.validate(text)
    case = ET.fromstring(text.encode())[0][0]
    assert case.find("skipped") is not None and case.find("failure") is None
    assert sarif_of(report)["runs"][0]["results"] == []
    out = io.StringIO()
    github.render(report, out)
    assert out.getvalue() == ""
