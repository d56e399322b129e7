"""A fast yes/no pre-check compiled from our JSON Schemas; jsonschema stays the authority.

Why: jsonschema builds a validator object per sub-schema visit, which costs about half
a millisecond per contract; CI on a big repository validates thousands. Most documents
are valid, so we compile the schema once into closures that only answer "certainly
valid?". A ``True`` skips jsonschema; a ``False`` runs jsonschema, which produces the
real errors (and has the last word: if it finds none, the document is valid).

Soundness rule: the pre-check must never say valid where jsonschema would not. It
supports only the keywords our schemas use and refuses to compile any other keyword
(then every document goes to jsonschema). tests/validate/test_fastschema.py checks the
two agree on mutated documents.
"""

from __future__ import annotations

import re
from typing import Any, Callable

Check = Callable[[Any], bool]

_IGNORED = frozenset({"$schema", "$id", "title", "description", "examples", "default", "$comment"})


class Unsupported(Exception):
    """The schema uses a keyword this pre-check does not implement."""


def _is_type(name: str) -> Check:
    if name == "object":
        return lambda v: type(v) is dict
    if name == "array":
        return lambda v: type(v) is list
    if name == "string":
        return lambda v: type(v) is str
    if name == "boolean":
        return lambda v: type(v) is bool
    if name == "null":
        return lambda v: v is None
    if name == "number":
        return lambda v: type(v) in (int, float)
    if name == "integer":
        return lambda v: type(v) is int or (type(v) is float and v.is_integer())
    raise Unsupported(f"type {name}")


def compile_schema(schema: Any) -> Check:
    """Closures for one (sub)schema; raises Unsupported for keywords we do not handle."""
    if schema is True:
        return lambda v: True
    if schema is False:
        return lambda v: False
    if not isinstance(schema, dict):
        raise Unsupported("schema is not an object")
    checks: list[Check] = []
    for key in schema:
        if key in _IGNORED or key in ("properties", "additionalProperties", "required"):
            continue
        val = schema[key]
        if key == "type":
            names = [val] if isinstance(val, str) else list(val)
            preds = [_is_type(n) for n in names]
            checks.append(preds[0] if len(preds) == 1 else (lambda v, ps=tuple(preds): any(p(v) for p in ps)))
        elif key == "enum":
            checks.append(lambda v, opts=tuple(val): any(_same(v, o) for o in opts))
        elif key == "const":
            checks.append(lambda v, c=val: _same(v, c))
        elif key == "pattern":
            rx = re.compile(val)
            checks.append(lambda v, rx=rx: type(v) is not str or rx.search(v) is not None)
        elif key == "items":
            item = compile_schema(val)
            checks.append(lambda v, item=item: type(v) is not list or all(item(x) for x in v))
        elif key == "anyOf":
            alts = tuple(compile_schema(s) for s in val)
            checks.append(lambda v, alts=alts: any(a(v) for a in alts))
        elif key == "minItems":
            checks.append(lambda v, n=val: type(v) is not list or len(v) >= n)
        elif key == "maxItems":
            checks.append(lambda v, n=val: type(v) is not list or len(v) <= n)
        elif key == "minimum":
            checks.append(lambda v, n=val: type(v) not in (int, float) or v >= n)
        elif key == "maximum":
            checks.append(lambda v, n=val: type(v) not in (int, float) or v <= n)
        else:
            raise Unsupported(key)
    if "properties" in schema or "additionalProperties" in schema or "required" in schema:
        checks.append(_object(schema))
    if len(checks) == 1:
        return checks[0]
    return lambda v, cs=tuple(checks): all(c(v) for c in cs)


def _object(schema: dict[str, Any]) -> Check:
    props = {k: compile_schema(s) for k, s in schema.get("properties", {}).items()}
    extra = schema.get("additionalProperties", True)
    extra_check = compile_schema(extra) if extra not in (True, False) else None
    required = tuple(schema.get("required", ()))

    def check(v: Any) -> bool:
        if type(v) is not dict:
            return True  # "type" decides non-objects
        for k in required:
            if k not in v:
                return False
        for k, x in v.items():
            p = props.get(k)
            if p is not None:
                if not p(x):
                    return False
            elif extra is False:
                return False
            elif extra_check is not None and not extra_check(x):
                return False
        return True

    return check


def _same(a: Any, b: Any) -> bool:
    """JSON equality: booleans are not numbers, 1 == 1.0."""
    if type(a) is bool or type(b) is bool:
        return type(a) is type(b) and a == b
    return a == b


def compile_or_none(schema: Any) -> Check | None:
    try:
        return compile_schema(schema)
    except Unsupported:
        return None
