"""JSON Schema 2020-12 errors → located diagnostics.

jsonschema says *what* is wrong at a path; we add *where* (line and column from the
loader's position map) and *how to fix it* (expected values, "did you mean").
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from agentos_contracts import diagnostics as dg
from agentos_contracts.diagnostics import Diagnostic
from agentos_contracts.documents import pointer as ptr
from agentos_contracts.documents.loader import Document
from agentos_contracts.validate.suggest import did_you_mean, expected

_TYPE_WORDS = {
    "object": "a mapping", "array": "a list", "string": "a string", "number": "a number",
    "integer": "an integer", "boolean": "a boolean (`true`/`false`)", "null": "null",
}
# the paper's shorthand keys, which documents.md replaces with canonical ones
PAPER_SPELLINGS = {"latency_class": "write `class: {latency: SRT}` (the canonical keys), not `latency_class`"}


def schema_file(kind: str) -> str:
    return f"{kind}.schema.json"


@lru_cache(maxsize=None)
def validator_for(kind: str) -> Any:
    """One compiled validator per kind, built once per process."""
    from jsonschema import Draft202012Validator

    from agentos_contracts.resources import schema

    return Draft202012Validator(schema(schema_file(kind)))


@lru_cache(maxsize=None)
def precheck_for(kind: str) -> Any:
    """The compiled pre-check (agentos_contracts.schemacheck), or None to always use jsonschema.

    jsonschema stays the authority: only documents the pre-check finds valid skip it.
    """
    from agentos_contracts.resources import schema
    from agentos_contracts.schemacheck import compile_schema

    return compile_schema(schema(schema_file(kind)))


def found_word(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _type_words(t: Any) -> str:
    types = [t] if isinstance(t, str) else list(t)
    return " or ".join(_TYPE_WORDS.get(x, x) for x in types)


def check_schema(doc: Document) -> list[Diagnostic]:
    """All schema findings of one document, each at the exact key or value."""
    return check_schema_view(doc)[0]


def check_schema_view(doc: Document) -> tuple[list[Diagnostic], Document | None]:
    """The schema findings, and the document as semantic checks may see it.

    The view leaves out every value the schema rejected (see ``validate.accepted``), so
    no semantic check ever reads a value of a shape the schema does not allow; it is
    None when the document as a whole is rejected and has nothing left to check.
    """
    from agentos_contracts.validate.accepted import accepted_view, rejected_pointers

    precheck = precheck_for(doc.kind or "")
    errors = [] if precheck is not None and precheck(doc.data) is None else \
        list(validator_for(doc.kind or "").iter_errors(doc.data))
    out: list[Diagnostic] = []
    for err in errors:
        out.extend(_located(doc, err))
    rejected = rejected_pointers(errors)
    for pointer, diag in embedded_schema_problems(doc, rejected):
        out.append(diag)
        rejected.add(pointer)
    return out, accepted_view(doc, rejected)


EMBEDDED_SCHEMAS = ("inputSchema", "outputSchema")


def embedded_schema_problems(doc: Document, rejected: set[str]) -> list[tuple[str, Diagnostic]]:
    """A platform tool's MCP ``inputSchema``/``outputSchema`` must itself be a JSON Schema.

    The document schema can only say "a mapping"; the runtime compiles these schemas to
    check arguments, and the policy checker reads their property types, so one that is
    not a valid schema is reported here, at its place, and kept from every later check.
    """
    tools = doc.data.get("tools") if doc.kind == "Platform" else None
    if not isinstance(tools, list):
        return []
    import jsonschema

    out: list[tuple[str, Diagnostic]] = []
    for i, tool in enumerate(tools):
        for key in EMBEDDED_SCHEMAS:
            here = f"/tools/{i}/{key}"
            value = tool.get(key) if isinstance(tool, dict) else None
            if not isinstance(value, dict) or any(here == r or here.startswith(r + "/") for r in rejected):
                continue
            cls = jsonschema.validators.validator_for(value, default=jsonschema.Draft202012Validator)
            problem = next(iter(cls(cls.META_SCHEMA).iter_errors(value)), None)
            if problem is not None:
                where = ptr.join(here, *problem.absolute_path)
                reason = f"found {found_word(problem.instance)}, which fails the meta-schema's `{problem.validator}`"
                out.append((where, doc.diag("AC241", where, field=key, reason=reason)))
    return out


def _located(doc: Document, err: Any) -> list[Diagnostic]:
    here = ptr.from_parts(err.absolute_path)
    kw = err.validator
    inst = err.instance
    schema = err.schema
    if kw == "additionalProperties" and isinstance(inst, dict):
        known = list(schema.get("properties", {}))
        diags = []
        for key in sorted(k for k in inst if k not in schema.get("properties", {})):
            p = ptr.join(here, key)
            hint = (PAPER_SPELLINGS.get(key) if key in PAPER_SPELLINGS and "class" in known else None) \
                or did_you_mean(key, known) or (expected(known) if known else "remove this key")
            diags.append(doc.diag("AC101", p, at_key=True, key=key, hint=hint))
        return diags
    if kw == "required" and isinstance(inst, dict):
        return [
            dg.make("AC102", doc.key_span(here) if here else doc.span(""), path=ptr.join(here, k), key=k)
            for k in err.validator_value if k not in inst
        ]
    if kw == "type":
        if here.endswith("/version") and isinstance(inst, (int, float)) and not isinstance(inst, bool):
            return [doc.diag("AC129", here, value=_written(doc, here, inst))]
        msg = f"expected {_type_words(err.validator_value)}, found {found_word(inst)}"
        return [doc.diag("AC103", here, message=msg, hint=schema.get("description", ""))]
    if kw in ("enum", "const"):
        choices = [str(c) for c in (err.validator_value if kw == "enum" else [err.validator_value])]
        hint = did_you_mean(str(inst), choices) if isinstance(inst, str) else ""
        hint = hint or expected(choices)
        return [doc.diag("AC104", here, message=f"`{inst}` is not allowed here", hint=hint)]
    if kw == "pattern" and isinstance(inst, str):
        return [doc.diag("AC105", here, name=inst, hint=schema.get("description", ""))]
    if kw in ("anyOf", "oneOf"):
        return [_alternatives(doc, here, err)]
    return [doc.diag("AC100", here, message=_plain(err), hint=schema.get("description", ""))]


def _written(doc: Document, pointer: str, value: object) -> str:
    """The scalar as the user typed it (``2.10``, not the float 2.1), from the source text."""
    span = doc.span(pointer)
    if doc.source is None or span.end_line != span.line or not span.end_column:
        return str(value)
    try:
        line = doc.source.data.decode("utf-8-sig").split("\n")[span.line - 1]
    except (UnicodeDecodeError, IndexError):
        return str(value)
    return line[span.column - 1 : span.end_column - 1] or str(value)


def _alternatives(doc: Document, here: str, err: Any) -> Diagnostic:
    """anyOf: name the branch types, or the deepest specific problem when the type matched."""
    branches = err.validator_value
    types: list[str] = []
    for b in branches:
        if "type" in b:
            types.extend([b["type"]] if isinstance(b["type"], str) else b["type"])
        elif "enum" in b:
            types.append("string")
    inst = err.instance
    deeper = [e for e in err.context if e.validator != "type"]
    if deeper and (isinstance(inst, list) or isinstance(inst, str)):
        best = min(deeper, key=lambda e: -len(e.absolute_path))
        sub = _located(doc, best)
        if sub:
            return sub[0]
    words = " or ".join(dict.fromkeys(_TYPE_WORDS.get(t, t) for t in types)) or "another value"
    msg = f"expected {words}, found {found_word(inst)}"
    return doc.diag("AC103", here, message=msg, hint=err.schema.get("description", ""))


def _plain(err: Any) -> str:
    """jsonschema's message without Python reprs of whole structures."""
    kw, val, inst = err.validator, err.validator_value, err.instance
    if kw == "minimum":
        return f"must be at least {val}, found {inst}"
    if kw == "exclusiveMinimum":
        return f"must be greater than {val}, found {inst}"
    if kw == "maximum":
        return f"must be at most {val}, found {inst}"
    if kw == "minItems":
        return f"needs at least {val} item{'s' if val != 1 else ''}"
    if kw == "maxItems":
        return f"allows at most {val} item{'s' if val != 1 else ''}"
    if kw == "uniqueItems":
        return "items must be unique"
    if kw == "minLength":
        return "must not be empty"
    msg = str(err.message)
    return msg if len(msg) < 160 else msg[:157] + "..."
