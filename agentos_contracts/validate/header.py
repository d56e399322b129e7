"""Every document starts with a mapping that names a known ``apiVersion`` and ``kind``."""

from __future__ import annotations

from agentos_contracts import diagnostics as dg
from agentos_contracts.diagnostics import Diagnostic
from agentos_contracts.documents.loader import API_VERSION, KINDS, Document
from agentos_contracts.validate.suggest import did_you_mean

_FOUND = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}


def check_header(doc: Document) -> list[Diagnostic]:
    data = doc.data
    if not isinstance(data, dict):
        return [dg.make("AC010", doc.span(""), found=_FOUND.get(type(data), type(data).__name__))]
    out: list[Diagnostic] = []
    if "apiVersion" not in data:
        out.append(dg.make("AC013", doc.span(""), key="apiVersion", example=API_VERSION))
    elif data["apiVersion"] != API_VERSION:
        out.append(doc.diag("AC012", "/apiVersion", version=data["apiVersion"]))
    if "kind" not in data:
        out.append(dg.make("AC013", doc.span(""), key="kind", example="AgentContract"))
    elif data["kind"] not in KINDS:
        kind = str(data["kind"])
        hint = did_you_mean(kind, KINDS) or "use one of: " + ", ".join(KINDS)
        out.append(doc.diag("AC011", "/kind", kind=kind, hint=hint, choices=", ".join(KINDS)))
    return out
