"""One conjunction of atoms, checked for constraints on one attribute that exclude each other.

Each attribute gets a state: presence, the types it may have, a numeric interval
(with open or closed ends), a required value, excluded values, an allowed set (from
`IN [...]`) and globs. Atoms are added in order; the first one that leaves some
attribute with no possible value is reported with the earlier atom it clashes with.
Everything here is an under-approximation of "impossible": unknown shapes add no
constraint, so a clash is always real.
"""

from __future__ import annotations

import re
from typing import Any

from agentos_contracts.policy import ast
from agentos_contracts.policy.ir import GlobError, glob_regex
from agentos_contracts.policy.values import EvalError, equal, key, member

Atom = tuple[ast.Expr, bool]
Clash = tuple[Atom, "Atom | None", str]
_ALL = frozenset({"number", "string", "bool", "list", "object"})
_KIND = {"n": "number", "s": "string", "b": "bool"}
_NEGATE = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", "<=": ">", ">": "<="}
_MIRROR = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}
_ACTION = ("\0action",)


class _Var:
    __slots__ = ("present", "present_atom", "types", "types_atom", "lo", "lo_strict", "lo_atom", "hi",
                 "hi_strict", "hi_atom", "eq", "eq_atom", "ne", "allowed", "allowed_atom", "globs", "last")

    def __init__(self, types: frozenset[str]) -> None:
        self.present: bool | None = None
        self.present_atom: Atom | None = None
        self.types = types
        self.types_atom: Atom | None = None
        self.lo: Any = None
        self.lo_strict = False
        self.lo_atom: Atom | None = None
        self.hi: Any = None
        self.hi_strict = False
        self.hi_atom: Atom | None = None
        self.eq: Any = None
        self.eq_atom: Atom | None = None
        self.ne: dict[Any, Atom] = {}
        self.allowed: frozenset[Any] | None = None
        self.allowed_atom: Atom | None = None
        self.globs: list[tuple[Any, bool, Atom]] = []
        self.last: Atom | None = None


def _declared(t: str | None) -> frozenset[str]:
    if t is None:
        return _ALL
    return frozenset({"list"}) if "<" in t else frozenset({t})


class Conjunction:
    def __init__(self, types: dict[tuple[str, ...], str], targets: tuple[ast.Target, ...]) -> None:
        self.types = types
        self.targets = targets
        self.vars: dict[tuple[str, ...], _Var] = {}

    def clash(self, term: list[Atom]) -> Clash | None:
        for atom in term:
            found = self._add(atom)
            if found is not None:
                return found
        return None

    def _var(self, node: ast.Path | ast.ActionRef) -> tuple[tuple[str, ...], _Var]:
        parts = _ACTION if isinstance(node, ast.ActionRef) else node.parts
        v = self.vars.get(parts)
        if v is None:
            v = _Var(frozenset({"string"}) if parts == _ACTION else _declared(self.types.get(parts)))
            if parts == _ACTION:
                v.present = True
            self.vars[parts] = v
        return parts, v

    # ---- atoms

    def _add(self, atom: Atom) -> Clash | None:
        e, pos = atom
        if isinstance(e, ast.Has):
            if e.path.parts == ("action",):
                return None if pos else (atom, None, "is always false: every request has an action")
            return self._present(e.path, atom) if pos else self._absent(e.path, atom)
        if isinstance(e, ast.Truth):
            if not isinstance(e.operand, ast.Path):
                return (atom, None, "can never be evaluated: `action` is a string")
            return self._is(e.operand, atom, frozenset({"bool"}), ("b", pos))
        if isinstance(e, ast.Compare):
            return self._compare(e.left, e.op if pos else _NEGATE[e.op], e.right, atom)
        if isinstance(e, ast.Member):
            elem, cont = e.element_container()
            return self._member(elem, cont, pos != (e.op == "not in"), atom)
        if isinstance(e, ast.Matches):
            return self._matches(e, pos, atom)
        return None

    def _compare(self, left: ast.Operand, op: str, right: ast.Operand, atom: Atom) -> Clash | None:
        if not _is_var(left) and _is_var(right):
            left, right, op = right, left, _MIRROR[op]
        if not _is_var(left):
            return _constant(atom, lambda: _compare_values(_value(left), op, _value(right)))
        clash = self._present_var(left, atom)  # type: ignore[arg-type]
        if clash is not None or _is_var(right):
            if clash is None and _is_var(right):
                clash = self._present_var(right, atom)  # type: ignore[arg-type]
            if clash is None and op in ("<", "<=", ">", ">="):
                clash = self._restrict(left, frozenset({"number"}), atom) or \
                    self._restrict(right, frozenset({"number"}), atom)  # type: ignore[arg-type]
            return clash
        value = _value(right)
        if op in ("<", "<=", ">", ">="):
            if value.__class__ not in (int, float):
                return (atom, None, f"can never be evaluated: `{op}` needs numbers")
            return self._bound(left, op, value, atom)  # type: ignore[arg-type]
        if isinstance(right, ast.ListLit):
            return self._restrict(left, frozenset({"list"}), atom)  # type: ignore[arg-type]
        k = key(value)
        if op == "==":
            return self._is(left, atom, frozenset({_KIND[k[0]]}), k)  # type: ignore[arg-type]
        _, v = self._var(left)  # type: ignore[arg-type]
        v.ne.setdefault(k, atom)
        return self._check(left, atom)  # type: ignore[arg-type]

    def _member(self, elem: ast.Operand, cont: ast.Operand, positive: bool, atom: Atom) -> Clash | None:
        if not _is_var(elem) and not _is_var(cont):
            return _constant(atom, lambda: member(_value(elem), _value(cont), "", "") == positive)
        if _is_var(cont):
            clash = self._present_var(cont, atom)  # type: ignore[arg-type]
            types = {"list", "string"} if not isinstance(elem, ast.Literal) or elem.kind == "string" else {"list"}
            clash = clash or self._restrict(cont, frozenset(types), atom)  # type: ignore[arg-type]
            if clash is not None or not _is_var(elem):
                return clash
        clash = self._present_var(elem, atom) or \
            self._restrict(elem, frozenset({"number", "string", "bool"}), atom)  # type: ignore[arg-type]
        if clash is not None or not isinstance(cont, ast.ListLit):
            return clash
        keys = frozenset(key(i.value) for i in cont.items)
        _, v = self._var(elem)  # type: ignore[arg-type]
        if positive:
            v.allowed = keys if v.allowed is None else v.allowed & keys
            v.allowed_atom = atom if v.allowed_atom is None else v.allowed_atom
            return self._restrict(elem, frozenset(_KIND[k[0]] for k in keys), atom)  # type: ignore[arg-type]
        for k in keys:
            v.ne.setdefault(k, atom)
        return self._check(elem, atom)  # type: ignore[arg-type]

    def _matches(self, e: ast.Matches, pos: bool, atom: Atom) -> Clash | None:
        try:
            rx = re.compile(glob_regex(e.glob), re.DOTALL)
        except GlobError:
            return None  # reported as an error by the checker
        if not _is_var(e.subject):
            value = _value(e.subject)
            return _constant(atom, lambda: isinstance(value, str) and (rx.fullmatch(value) is not None) == pos)
        clash = self._present_var(e.subject, atom) or \
            self._restrict(e.subject, frozenset({"string"}), atom)  # type: ignore[arg-type]
        if clash is not None:
            return clash
        _, v = self._var(e.subject)  # type: ignore[arg-type]
        v.globs.append((rx, pos, atom))
        return self._check(e.subject, atom)  # type: ignore[arg-type]

    # ---- state updates

    def _present_var(self, node: ast.Path | ast.ActionRef, atom: Atom) -> Clash | None:
        return None if isinstance(node, ast.ActionRef) else self._present(node, atom)

    def _present(self, path: ast.Path, atom: Atom) -> Clash | None:
        parts = path.parts
        for n in range(1, len(parts) + 1):
            v = self.vars.get(parts[:n])
            if v is None:
                v = self.vars[parts[:n]] = _Var(_declared(self.types.get(parts[:n])))
            if v.present is False:
                return (v.present_atom, atom, "")  # type: ignore[return-value]
            if v.present is None:
                v.present, v.present_atom = True, atom
            if n < len(parts):
                clash = self._restrict_parts(parts[:n], frozenset({"object"}), atom)
                if clash is not None:
                    return clash
        return None

    def _absent(self, path: ast.Path, atom: Atom) -> Clash | None:
        parts = path.parts
        for other, v in self.vars.items():
            if other[: len(parts)] == parts and v.present:
                return (v.present_atom, atom, "")  # type: ignore[return-value]
        v = self.vars.setdefault(parts, _Var(_declared(self.types.get(parts))))
        v.present, v.present_atom = False, atom
        return None

    def _restrict(self, node: ast.Path | ast.ActionRef, types: frozenset[str], atom: Atom) -> Clash | None:
        parts, _ = self._var(node)
        return self._restrict_parts(parts, types, atom)

    def _restrict_parts(self, parts: tuple[str, ...], types: frozenset[str], atom: Atom) -> Clash | None:
        v = self.vars[parts]
        narrowed = v.types & types
        if not narrowed:
            if v.types_atom is None:
                return (atom, None, "can never hold: the attribute's declared type rules it out")
            return (v.types_atom, atom, "the attribute cannot have both types")
        if narrowed != v.types:
            v.types, v.types_atom = narrowed, atom
        return self._check_parts(parts, atom)

    def _is(self, node: ast.Path | ast.ActionRef, atom: Atom, types: frozenset[str], k: Any) -> Clash | None:
        clash = self._present_var(node, atom) or self._restrict(node, types, atom)
        if clash is not None:
            return clash
        _, v = self._var(node)
        if v.eq is not None and v.eq != k:
            return (v.eq_atom, atom, "")  # type: ignore[return-value]
        v.eq, v.eq_atom = k, v.eq_atom or atom
        return self._check(node, atom)

    def _bound(self, node: ast.Path, op: str, value: Any, atom: Atom) -> Clash | None:
        clash = self._restrict(node, frozenset({"number"}), atom)
        if clash is not None:
            return clash
        _, v = self._var(node)
        strict = op in ("<", ">")
        if op in (">", ">="):
            if v.lo is None or value > v.lo or (value == v.lo and strict and not v.lo_strict):
                v.lo, v.lo_strict, v.lo_atom = value, strict, atom
        elif v.hi is None or value < v.hi or (value == v.hi and strict and not v.hi_strict):
            v.hi, v.hi_strict, v.hi_atom = value, strict, atom
        return self._check(node, atom)

    def _check(self, node: ast.Path | ast.ActionRef, atom: Atom) -> Clash | None:
        parts, _ = self._var(node)
        return self._check_parts(parts, atom)

    def _check_parts(self, parts: tuple[str, ...], atom: Atom) -> Clash | None:
        v = self.vars[parts]
        if v.lo is not None and v.hi is not None:
            if v.lo > v.hi or (v.lo == v.hi and (v.lo_strict or v.hi_strict)):
                return (v.lo_atom, v.hi_atom, "")  # type: ignore[return-value]
        if v.eq is not None and self._off_target(parts, v.eq):
            return (v.eq_atom, None, "can never hold: the rule's targets do not match that action")  # type: ignore[return-value]
        if v.allowed is not None and v.allowed and all(self._off_target(parts, k) for k in v.allowed):
            return (v.allowed_atom, None, "can never hold: the rule's targets match none of those actions")  # type: ignore[return-value]
        if v.eq is not None:
            why = self._rejects(parts, v, v.eq)
            if why is not None:
                if why is v.eq_atom:
                    return (v.eq_atom, None, "can never hold together with the other conditions")  # type: ignore[return-value]
                return (why, v.eq_atom, "")
        elif v.lo is not None and v.lo == v.hi and ("n", v.lo) in v.ne:
            return (v.ne[("n", v.lo)], atom if atom is not v.ne[("n", v.lo)] else v.lo_atom, "")  # type: ignore[return-value]
        if v.allowed is not None and all(self._rejects(parts, v, k) is not None for k in v.allowed):
            other = atom if atom is not v.allowed_atom else (v.last or atom)
            if other is v.allowed_atom:
                return (v.allowed_atom, None, "can never hold together with the other conditions")  # type: ignore[return-value]
            return (v.allowed_atom, other, "")  # type: ignore[return-value]
        v.last = atom
        return None

    def _rejects(self, parts: tuple[str, ...], v: _Var, k: Any) -> Atom | None:
        """The atom that rules value `k` out, if any."""
        kind = _KIND.get(k[0])
        if kind not in v.types:
            return v.types_atom or v.eq_atom
        if k in v.ne:
            return v.ne[k]
        if v.allowed is not None and k not in v.allowed:
            return v.allowed_atom
        if kind == "number":
            x = k[1]
            if v.lo is not None and (x < v.lo or (x == v.lo and v.lo_strict)):
                return v.lo_atom
            if v.hi is not None and (x > v.hi or (x == v.hi and v.hi_strict)):
                return v.hi_atom
        if kind == "string":
            for rx, positive, g_atom in v.globs:
                if (rx.fullmatch(k[1]) is not None) != positive:
                    return g_atom
        return None

    def _off_target(self, parts: tuple[str, ...], k: Any) -> bool:
        return parts == _ACTION and k[0] == "s" and bool(self.targets) and not any(t.matches(k[1]) for t in self.targets)


def _is_var(node: ast.Operand) -> bool:
    return isinstance(node, (ast.Path, ast.ActionRef))


def _value(node: ast.Operand) -> Any:
    if isinstance(node, ast.ListLit):
        return [i.value for i in node.items]
    return node.value  # type: ignore[union-attr]


def _compare_values(a: Any, op: str, b: Any) -> bool:
    if op in ("==", "!="):
        return equal(a, b) == (op == "==")
    if a.__class__ not in (int, float) or b.__class__ not in (int, float):
        raise EvalError("not numbers")
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _constant(atom: Atom, test: Any) -> Clash | None:
    try:
        holds = bool(test())
    except EvalError:
        return (atom, None, "can never be evaluated")
    return None if holds else (atom, None, "is always false")
