"""SARIF 2.1.0 for GitHub code scanning: one rule per code, with help; lines start at 1.

Locations are RFC 3986 relative references (percent-encoded, ``/`` separated, no
``./``) against ``uriBaseId`` ``%SRCROOT%``, the checkout GitHub resolves them
against; a file outside the working folder keeps an absolute ``file:`` URI. The base
itself is not recorded (``originalUriBaseIds`` would put this machine's path into the
output, and the same inputs must give the same bytes). Each result carries a
``partialFingerprints`` entry built from code, file and JSON Pointer (not the line), so
code scanning keeps tracking a finding when lines above it move.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from agentos_contracts import __version__
from agentos_contracts.codes import CODES
from agentos_contracts.diagnostics import Severity

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}
HELP_URI = "https://github.com/agentos-contracts/agentos-contracts/blob/main/docs/codes.md"
_SAFE = "/-._~!$&'()*+,;=@"  # RFC 3986 pchar minus ":" (a colon in a first segment would read as a scheme)
FINGERPRINT = "agentosFinding/v1"


def artifact_location(path: str) -> dict[str, str] | None:
    """The ``artifactLocation`` of a diagnostic's file; None for pseudo-files (``<command line>``)."""
    if path.startswith("<") and path.endswith(">"):
        return None
    if path == "-":
        return {"uri": "stdin"}
    text = path.replace("\\", "/")
    if posixpath.isabs(text) or (len(text) > 1 and text[1] == ":"):
        try:
            text = Path(os.path.relpath(path)).as_posix()
        except ValueError:  # another drive on Windows
            return {"uri": Path(path).resolve().as_uri()}
        if text.startswith("../"):
            return {"uri": Path(path).resolve().as_uri()}
    text = posixpath.normpath(text)
    if text.startswith("../"):
        return {"uri": Path(path).resolve().as_uri()}
    return {"uri": quote(text, safe=_SAFE), "uriBaseId": SRCROOT}


def fingerprint(d: Any) -> str:
    """Stable across line moves: the code, the file and the JSON Pointer (or the message for policies)."""
    key = "\0".join((d.code, d.file.replace("\\", "/"), d.path or d.message))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _rules(used: list[str]) -> list[dict[str, Any]]:
    rules = []
    for code in used:
        entry = CODES.get(code)
        title = entry.title if entry else code
        rules.append({
            "id": code,
            "name": "".join(p.capitalize() for p in title.split("-")),
            "shortDescription": {"text": title.replace("-", " ")},
            "fullDescription": {"text": title.replace("-", " ")},
            "help": {"text": f"{code} {title}: see docs/codes.md (or `agentos explain {code}`)",
                     "markdown": f"**{code}** `{title}`: see [docs/codes.md]({HELP_URI}#{code.lower()})"},
            "helpUri": f"{HELP_URI}#{code.lower()}",
            "defaultConfiguration": {"level": _LEVEL[entry.severity] if entry else "error"},
        })
    return rules


def build(report: Any) -> dict[str, Any]:
    from agentos_contracts.report import findings

    shown = findings(report.diagnostics)
    used = sorted({d.code for d in shown})
    index = {code: i for i, code in enumerate(used)}
    results = []
    for d in shown:
        text = d.message + (f" (hint: {d.hint})" if d.hint else "")
        result: dict[str, Any] = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": _LEVEL[d.severity],
            "message": {"text": text},
            "partialFingerprints": {FINGERPRINT: fingerprint(d)},
        }
        where = artifact_location(d.file)
        if where is not None:
            region: dict[str, int] = {"startLine": max(1, d.line), "startColumn": max(1, d.column)}
            if d.span.end_line and d.span.end_column and (d.span.end_line, d.span.end_column) > (d.line, d.column):
                region["endLine"] = d.span.end_line
                region["endColumn"] = d.span.end_column
            result["locations"] = [{"physicalLocation": {"artifactLocation": where, "region": region}}]
        if d.path:
            result["properties"] = {"jsonPointer": d.path}
        results.append(result)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "agentos", "version": __version__,
                                "informationUri": "https://github.com/agentos-contracts/agentos-contracts",
                                "rules": _rules(used)}},
            "automationDetails": {"id": f"agentos/{getattr(report, 'command', 'validate')}/"},
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }


def render(report: Any, stream: TextIO) -> None:
    stream.write(json.dumps(build(report), indent=2, sort_keys=True, ensure_ascii=False) + "\n")
