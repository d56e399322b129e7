"""Compiled condition trees → Python closures, built once per policy.

Each condition becomes ``f(context, action) -> bool`` that raises ``EvalError``
when it cannot be evaluated. Nothing is ever ``eval``-ed: every node kind maps to
a closure written here, specialised for the common shapes (attribute compared with
a constant, membership in a constant list) because a decision must take about a
microsecond.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Callable

from agentos_contracts.policy import values as V
from agentos_contracts.policy.fastpaths import fused
from agentos_contracts.policy.ir import glob_regex
from agentos_contracts.policy.values import NUM, EvalError

Fn = Callable[[Mapping[str, Any], str], Any]
_TYPE_NAMES = {"number": "a number", "string": "a string", "bool": "a boolean"}


def build_condition(node: Mapping[str, Any]) -> Fn:
    """The closure for a condition node; a fused fast one where ``fastpaths`` has it."""
    general = _build(node)
    return fused(node, general) or general


def _build(node: Mapping[str, Any]) -> Fn:
    op = node["op"]
    if op == "and":
        return _and([build_condition(a) for a in node["args"]])
    if op == "or":
        return _or([build_condition(a) for a in node["args"]])
    if op == "not":
        inner = build_condition(node["arg"])
        return lambda ctx, act: not inner(ctx, act)
    if op == "has":
        return _has(tuple(node["path"]))
    if op == "truth":
        return _truth(node["arg"])
    if op == "matches":
        return _matches(node["arg"], node["glob"])
    if op == "in":
        return _in(node["left"], node["right"])
    if op in ("==", "!="):
        eq = _eq(node["left"], node["right"])
        return eq if op == "==" else (lambda ctx, act: not eq(ctx, act))
    return _order(op, node["left"], node["right"])


def _and(fs: list[Fn]) -> Fn:
    if len(fs) == 2:
        a, b = fs
        return lambda ctx, act: a(ctx, act) and b(ctx, act)

    def all_of(ctx: Mapping[str, Any], act: str) -> bool:
        for f in fs:
            if not f(ctx, act):
                return False
        return True

    return all_of


def _or(fs: list[Fn]) -> Fn:
    if len(fs) == 2:
        a, b = fs
        return lambda ctx, act: a(ctx, act) or b(ctx, act)

    def any_of(ctx: Mapping[str, Any], act: str) -> bool:
        for f in fs:
            if f(ctx, act):
                return True
        return False

    return any_of


# ---- operands ------------------------------------------------------------------------


def describe(node: Mapping[str, Any]) -> str:
    """How an operand is named in an error: attributes by path, constants by type only."""
    op = node["op"]
    if op == "attr":
        return f"attribute `{'.'.join(node['path'])}`"
    if op == "action":
        return "`action`"
    if op == "list":
        return "a list"
    return V.kind_of(node["value"])


def _lookup(path: tuple[str, ...]) -> Callable[[Mapping[str, Any]], Any]:
    """None when absent (a missing key, a null, or a step into a non-object)."""
    if len(path) == 1:
        k = path[0]
        return lambda ctx: ctx.get(k)
    if len(path) == 2:
        k1, k2 = path

        def get2(ctx: Mapping[str, Any]) -> Any:
            v = ctx.get(k1)
            if v.__class__ is dict or isinstance(v, Mapping):
                return v.get(k2)
            return None

        return get2

    def get(ctx: Mapping[str, Any]) -> Any:
        v: Any = ctx
        for k in path:
            if v.__class__ is not dict and not isinstance(v, Mapping):
                return None
            v = v.get(k)
            if v is None:
                return None
        return v

    return get


def operand(node: Mapping[str, Any]) -> Fn:
    op = node["op"]
    if op == "value":
        c = node["value"]
        return lambda ctx, act: c
    if op == "list":
        items = list(node["items"])
        return lambda ctx, act: items
    if op == "action":
        return lambda ctx, act: act
    path = tuple(node["path"])
    name = f"attribute `{'.'.join(path)}`"
    look = _lookup(path)
    typ = node.get("type")
    check = V.type_check(typ)
    expected = _TYPE_NAMES.get(typ or "", "") or (typ and V.type_words(typ))

    def attr(ctx: Mapping[str, Any], act: str) -> Any:
        v = look(ctx)
        if v is None:
            raise EvalError(f"{name} is missing")
        c = v.__class__
        if c is not str and c is not int and c is not bool:
            V.check_value(v, name)
        if check is not None and not check(v):
            raise EvalError(f"{name} is {V.kind_of(v)}, expected {expected}")
        return v

    return attr


def _const(node: Mapping[str, Any]) -> tuple[bool, Any]:
    if node["op"] == "value":
        return True, node["value"]
    if node["op"] == "list":
        return True, list(node["items"])
    return False, None


def _is_set(node: Mapping[str, Any]) -> bool:
    return node["op"] == "attr" and str(node.get("type") or "").startswith("set<")


# ---- conditions ----------------------------------------------------------------------


def _has(path: tuple[str, ...]) -> Fn:
    if path == ("action",):
        return lambda ctx, act: True
    look = _lookup(path)
    return lambda ctx, act: look(ctx) is not None


def _truth(node: Mapping[str, Any]) -> Fn:
    get = operand(node)
    what = describe(node)

    def truth(ctx: Mapping[str, Any], act: str) -> bool:
        v = get(ctx, act)
        if v is True or v is False:
            return v
        raise EvalError(f"{what} is {V.kind_of(v)}, expected a boolean")

    return truth


def _matches(node: Mapping[str, Any], glob: str) -> Fn:
    get = operand(node)
    what = describe(node)
    full = re.compile(glob_regex(glob), re.DOTALL).fullmatch

    def matches(ctx: Mapping[str, Any], act: str) -> bool:
        v = get(ctx, act)
        if v.__class__ is not str:
            raise EvalError(f"{what} is {V.kind_of(v)}; `MATCHES` needs a string")
        return full(v) is not None

    return matches


def _in(elem_node: Mapping[str, Any], cont_node: Mapping[str, Any]) -> Fn:
    elem, cont = operand(elem_node), operand(cont_node)
    ename, cname = describe(elem_node), describe(cont_node)
    if cont_node["op"] == "list":
        keys = frozenset(V.key(x) for x in cont_node["items"])

        def in_list(ctx: Mapping[str, Any], act: str) -> bool:
            return V.scalar_key(elem(ctx, act), ename) in keys

        return in_list
    return lambda ctx, act: V.member(elem(ctx, act), cont(ctx, act), ename, cname)


def _eq(left: Mapping[str, Any], right: Mapping[str, Any]) -> Fn:
    if _is_set(left) or _is_set(right):
        a, b = operand(left), operand(right)
        return lambda ctx, act: V.set_equal(a(ctx, act), b(ctx, act))
    lconst, _ = _const(left)
    if lconst and not _const(right)[0]:
        left, right = right, left  # equality is symmetric; put the constant on the right
    get = operand(left)
    is_const, c = _const(right)
    if is_const and right["op"] == "value":
        cls = c.__class__
        if cls is str:
            return lambda ctx, act: (v := get(ctx, act)).__class__ is str and v == c
        if cls is bool:
            return lambda ctx, act: get(ctx, act) is c
        return lambda ctx, act: (v := get(ctx, act)).__class__ in NUM and v == c
    other = operand(right)
    return lambda ctx, act: V.equal(get(ctx, act), other(ctx, act))


_ORDER = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def _order(op: str, left: Mapping[str, Any], right: Mapping[str, Any]) -> Fn:
    a, b = operand(left), operand(right)
    aname, bname = describe(left), describe(right)
    is_const, c = _const(right)
    if is_const and c.__class__ in NUM:
        def bad(v: Any) -> EvalError:
            return EvalError(f"{aname} is {V.kind_of(v)}; `{op}` needs numbers")

        if op == "<":
            def lt(ctx: Mapping[str, Any], act: str) -> bool:
                v = a(ctx, act)
                if v.__class__ in NUM:
                    return v < c  # type: ignore[no-any-return]
                raise bad(v)
            return lt
        if op == ">":
            def gt(ctx: Mapping[str, Any], act: str) -> bool:
                v = a(ctx, act)
                if v.__class__ in NUM:
                    return v > c  # type: ignore[no-any-return]
                raise bad(v)
            return gt
    cmp = _ORDER[op]

    def order(ctx: Mapping[str, Any], act: str) -> bool:
        x, y = a(ctx, act), b(ctx, act)
        if x.__class__ not in NUM:
            raise EvalError(f"{aname} is {V.kind_of(x)}; `{op}` needs numbers")
        if y.__class__ not in NUM:
            raise EvalError(f"{bname} is {V.kind_of(y)}; `{op}` needs numbers")
        return cmp(x, y)  # type: ignore[no-any-return]

    return order
