"""Fused closures for the shapes most rules have: an attribute (one or two keys deep)
compared with a constant, tested against a constant list, or used as a boolean.

Each reads the value and decides in one Python frame when the value is plainly of the
expected kind (a string, an int, a finite float, a boolean); for anything else (absent,
null, NaN, another type, a declared type to enforce) it hands over to the general
closure, which gives the exact answer or error. So these change speed, never meaning:
``test_fastpaths.py`` checks every fused closure against the general one, and
``test_properties.py`` the evaluator against a reference interpreter.

The one-key and two-key readers are written out for each shape on purpose: a shared
reader would cost a Python call per decision, which is what these closures exist to save.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any, Callable

Fn = Callable[[Mapping[str, Any], str], Any]
_MISS = object()  # never of the classes tested below: sends the read to `slow`
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def fused(node: Mapping[str, Any], slow: Fn) -> Fn | None:
    """A fast closure equivalent to ``slow`` for this condition node, or None if none applies."""
    op = node["op"]
    if op == "truth":
        path = _path(node["arg"], (None, "bool"))
        return _truth(path, slow) if path else None
    if op == "in":
        left, right = node["left"], node["right"]
        path = _path(left, (None, "number", "string"))
        if path and right["op"] == "list":
            return _in_list(path, right["items"], left.get("type"), slow)
        path = _path(right, (None, "string", "set<string>", "list<string>"))
        if path and left["op"] == "value" and left["value"].__class__ is str:
            typ = right.get("type")
            return _has_string(path, left["value"], typ in (None, "string"), typ != "string", slow)
        return None
    right = node.get("right")
    if op not in _ORDER and op not in ("==", "!=") or not right or right["op"] != "value":
        return None
    c = right["value"]
    if op in _ORDER:
        path = _path(node["left"], (None, "number"))
        return _number(path, _ORDER[op], c, slow) if path and c.__class__ in (int, float) else None
    kind = {str: "string", bool: "bool", int: "number", float: "number"}[c.__class__]
    path = _path(node["left"], (None, kind))  # a declared type that differs: let `slow` raise
    if not path:
        return None
    if op == "==":
        return _eq(path, c, slow)
    test = _eq(path, c, lambda ctx, act: not slow(ctx, act))  # `slow` answers `!=`
    return lambda ctx, act: not test(ctx, act)


def _path(node: Mapping[str, Any], types: tuple[str | None, ...]) -> tuple[str, ...] | None:
    if node["op"] != "attr" or len(node["path"]) > 2 or node.get("type") not in types:
        return None
    return tuple(node["path"])


def _number(path: tuple[str, ...], cmp: Callable[[Any, Any], bool], c: Any, slow: Fn) -> Fn:
    if len(path) == 1:
        k = path[0]

        def one(ctx: Mapping[str, Any], act: str) -> Any:
            try:
                v = ctx[k]
            except Exception:
                return slow(ctx, act)
            if v.__class__ is int or v.__class__ is float and v - v == 0:
                return cmp(v, c)
            return slow(ctx, act)

        return one
    k1, k2 = path

    def two(ctx: Mapping[str, Any], act: str) -> Any:
        try:
            d = ctx[k1]
            v = d[k2] if d.__class__ is dict else _MISS
        except Exception:
            return slow(ctx, act)
        if v.__class__ is int or v.__class__ is float and v - v == 0:
            return cmp(v, c)
        return slow(ctx, act)

    return two


def _eq(path: tuple[str, ...], c: Any, slow: Fn) -> Fn:
    cls = c.__class__
    if cls is float:
        cls = int  # ints and finite floats compare alike; floats go through the check below
    if len(path) == 1:
        k = path[0]

        def one(ctx: Mapping[str, Any], act: str) -> Any:
            try:
                v = ctx[k]
            except Exception:
                return slow(ctx, act)
            if v.__class__ is cls:
                return v == c
            return slow(ctx, act)

        return one
    k1, k2 = path

    def two(ctx: Mapping[str, Any], act: str) -> Any:
        try:
            d = ctx[k1]
            v = d[k2] if d.__class__ is dict else _MISS
        except Exception:
            return slow(ctx, act)
        if v.__class__ is cls:
            return v == c
        return slow(ctx, act)

    return two


def _in_list(path: tuple[str, ...], items: list[Any], typ: str | None, slow: Fn) -> Fn:
    strings = frozenset(x for x in items if x.__class__ is str)
    ints = frozenset(x for x in items if x.__class__ in (int, float))
    str_cls = str if typ in (None, "string") else None  # a class `v` never has: always `slow`
    int_cls = int if typ in (None, "number") else None
    if len(path) == 1:
        k = path[0]

        def one(ctx: Mapping[str, Any], act: str) -> Any:
            try:
                v = ctx[k]
            except Exception:
                return slow(ctx, act)
            if v.__class__ is str_cls:
                return v in strings
            if v.__class__ is int_cls:
                return v in ints
            return slow(ctx, act)

        return one
    k1, k2 = path

    def two(ctx: Mapping[str, Any], act: str) -> Any:
        try:
            d = ctx[k1]
            v = d[k2] if d.__class__ is dict else _MISS
        except Exception:
            return slow(ctx, act)
        if v.__class__ is str_cls:
            return v in strings
        if v.__class__ is int_cls:
            return v in ints
        return slow(ctx, act)

    return two


def _truth(path: tuple[str, ...], slow: Fn) -> Fn:
    if len(path) == 1:
        k = path[0]

        def one(ctx: Mapping[str, Any], act: str) -> Any:
            try:
                v = ctx[k]
            except Exception:
                return slow(ctx, act)
            if v is True or v is False:
                return v
            return slow(ctx, act)

        return one
    k1, k2 = path

    def two(ctx: Mapping[str, Any], act: str) -> Any:
        try:
            d = ctx[k1]
            v = d[k2] if d.__class__ is dict else _MISS
        except Exception:
            return slow(ctx, act)
        if v is True or v is False:
            return v
        return slow(ctx, act)

    return two


def _has_string(path: tuple[str, ...], c: str, text_ok: bool, list_ok: bool, slow: Fn) -> Fn:
    """`"c" IN attr`: the attribute a list of strings (membership) or a string (substring), each
    only where its declared type allows; anything else goes to ``slow``, which fails closed."""
    text_cls = str if text_ok else None
    list_cls = list if list_ok else None
    if len(path) == 1:
        k = path[0]

        def one(ctx: Mapping[str, Any], act: str) -> Any:
            try:
                v = ctx[k]
            except Exception:
                return slow(ctx, act)
            if v.__class__ is list_cls:
                for x in v:
                    if x.__class__ is not str:
                        return slow(ctx, act)
                return c in v
            return c in v if v.__class__ is text_cls else slow(ctx, act)

        return one
    k1, k2 = path

    def two(ctx: Mapping[str, Any], act: str) -> Any:
        try:
            d = ctx[k1]
            v = d[k2] if d.__class__ is dict else _MISS
        except Exception:
            return slow(ctx, act)
        if v.__class__ is list_cls:
            for x in v:
                if x.__class__ is not str:
                    return slow(ctx, act)
            return c in v
        return c in v if v.__class__ is text_cls else slow(ctx, act)

    return two
