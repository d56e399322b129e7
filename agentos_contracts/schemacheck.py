"""Fast checks for the common subset of JSON Schema 2020-12, compiled once into closures.

jsonschema's generic validator builds a validator object per sub-schema visit: tens of
microseconds for a tool call's arguments, about half a millisecond for a contract. Two
hot paths use this instead: the runtime checks every call's arguments against the tool's
MCP ``inputSchema``, and ``agentos validate`` pre-checks each document against its
kind's schema (most documents are valid; only the others go to jsonschema, which writes
the diagnostics). A schema that uses only the keywords below compiles into closures that
decide exactly as jsonschema does (``tests/test_schemacheck.py`` and
``tests/validate/test_fastschema.py`` cross-check them); anything else, such as
``patternProperties``, a remote or recursive ``$ref`` or another dialect, returns ``None``
and jsonschema decides. ``seal`` pre-checks manifests the same way. A check returns
``None`` when the value is valid, else the place (a path of keys and indexes) and the
keyword that failed, which is all a runtime reason may say about arguments.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Mapping, Sequence
from typing import Any, Callable

Failure = tuple[tuple[str | int, ...], str]  # (path to the failing value, keyword)
Check = Callable[[Any], "Failure | None"]
Test = Callable[[Any], bool]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ANNOTATIONS = frozenset({"title", "description", "default", "examples", "$comment", "deprecated", "readOnly",
                         "writeOnly", "format", "$schema", "$id"})  # format: jsonschema checks none by default
KEYWORDS = frozenset({"type", "properties", "required", "additionalProperties", "items", "enum", "const",
                      "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
                      "pattern", "minItems", "maxItems", "anyOf", "uniqueItems", "propertyNames", "$ref",
                      "$defs"}) | ANNOTATIONS  # $defs: only a place $ref points into


def _is_number(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, numbers.Number)


TYPES: dict[str, Test] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": _is_number,
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}


def compile_schema(schema: Any, *, root: Any = None) -> Check | None:
    """A closure deciding validity exactly as jsonschema would (None = valid), or None if unsupported.

    ``root`` is the document ``$ref``s resolve against when ``schema`` is a part of it
    (e.g. one of its ``$defs``); by default the schema itself.
    """
    top = schema if root is None else root
    if isinstance(top, Mapping) and top.get("$schema", DIALECT) != DIALECT:
        return None
    return _compile(schema, _Refs(top))


class _Refs:
    """The root's ``#/$defs/<name>`` targets, each compiled once (a repeated ref shares its closures).

    Only plain local names resolve; remote refs, anchors, escaped pointers and nested
    ``$id``s (which would move the base URI) refuse, and so does a ref reached again
    while its own target is being compiled: a recursive schema goes to jsonschema.
    """

    __slots__ = ("root", "done", "active", "_nested_id")

    def __init__(self, root: Any) -> None:
        self.root = root
        self.done: dict[str, Check | None] = {}
        self.active: set[str] = set()
        self._nested_id: bool | None = None

    def resolve(self, ref: Any) -> Check | None:
        prefix = "#/$defs/"
        if not isinstance(ref, str) or not ref.startswith(prefix):
            return None
        name = ref[len(prefix):]
        defs = self.root.get("$defs") if isinstance(self.root, dict) else None
        if not name or any(c in name for c in "/~%") or not isinstance(defs, dict) or name not in defs:
            return None
        if self._nested_id is None:
            self._nested_id = any("$id" in node for node in _dicts_below(self.root))
        if self._nested_id or name in self.active:
            return None
        if name not in self.done:
            self.active.add(name)
            self.done[name] = _compile(defs[name], self)
            self.active.discard(name)
        return self.done[name]


def _dicts_below(node: Any) -> Any:
    """Every dict strictly inside ``node`` (values of enum/const too: refusing more is safe)."""
    kids = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for kid in kids:
        if isinstance(kid, dict):
            yield kid
        yield from _dicts_below(kid)


def _compile(schema: Any, refs: _Refs) -> Check | None:
    if schema is True:
        return lambda v: None
    if schema is False:
        return lambda v: ((), "false")
    if not isinstance(schema, dict) or not set(schema) <= KEYWORDS:
        return None
    plain = _plain_object(schema, refs)
    return plain if plain is not None else _compile_parts(schema, refs)


def _compile_parts(schema: dict[str, Any], refs: _Refs) -> Check | None:
    """One closure per keyword group, run in order until one fails."""
    checks: list[Check] = []
    for build in (_type, _object, _array, _numeric, _string, _values, _any_of, _ref):
        part = build(schema, refs)
        if part is _UNSUPPORTED:
            return None
        checks.extend(part)
    if not checks:
        return lambda v: None
    if len(checks) == 1:
        return checks[0]
    parts = tuple(checks)

    def all_of(v: Any) -> Failure | None:
        for check in parts:
            failed = check(v)
            if failed is not None:
                return failed
        return None

    return all_of


_UNSUPPORTED: list[Check] = []  # a sentinel list: identity marks "cannot compile"


def _rule(keyword: str, ok: Test) -> Check:
    failure: Failure = ((), keyword)
    return lambda v: None if ok(v) else failure


def _type(schema: dict[str, Any], refs: _Refs) -> list[Check]:
    if "type" not in schema:
        return []
    raw = schema["type"]
    names = [raw] if isinstance(raw, str) else raw
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n in TYPES for n in names):
        return _UNSUPPORTED
    if len(names) == 1 and names[0] in _CLASSES:  # one call per value for the plain types (hot in the runtime)
        cls, failure = _CLASSES[names[0]], ((), "type")
        return [lambda v: None if isinstance(v, cls) else failure]
    tests = tuple(TYPES[n] for n in names)
    return [_rule("type", tests[0] if len(tests) == 1 else lambda v: any(t(v) for t in tests))]


_CLASSES: dict[str, type] = {"object": dict, "array": list, "string": str, "boolean": bool}  # as TYPES says


def _object(schema: dict[str, Any], refs: _Refs) -> list[Check]:
    out: list[Check] = []
    props: dict[str, Check] = {}
    if "properties" in schema:
        raw = schema["properties"]
        if not isinstance(raw, dict):
            return _UNSUPPORTED
        for name, sub in raw.items():
            check = _compile(sub, refs)
            if check is None:
                return _UNSUPPORTED
            props[name] = check
        items = tuple(props.items())

        def properties(v: Any) -> Failure | None:
            if isinstance(v, dict):
                for key, check in items:
                    if key in v:
                        failed = check(v[key])
                        if failed is not None:
                            return (key, *failed[0]), failed[1]
            return None

        out.append(properties)
    if "required" in schema:
        req = schema["required"]
        if not isinstance(req, list) or not all(isinstance(r, str) for r in req):
            return _UNSUPPORTED
        needed = frozenset(req)  # a set comparison instead of a generator over the names
        out.append(_rule("required", lambda v: not isinstance(v, dict) or v.keys() >= needed))
    if "propertyNames" in schema:
        names = _compile(schema["propertyNames"], refs)
        if names is None:
            return _UNSUPPORTED
        out.append(_property_names(names))
    if "additionalProperties" in schema:
        sub = schema["additionalProperties"]
        known = frozenset(props)
        if sub is False:  # jsonschema reports this at the object itself
            out.append(_rule("additionalProperties", lambda v: not isinstance(v, dict) or v.keys() <= known))
        else:
            extra = _compile(sub, refs)
            if extra is None:
                return _UNSUPPORTED
            out.append(_each(lambda v: isinstance(v, dict), lambda v: ((k, x) for k, x in v.items() if k not in known),
                             extra))
    return out


_PLAIN_OBJECT = frozenset({"type", "properties", "required", "additionalProperties"}) | ANNOTATIONS


def _simple_class(schema: Any) -> type | None:
    """The class of a schema that says only ``{"type": <plain type>}`` (annotations aside), else None."""
    if not isinstance(schema, dict) or not set(schema) <= ANNOTATIONS | {"type"} or "$schema" in schema:
        return None
    kind = schema.get("type")
    return _CLASSES.get(kind) if isinstance(kind, str) else None


def _plain_object(schema: dict[str, Any], refs: _Refs) -> Check | None:
    """The usual MCP ``inputSchema`` (an object with properties, required names, perhaps no
    others) checked in one frame, with properties of a plain type tested inline.

    It answers exactly as the closures ``_type`` and ``_object`` build, in their order (type,
    then each property in schema order, then required, then additionalProperties): a tool
    call's arguments are checked on every call, and that chain costs a Python call per part.
    """
    if schema.get("type") != "object" or not set(schema) <= _PLAIN_OBJECT:
        return None
    raw, req = schema.get("properties", {}), schema.get("required", [])
    extra = schema.get("additionalProperties", True)
    if not isinstance(raw, dict) or not isinstance(req, list) or not all(isinstance(r, str) for r in req) \
            or extra.__class__ is not bool:
        return None
    fields: list[tuple[str, type | None, Check | None]] = []
    for name, sub in raw.items():
        cls = _simple_class(sub)
        check = _compile(sub, refs) if cls is None else None
        if cls is None and check is None:
            return None  # the general path refuses the same schema
        fields.append((name, cls, check))
    items, needed = tuple(fields), frozenset(req)
    known = None if extra else frozenset(raw)
    not_object: Failure = ((), "type")
    missing: Failure = ((), "required")
    unknown: Failure = ((), "additionalProperties")
    typed = {name: ((name,), "type") for name in raw}

    def plain_object(v: Any) -> Failure | None:
        if not isinstance(v, dict):
            return not_object
        for key, cls, check in items:
            if key in v:
                if cls is not None:
                    if not isinstance(v[key], cls):
                        return typed[key]
                else:
                    failed = check(v[key])  # type: ignore[misc]
                    if failed is not None:
                        return (key, *failed[0]), failed[1]
        if needed and not v.keys() >= needed:
            return missing
        if known is not None and not v.keys() <= known:
            return unknown
        return None

    return plain_object


def _property_names(check: Check) -> Check:
    def property_names(v: Any) -> Failure | None:
        if isinstance(v, dict):
            for key in v:
                failed = check(key)
                if failed is not None:  # jsonschema reports a bad name at the object, not under the key
                    return failed
        return None

    return property_names


def _each(applies: Test, pairs: Callable[[Any], Any], check: Check) -> Check:
    def each(v: Any) -> Failure | None:
        if applies(v):
            for where, x in pairs(v):
                failed = check(x)
                if failed is not None:
                    return (where, *failed[0]), failed[1]
        return None

    return each


def _array(schema: dict[str, Any], refs: _Refs) -> list[Check]:
    out: list[Check] = []
    if "items" in schema:
        each = _compile(schema["items"], refs)
        if each is None:
            return _UNSUPPORTED
        out.append(_each(lambda v: isinstance(v, list), enumerate, each))
    for key, op in (("minItems", _ge), ("maxItems", _le)):
        if key in schema:
            bound = schema[key]
            if not _is_count(bound):
                return _UNSUPPORTED
            out.append(_len_check(key, lambda v: isinstance(v, list), op, bound))
    if "uniqueItems" in schema:
        flag = schema["uniqueItems"]
        if not isinstance(flag, bool):
            return _UNSUPPORTED
        if flag:
            out.append(_rule("uniqueItems", lambda v: not isinstance(v, list) or unique(v)))
    return out


def _string(schema: dict[str, Any], refs: _Refs) -> list[Check]:
    out: list[Check] = []
    for key, op in (("minLength", _ge), ("maxLength", _le)):
        if key in schema:
            bound = schema[key]
            if not _is_count(bound):
                return _UNSUPPORTED
            out.append(_len_check(key, lambda v: isinstance(v, str), op, bound))
    if "pattern" in schema:
        raw = schema["pattern"]
        if not isinstance(raw, str):
            return _UNSUPPORTED
        try:
            regex = re.compile(raw)
        except re.error:
            return _UNSUPPORTED
        out.append(_rule("pattern", lambda v: not isinstance(v, str) or regex.search(v) is not None))
    return out


def _numeric(schema: dict[str, Any], refs: _Refs) -> list[Check]:
    out: list[Check] = []
    for key, test in _BOUNDS:
        if key in schema:
            bound = schema[key]
            if not _is_number(bound):
                return _UNSUPPORTED
            out.append(_rule(key, _bounded(test, bound)))
    return out


_BOUNDS: tuple[tuple[str, Callable[[Any, Any], bool]], ...] = (
    ("minimum", lambda v, b: not v < b), ("maximum", lambda v, b: not v > b),
    ("exclusiveMinimum", lambda v, b: v > b), ("exclusiveMaximum", lambda v, b: v < b))


def _bounded(test: Callable[[Any, Any], bool], bound: Any) -> Test:
    return lambda v: not _is_number(v) or test(v, bound)


def _values(schema: dict[str, Any], refs: _Refs) -> list[Check]:
    out: list[Check] = []
    if "enum" in schema:
        options = schema["enum"]
        if not isinstance(options, list):
            return _UNSUPPORTED
        choices = tuple(options)
        out.append(_rule("enum", lambda v: any(equal(c, v) for c in choices)))
    if "const" in schema:
        const = schema["const"]
        out.append(_rule("const", lambda v: equal(v, const)))
    return out


def _any_of(schema: dict[str, Any], refs: _Refs) -> list[Check]:
    if "anyOf" not in schema:
        return []
    raw = schema["anyOf"]
    if not isinstance(raw, list) or not raw:
        return _UNSUPPORTED
    alternatives = [_compile(sub, refs) for sub in raw]
    if any(a is None for a in alternatives):
        return _UNSUPPORTED
    alts = tuple(a for a in alternatives if a is not None)
    return [_rule("anyOf", lambda v: any(a(v) is None for a in alts))]


def _ref(schema: dict[str, Any], refs: _Refs) -> list[Check]:
    if "$ref" not in schema:
        return []
    target = refs.resolve(schema["$ref"])  # 2020-12: the target applies alongside the siblings
    return _UNSUPPORTED if target is None else [target]


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _ge(a: int, b: int) -> bool:
    return a >= b


def _le(a: int, b: int) -> bool:
    return a <= b


def _len_check(key: str, applies: Test, op: Callable[[int, int], bool], bound: int) -> Check:
    return _rule(key, lambda v: not applies(v) or op(len(v), bound))


_TRUE, _FALSE = object(), object()


def _unbool(v: Any) -> Any:
    return _TRUE if v is True else _FALSE if v is False else v


def equal(one: Any, two: Any) -> bool:
    """JSON Schema equality as jsonschema has it: ``true`` is not ``1``, recursively."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(equal(a, b) for a, b in zip(one, two))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(k in two and equal(x, two[k]) for k, x in one.items())
    return bool(_unbool(one) == _unbool(two))


def unique(items: list[Any]) -> bool:
    """jsonschema's ``uniq`` step for step, so both give the same verdict on every array.

    It sorts and compares neighbours when Python can order the items (bools made
    unorderable so ``true`` never meets ``1``), else compares every pair; like jsonschema
    it can miss a duplicate that Python's order does not put next to its twin.
    """
    try:
        ordered = sorted(_unbool(x) for x in items)
        return not any(equal(a, b) for a, b in zip(ordered, ordered[1:]))
    except (NotImplementedError, TypeError):
        seen: list[Any] = []
        for x in map(_unbool, items):
            if any(equal(s, x) for s in seen):
                return False
            seen.append(x)
        return True
