"""Checks against ``schemas/binding-manifest.schema.json``: the envelope, then the statement.

The schema is the published contract of the manifest format (other tools can check
manifests with it), so verify uses that very file rather than a hand-written copy of
its rules. Validators are built once per process: verify runs per manifest load.
A document first meets the schema compiled by ``schemacheck`` (about eight times faster
than jsonschema on a large manifest); only one it rejects goes to jsonschema, which
stays the authority and writes the errors, so verdicts and messages are unchanged.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from agentos_contracts import resources
from agentos_contracts.schemacheck import Check, compile_schema

SCHEMA_FILE = "binding-manifest.schema.json"
_MAX_ERRORS = 20


@lru_cache(maxsize=None)
def _validator(part: str) -> Draft202012Validator:
    full = resources.schema(SCHEMA_FILE)
    root = full if part == "envelope" else full["$defs"][part]
    # local refs are inlined once: the schema has no recursion, and ref lookups were
    # a third of the validation time (verify runs on every manifest load)
    return Draft202012Validator(_inline(root, full["$defs"]))


@lru_cache(maxsize=None)
def _precheck(part: str) -> Check | None:
    """The part compiled by schemacheck, refs resolved in the whole file; None if it cannot compile."""
    full = resources.schema(SCHEMA_FILE)
    return compile_schema(full if part == "envelope" else full["$defs"][part], root=full)


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/$defs/"):
            raise ValueError(f"{SCHEMA_FILE}: only local refs are supported, found `{ref}`")
        merged = {**_inline(defs[ref.removeprefix("#/$defs/")], defs), **{k: v for k, v in node.items() if k != "$ref"}}
        return merged
    return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}


def envelope_errors(doc: Any) -> list[str]:
    """Problems of the envelope's JSON shape, each as ``envelope `/pointer`: message``."""
    return _errors("envelope", doc, "envelope")


def statement_errors(doc: Any) -> list[str]:
    """Problems of the decoded statement (including the predicate)."""
    return _errors("statement", doc, "statement")


def predicate_errors(doc: Any) -> list[str]:
    """Problems of a predicate on its own: seal checks what it is about to sign."""
    return _errors("predicate", doc, "predicate")


def _errors(part: str, doc: Any, label: str) -> list[str]:
    fast = _precheck(part)
    if fast is not None and fast(doc) is None:
        return []
    found = sorted(_validator(part).iter_errors(doc), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    out = [_describe(e, label) for e in found[:_MAX_ERRORS]]
    if len(found) > _MAX_ERRORS:
        out.append(f"{label}: {len(found) - _MAX_ERRORS} more schema error(s) not shown")
    return out


def _describe(error: ValidationError, label: str) -> str:
    # for oneOf/anyOf the top message only says "not valid under any"; the best branch explains why
    if error.context:
        error = best_match(error.context) or error
    pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in error.absolute_path)
    return f"{label} `{pointer or '/'}`: {_shorten(error.message)}"


def _shorten(message: str, limit: int = 200) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."
