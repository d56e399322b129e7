"""How request values behave: types, equality, membership — the runtime's value semantics.

JSON values only: numbers (int or finite float; ``true`` is not ``1``), strings,
booleans, lists and objects. ``null`` is absent; NaN and Infinity are not numbers
and reading one is an error. Errors are ``EvalError``; their messages name
attributes and types, never the values (a reason must not leak arguments).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable

NUM = frozenset({int, float})
MAX_NODES = 10_000  # a value bigger than this (or cyclic) is refused, not walked forever


class EvalError(Exception):
    """A condition that cannot be evaluated; ALLOW then does not apply, DENY/CONSENT deny."""


def kind_of(v: Any) -> str:
    """`a number`, `a string`, ...: how messages name a value's type."""
    c = v.__class__
    if c is bool:
        return "a boolean"
    if c is int or c is float:
        return "a number" if c is int or v - v == 0 else "not a finite number"
    if c is str:
        return "a string"
    if c is list or c is tuple:
        return "a list"
    if isinstance(v, Mapping):
        return "an object"
    return "an unsupported value"


def check_value(v: Any, name: str) -> None:
    """Refuse what is not a JSON value: non-finite floats (anywhere inside), foreign types, cycles."""
    c = v.__class__
    if c is str or c is bool or c is int:
        return
    if c is float:
        if v - v != 0:
            raise EvalError(f"{name} is not a finite number")
        return
    stack = [v]
    seen = 0
    while stack:
        x = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise EvalError(f"{name} is too large")
        c = x.__class__
        if c is str or c is bool or c is int or x is None:
            continue
        if c is float:
            if x - x != 0:
                raise EvalError(f"{name} holds a number that is not finite")
        elif c is list or c is tuple:
            stack.extend(x)
        elif isinstance(x, Mapping):
            stack.extend(x.values())
        else:
            raise EvalError(f"{name} holds an unsupported value")


def key(v: Any) -> Any:
    """A hashable form in which equal values (by our rules) are equal: 1 == 1.0, true != 1."""
    c = v.__class__
    if c is str:
        return ("s", v)
    if c is bool:
        return ("b", v)
    if c is int or c is float:
        return ("n", v)
    if c is list or c is tuple:
        return ("l", tuple(key(x) for x in v))
    if isinstance(v, Mapping):
        return ("o", frozenset((k, key(x)) for k, x in v.items() if x is not None))
    if v is None:  # a null inside a list: a value equal only to null, never an error
        return ("z",)
    raise EvalError("unsupported value")


def scalar_key(v: Any, name: str) -> Any:
    c = v.__class__
    if c is str:
        return ("s", v)
    if c is bool:
        return ("b", v)
    if c is int or c is float:
        return ("n", v)
    if c is not list and c is not tuple and isinstance(v, Mapping):
        return key(v)  # the note makes only a list (or set) on the element side a type error
    raise EvalError(f"{name} is {kind_of(v)}; the left side of `IN` must be a single value, not a list")


def equal(a: Any, b: Any) -> bool:
    ca, cb = a.__class__, b.__class__
    if ca is cb and (ca is str or ca is int or ca is bool):
        return a == b  # type: ignore[no-any-return]
    if ca in NUM and cb in NUM:
        return a == b  # type: ignore[no-any-return]
    return key(a) == key(b)  # type: ignore[no-any-return]


def set_equal(a: Any, b: Any) -> bool:
    """`set<...>` values compare as sets: order and repeats do not matter."""
    if a.__class__ not in (list, tuple) or b.__class__ not in (list, tuple):
        return equal(a, b)
    return {key(x) for x in a} == {key(x) for x in b}


def member(elem: Any, container: Any, elem_name: str, container_name: str) -> bool:
    """`elem IN container`: list membership or substring; anything else is a type error."""
    cc = container.__class__
    if cc is list or cc is tuple:
        k = scalar_key(elem, elem_name)
        for x in container:
            if key(x) == k:
                return True
        return False
    if cc is str:
        if elem.__class__ is not str:
            raise EvalError(f"{elem_name} is {kind_of(elem)}; `IN` a string needs a string")
        return elem in container  # type: ignore[no-any-return]
    raise EvalError(f"{container_name} is {kind_of(container)}; `IN` needs a list or a string")


def type_check(typ: str | None) -> Callable[[Any], bool] | None:
    """A predicate for a declared type (`number`, `set<string>`, ...), or None when untyped."""
    if typ is None:
        return None
    scalar = {"number": _is_number, "string": _is_string, "bool": _is_bool}
    if typ in scalar:
        return scalar[typ]
    elem = scalar[typ[typ.index("<") + 1:-1]]

    def is_collection(v: Any) -> bool:
        return (v.__class__ is list or v.__class__ is tuple) and all(elem(x) for x in v)

    return is_collection


def _is_number(v: Any) -> bool:
    return v.__class__ in NUM


def _is_string(v: Any) -> bool:
    return v.__class__ is str


def _is_bool(v: Any) -> bool:
    return v.__class__ is bool


def type_words(typ: str) -> str:
    """`a number`, `a set of strings`: how a declared type reads in a message."""
    words = {"number": "a number", "string": "a string", "bool": "a boolean"}
    if typ in words:
        return words[typ]
    coll, elem = typ[:-1].split("<")
    return f"a {coll} of {words[elem][2:]}s"
