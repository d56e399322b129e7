"""Warnings about what rules can do: never applicable, shadowed, duplicated, outside the ceiling.

"Never applicable" is interval reasoning per attribute: the condition is put in
disjunctive normal form (NOT pushed to the atoms), and each conjunction is checked
for constraints on one attribute that exclude each other (`x < 1 AND x > 2`,
`x == "a" AND x IN ["b"]`, `has x AND NOT (has x)`). The check is sound: it warns
only when no request can make the condition true, and the witness is the pair of
atoms that clash. Conditions too large to expand are skipped, never guessed.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any, Iterable

from agentos_contracts import diagnostics as dg
from agentos_contracts.diagnostics import Diagnostic
from agentos_contracts.policy import ast
from agentos_contracts.policy.conjunction import Clash, Conjunction
from agentos_contracts.policy.fmt import format_expr

MAX_TERMS = 64
Atom = tuple[ast.Expr, bool]  # an atom and whether it must be true (False: its negation must be)


def _dnf(e: ast.Expr, positive: bool) -> list[list[Atom]] | None:
    """Conjunctions whose disjunction is implied by `e` (or `NOT e`) being true; None if too big."""
    if isinstance(e, ast.Not):
        return _dnf(e.operand, not positive)
    if isinstance(e, (ast.And, ast.Or)):
        conj = isinstance(e, ast.And) == positive
        parts = [_dnf(i, positive) for i in e.items]
        if any(p is None for p in parts):
            return None
        if not conj:
            out = [c for p in parts for c in p]  # type: ignore[union-attr]
            return out if len(out) <= MAX_TERMS else None
        acc: list[list[Atom]] = [[]]
        for p in parts:
            acc = [a + b for a in acc for b in p]  # type: ignore[union-attr]
            if len(acc) > MAX_TERMS:
                return None
        return acc
    if isinstance(e, ast.Truth) and isinstance(e.operand, ast.Literal):
        return [[]] if bool(e.operand.value) == positive else []
    return [[(e, positive)]]


def atom_text(atom: Atom) -> str:
    e, positive = atom
    text = format_expr(e)
    if positive:
        return text
    return "NOT " + text if isinstance(e, ast.Truth) else f"NOT ({text})"


def never_applies(rule: ast.Rule, types: dict[tuple[str, ...], str]) -> str | None:
    """A witness that the rule's condition is never true, or None if it may be."""
    if rule.condition is None:
        return None
    terms = _dnf(rule.condition, True)
    if terms is None:
        return None
    if not terms:
        return "its condition is always false"
    witnesses: list[str] = []
    for term in terms:
        clash = Conjunction(types, rule.targets).clash(term)
        if clash is None:
            return None
        witnesses.append(_describe(clash))
    more = " (and so does every other alternative of its `OR`)" if len(witnesses) > 1 else ""
    return witnesses[0] + more


def _describe(clash: Clash) -> str:
    a, b, why = clash
    if b is None:
        return f"`{atom_text(a)}` {why}"
    if (b[0].span.line, b[0].span.column) < (a[0].span.line, a[0].span.column):
        a, b = b, a  # name them in source order
    return f"`{atom_text(a)}` contradicts `{atom_text(b)}`" + (f" ({why})" if why else "")


# ---- rule-set warnings ----------------------------------------------------------------------


class _Cover:
    """Targets as a set: exact names, prefixes, or everything; answers coverage and overlap fast."""

    def __init__(self, targets: Iterable[tuple[ast.Target, Any]]) -> None:
        self.all: Any = None
        self.exact: dict[str, Any] = {}
        self.prefix: dict[str, Any] = {}
        for t, owner in targets:
            if t.kind == "all":
                self.all = self.all if self.all is not None else owner
            elif t.kind == "prefix":
                self.prefix.setdefault(t.name, owner)
            else:
                self.exact.setdefault(t.name, owner)
        self.sorted_exact = sorted(self.exact)

    def _prefix_of(self, name: str) -> Any:
        parts = name.split(".")
        for n in range(1, len(parts)):  # `p.*` never matches `p` itself
            owner = self.prefix.get(".".join(parts[:n]) + ".")
            if owner is not None:
                return owner
        return None

    def covering(self, t: ast.Target) -> Any:
        """An owner whose targets include every action `t` matches (the most specific one)."""
        if t.kind == "exact" and t.name in self.exact:
            return self.exact[t.name]
        found = self._prefix_of(t.name) if t.kind != "all" else None
        return found if found is not None else self.all

    def overlapping(self, t: ast.Target) -> Any:
        """An owner whose targets share at least one action with `t`."""
        if self.all is not None:
            return self.all
        if t.kind == "all":
            return next(iter(self.exact.values()), None) or next(iter(self.prefix.values()), None)
        found = self.covering(t)
        if found is not None:
            return found
        if t.kind == "prefix":
            i = bisect_left(self.sorted_exact, t.name)
            if i < len(self.sorted_exact) and self.sorted_exact[i].startswith(t.name):
                return self.exact[self.sorted_exact[i]]
            return next((o for p, o in self.prefix.items() if p.startswith(t.name)), None)
        return None


def example_action(t: ast.Target) -> str:
    return t.name if t.kind == "exact" else (t.name + "anything" if t.kind == "prefix" else "any action")


def _targets(rule: ast.Rule) -> tuple[ast.Target, ...]:
    return rule.targets or (ast.Target(kind="all", span=rule.effect_span),)


def rule_set_warnings(rules: list[ast.Rule], ceiling: list[ast.Target] | None,
                      consent_for: list[ast.Target], implied_allow: bool,
                      types: dict[int, dict[tuple[str, ...], str]], contract: str | None = None) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    seen: dict[tuple[Any, ...], ast.Rule] = {}
    for r in rules:
        k = (r.effect, frozenset(_targets(r)), r.condition)
        if k in seen:
            out.append(dg.make("AC332", r.effect_span, id=r.id, other=seen[k].id))
        else:
            seen[k] = r
        witness = never_applies(r, types.get(id(r), {}))
        if witness is not None:
            hint = ("a DENY or CONSENT still denies when its condition cannot be evaluated"
                    if r.effect is not ast.Effect.ALLOW else "fix the condition or remove the rule")
            out.append(dg.make("AC330", r.condition.span if r.condition else r.span, id=r.id, witness=witness,
                               hint=hint))
    denies = _Cover((t, r) for r in rules if r.effect is ast.Effect.DENY and r.condition is None for t in _targets(r))
    for r in rules:
        if r.effect is not ast.Effect.ALLOW:
            continue
        owners = [denies.covering(t) for t in _targets(r)]
        if owners and all(o is not None for o in owners):
            out.append(dg.make("AC331", r.effect_span, id=r.id, deny=owners[0].id,
                               action=example_action(_targets(r)[0])))
    if ceiling is not None:
        cover = _Cover((t, t) for t in ceiling)
        for r in rules:
            if r.effect is ast.Effect.DENY:
                continue
            for t in _targets(r):
                if cover.overlapping(t) is None:
                    effect = "ALLOW" if r.effect is ast.Effect.ALLOW else "CONSENT"
                    out.append(dg.make("AC333", t.span, effect=effect, target=t.text(),
                                       contract=f"contract `{contract}`" if contract else "the contract"))
    allows = _Cover((t, r) for r in rules if r.effect is ast.Effect.ALLOW for t in _targets(r))
    contract_consent = _Cover((t, t) for t in consent_for)
    if not implied_allow:
        for r in rules:
            if r.effect is not ast.Effect.CONSENT:
                continue
            for t in _targets(r):
                if allows.overlapping(t) is None and contract_consent.covering(t) is None:
                    out.append(dg.make("AC334", t.span, target=t.text()))
    return out
