"""SARIF 2.1.0 for GitHub code scanning: one rule per code, with help; lines start at 1."""

from __future__ import annotations

import json
from typing import Any, TextIO

from agentos_contracts import __version__
from agentos_contracts.codes import CODES
from agentos_contracts.diagnostics import Severity

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}
HELP_URI = "https://github.com/agentos-contracts/agentos-contracts/blob/main/docs/codes.md"


def _uri(path: str) -> str:
    return "stdin" if path == "-" else path.replace("\\", "/").lstrip("./") if path.startswith("./") else path.replace("\\", "/")


def build(report: Any) -> dict[str, Any]:
    used = sorted({d.code for d in report.diagnostics})
    index = {code: i for i, code in enumerate(used)}
    rules = []
    for code in used:
        entry = CODES.get(code)
        title = entry.title if entry else code
        rules.append({
            "id": code,
            "name": "".join(p.capitalize() for p in title.split("-")),
            "shortDescription": {"text": title.replace("-", " ")},
            "fullDescription": {"text": title.replace("-", " ")},
            "help": {"text": f"{code} {title}: see docs/codes.md", "markdown": f"**{code}** `{title}`: see [docs/codes.md]({HELP_URI}#{code.lower()})"},
            "helpUri": f"{HELP_URI}#{code.lower()}",
            "defaultConfiguration": {"level": _LEVEL[entry.severity] if entry else "error"},
        })
    results = []
    for d in report.diagnostics:
        text = d.message + (f" (hint: {d.hint})" if d.hint else "")
        region: dict[str, int] = {"startLine": max(1, d.line), "startColumn": max(1, d.column)}
        if d.span.end_line and d.span.end_column and (d.span.end_line, d.span.end_column) > (d.line, d.column):
            region["endLine"] = d.span.end_line
            region["endColumn"] = d.span.end_column
        result: dict[str, Any] = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": _LEVEL[d.severity],
            "message": {"text": text},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(d.file)}, "region": region}}],
        }
        if d.path:
            result["properties"] = {"jsonPointer": d.path}
        results.append(result)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "agentos", "version": __version__,
                                "informationUri": "https://github.com/agentos-contracts/agentos-contracts",
                                "rules": rules}},
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }


def render(report: Any, stream: TextIO) -> None:
    stream.write(json.dumps(build(report), indent=2, sort_keys=True, ensure_ascii=False) + "\n")
