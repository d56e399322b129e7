"""GitHub Actions workflow commands: ``::error file=…,line=…,col=…,title=…::message``."""

from __future__ import annotations

from typing import Any, TextIO

from agentos_contracts.diagnostics import Severity

_CMD = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def render(report: Any, stream: TextIO) -> None:
    from agentos_contracts.report import findings

    for d in findings(report.diagnostics):
        props = f"file={_escape_prop(d.file)},line={d.line},col={d.column},title={_escape_prop(d.code)}"
        msg = d.message + (f" (hint: {d.hint})" if d.hint else "")
        stream.write(f"::{_CMD[d.severity]} {props}::{_escape_data(msg)}\n")
