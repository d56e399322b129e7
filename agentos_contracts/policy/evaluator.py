"""Deciding requests from a compiled policy: ceiling, then DENY, CONSENT, ALLOW, default deny.

The evaluator reads only the compiled document (``ir``); conditions become closures
once (``closures``), and for each action the applicable rules are looked up once in
the index by action and cached as a plan. Fail closed: a DENY or CONSENT whose
condition cannot be evaluated decides deny, an ALLOW that cannot be evaluated does
not apply, and a broken or missing policy denies everything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable

from agentos_contracts import diagnostics as dg
from agentos_contracts.diagnostics import Diagnostic, Span
from agentos_contracts.policy import ir
from agentos_contracts.policy.closures import build_condition
from agentos_contracts.policy.values import EvalError

_ACTION = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z][A-Za-z0-9_-]*)*\Z")
MAX_PLANS = 65_536  # distinct actions remembered; beyond this the cache starts over
CEILING_ID = "contract:capabilities"

Cond = Callable[[Mapping[str, Any], str], Any]


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome for one request: effect, the deciding rule ids (source order), a one-line reason."""

    effect: str  # "allow" | "deny" | "consent"
    rules: tuple[str, ...]
    reason: str
    errors: tuple[str, ...] = field(default=())

    @property
    def allowed(self) -> bool:
        return self.effect == "allow"

    def to_json(self) -> dict[str, Any]:
        return {"decision": self.effect, "rules": list(self.rules), "reason": self.reason}


_BAD_CONTEXT = Decision("deny", (), "denied: the request context is not an object")
_BAD_ARGS = Decision("deny", (), "denied: the tool arguments are not an object")


def _applies(cond: Cond | None, context: Mapping[str, Any], action: str) -> bool:
    try:
        return cond is None or bool(cond(context, action))
    except EvalError:
        return False


@dataclass(slots=True)
class _Plan:
    fixed: Decision | None
    denies: tuple[tuple[int, Cond | None], ...] = ()  # DENY and CONSENT: both fail closed
    allows: tuple[tuple[int, Cond | None], ...] = ()
    default: Decision | None = None
    single: dict[int, Decision] = field(default_factory=dict)  # the decision when one ALLOW applies


class CompiledPolicy:
    """A compiled policy ready to decide; built from a checked compiled document."""

    def __init__(self, document: ir.CompiledDocument | None, diagnostics: list[Diagnostic] | None = None,
                 data: bytes | None = None) -> None:
        self.document = document
        self.diagnostics = list(diagnostics or [])
        self.data = data  # canonical bytes when this policy was compiled here
        self._plans: dict[str, _Plan] = {}
        self._hit_memo: dict[int | tuple[int, ...], Decision] = {}  # applicable DENY/CONSENT set → decision
        self._memo: dict[tuple[str, Any], Decision] = {}
        rules = document.rules if document else ()
        self._rules = rules
        self._effects = [r.effect for r in rules]
        self._conds: dict[int, Cond | None] = {}  # built on first use, once per rule
        self._refused = Decision("deny", (), "denied: the policy could not be loaded or has errors")
        index = document.data.get("index", {}) if document else {}
        self._exact: dict[str, list[int]] = index.get("exact", {})
        self._prefix: list[tuple[str, list[int]]] = sorted(index.get("prefix", {}).items())
        self._every: list[int] = index.get("all", [])

    @property
    def ok(self) -> bool:
        return self.document is not None and not any(d.is_error for d in self.diagnostics)

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self._rules)

    def decide(self, action: str, context: Mapping[str, Any], args: Mapping[str, Any] | None = None) -> Decision:
        """Decide one request; tool arguments are seen at ``context["args"]``.

        A context or arguments that are not objects deny before anything else, even for
        an action whose decision needs no condition: a malformed request is refused.
        """
        if context.__class__ is not dict and not isinstance(context, Mapping):
            return _BAD_CONTEXT
        if args is not None and args.__class__ is not dict and not isinstance(args, Mapping):
            return _BAD_ARGS
        try:
            plan = self._plans[action]
        except (KeyError, TypeError):  # TypeError: an unhashable "action"
            plan = self._plan(action)
        if plan.fixed is not None:
            return plan.fixed
        if args is not None:
            context = {**context, "args": args}
        hit = -1
        hits: list[int] | None = None
        try:
            for i, f in plan.denies:  # plain loops: a comprehension costs a call in 3.11
                if f is None or f(context, action):
                    if hit < 0:
                        hit = i
                    elif hits is None:
                        hits = [hit, i]
                    else:
                        hits.append(i)
        except EvalError:  # some DENY/CONSENT fails closed: find every one, carefully
            return self._careful(plan, context, action)
        if hit >= 0:
            # the decision depends only on which rules applied: memoised by that set
            key: int | tuple[int, ...] = hit if hits is None else tuple(hits)
            d = self._hit_memo.get(key)
            if d is None:
                applied = [hit] if hits is None else hits
                deny = [i for i in applied if self._effects[i] == "deny"]
                d = self._decision("deny", deny) if deny else self._decision("consent", applied)
                if len(self._hit_memo) < MAX_PLANS:
                    self._hit_memo[key] = d
            return d
        first = -1
        more: list[int] | None = None
        for i, f in plan.allows:
            if f is not None:
                try:
                    if not f(context, action):
                        continue
                except EvalError:  # an ALLOW that cannot be evaluated does not apply
                    continue
            if first < 0:
                first = i
            elif more is None:
                more = [first, i]
            else:
                more.append(i)
        if first < 0:
            return plan.default  # type: ignore[return-value]
        return plan.single[first] if more is None else self._decision("allow", more)

    def _careful(self, plan: _Plan, context: Mapping[str, Any], action: str) -> Decision:
        hits: list[int] = []
        errors: list[tuple[int, str]] = []
        for i, cond in plan.denies:
            try:
                if cond is None or cond(context, action):
                    hits.append(i)
            except EvalError as exc:
                errors.append((i, str(exc)))
        return self._error_decision(hits, errors)

    def applicable(self, action: str, context: Mapping[str, Any]) -> tuple[str, ...]:
        """Every rule that applies (or fails closed), whatever wins: for test coverage."""
        plan = self._plan(action, cache=False)
        if plan.fixed is not None:
            return plan.fixed.rules
        out: list[int] = []
        for i, cond in (*plan.denies, *plan.allows):
            try:
                if cond is None or cond(context, action):
                    out.append(i)
            except EvalError:
                if self._rules[i].effect != "allow":
                    out.append(i)
        return tuple(self._rules[i].id for i in sorted(out))

    # ---- plans and decisions

    def _plan(self, action: Any, cache: bool = True) -> _Plan:
        if not self.ok or self.document is None:
            return _Plan(self._refused)
        if action.__class__ is not str or not _ACTION.match(action):
            return _Plan(Decision("deny", (), "denied: malformed action name"))
        doc = self.document
        if doc.ceiling is not None and not any(ir.target_matches(t, action) for t in doc.ceiling):
            why = f"denied by {CEILING_ID} ({action} is outside the contract's capabilities)"
            plan = _Plan(Decision("deny", (CEILING_ID,), why))
        else:
            mine = sorted({*self._exact.get(action, ()), *self._every,
                           *(i for p, ids in self._prefix if action.startswith(p) for i in ids)})
            denies = tuple((i, self._cond(i)) for i in mine if self._rules[i].effect != "allow")
            allows = tuple((i, self._cond(i)) for i in mine if self._rules[i].effect == "allow")
            plan = _Plan(None, denies, allows, Decision("deny", (), f"no rule allows {action}"),
                         {i: self._decision("allow", [i]) for i, _ in allows})
            if all(c is None for _, c in denies + allows):  # nothing conditional: decide now
                plan = _Plan(self._decide_fixed(action, denies, allows))
        if cache:
            if len(self._plans) >= MAX_PLANS:
                self._plans.clear()
            self._plans[action] = plan
        return plan

    def _cond(self, i: int) -> Cond | None:
        if i not in self._conds:
            node = self._rules[i].condition
            self._conds[i] = build_condition(node) if node is not None else None
        return self._conds[i]

    def _decide_fixed(self, action: str, denies: tuple[tuple[int, Cond | None], ...],
                     allows: tuple[tuple[int, Cond | None], ...]) -> Decision:
        deny = [i for i, _ in denies if self._rules[i].effect == "deny"]
        if deny:
            return self._decision("deny", deny)
        if denies:
            return self._decision("consent", [i for i, _ in denies])
        if allows:
            return self._decision("allow", [i for i, _ in allows])
        return Decision("deny", (), f"no rule allows {action}")

    def _decision(self, effect: str, idx: list[int]) -> Decision:
        k = (effect, idx[0]) if len(idx) == 1 else (effect, tuple(idx))
        d = self._memo.get(k)
        if d is None:
            verb = {"allow": "allowed by", "deny": "denied by", "consent": "consent required by"}[effect]
            named = ", ".join(f"{self._rules[i].id} ({self._rules[i].summary})" for i in idx)
            d = Decision(effect, tuple(self._rules[i].id for i in idx), f"{verb} {named}")
            if len(self._memo) < MAX_PLANS:
                self._memo[k] = d
        return d

    def _error_decision(self, hits: list[int], errors: list[tuple[int, str]]) -> Decision:
        failed = {i for i, _ in errors}
        deny = [i for i in hits if self._rules[i].effect == "deny"]
        idx = sorted(set(deny) | failed)
        parts = [f"{self._rules[i].id} ({self._rules[i].summary})" for i in deny]
        i, msg = errors[0]
        parts.append(f"{self._rules[i].id} ({self._rules[i].summary}), whose condition cannot be evaluated: {msg}")
        more = f" (and {len(errors) - 1} more rule{'s' if len(errors) > 2 else ''} that cannot be evaluated)" \
            if len(errors) > 1 else ""
        return Decision("deny", tuple(self._rules[j].id for j in idx), "denied by " + "; ".join(parts) + more,
                        tuple(m for _, m in errors))


def load_compiled(path: str) -> CompiledPolicy:
    """Read a compiled document from disk; anything wrong with it gives a policy that denies all."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        return CompiledPolicy(None, [dg.make("AC340", Span.file_start(path), reason=reason)])
    return load_compiled_text(text, path)


def load_compiled_text(text: str, name: str) -> CompiledPolicy:
    document, diags = ir.load_text(text, name)
    return CompiledPolicy(document, diags)
