"""Policy test cases (``kind: PolicyTest``, run by ``agentos test``).

A case names a request and the decision it must get (and, optionally, the ids of
the deciding rules). Cases run against the compiled policy, exactly as the runtime
would decide. Coverage counts a rule as exercised when it applied in some case
(or failed closed), whether or not it decided the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from agentos_contracts import diagnostics as dg
from agentos_contracts.diagnostics import Diagnostic, Span
from agentos_contracts.policy.evaluator import CompiledPolicy, Decision

EFFECTS = ("allow", "deny", "consent")


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseResult:
    file: str
    name: str
    span: Span
    expected: str
    expected_rules: tuple[str, ...] | None
    decision: Decision | None
    ok: bool

    def to_json(self) -> dict[str, Any]:
        d = self.decision
        return {
            "file": self.file, "line": self.span.line, "name": self.name, "ok": self.ok,
            "expected": self.expected, "expected_rules": list(self.expected_rules) if self.expected_rules is not None else None,
            "decision": d.effect if d else None, "rules": list(d.rules) if d else [], "reason": d.reason if d else "",
        }


@dataclass(slots=True)
class SuiteResult:
    cases: list[CaseResult] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    exercised: set[tuple[str, str]] = field(default_factory=set)  # (policy file, rule id)

    @property
    def passed(self) -> int:
        return sum(1 for c in self.cases if c.ok)

    @property
    def failed(self) -> int:
        return sum(1 for c in self.cases if not c.ok)


def run_cases(cases: Sequence[Any], policy: CompiledPolicy, file: str, span_of: Callable[[str], Span],
              result: SuiteResult) -> None:
    """Decide every well-formed case; malformed ones are diagnostics and count as failed."""
    for i, case in enumerate(cases):
        where = f"/cases/{i}"
        span = span_of(where)
        name = case.get("name") if isinstance(case, dict) and isinstance(case.get("name"), str) else f"#{i + 1}"
        problem = _malformed(case)
        if problem is not None:
            result.diagnostics.append(dg.make("AC350", span, path=where, message=f"case `{name}`: {problem}",
                                              hint="a case is {name, action, context?, args?, expect, rules?}"))
            result.cases.append(CaseResult(file=file, name=name, span=span, expected=str(case.get("expect", "")),
                                           expected_rules=None, decision=None, ok=False))
            continue
        context = case.get("context") or {}
        args = case.get("args")
        decision = policy.decide(case["action"], context, args)
        want_rules = tuple(case["rules"]) if "rules" in case else None
        ok = decision.effect == case["expect"] and (want_rules is None or set(want_rules) == set(decision.rules))
        if not ok:
            got = decision.effect if decision.effect != case["expect"] else f"rules {list(decision.rules)}"
            expected = case["expect"] if decision.effect != case["expect"] else f"rules {list(want_rules or ())}"
            result.diagnostics.append(dg.make("AC351", span, path=where, name=name, expected=expected, got=got,
                                              hint=decision.reason))
        result.cases.append(CaseResult(file=file, name=name, span=span, expected=case["expect"],
                                       expected_rules=want_rules, decision=decision, ok=ok))
        if policy.ok:
            ctx = {**context, "args": args} if args is not None else context
            files = _rule_files(policy)
            result.exercised.update((files.get(i, "<contract>"), i) for i in policy.applicable(case["action"], ctx))


def _rule_files(policy: CompiledPolicy) -> dict[str, str]:
    rules = policy.document.rules if policy.document else ()
    return {r.id: r.span.file if r.span else "<contract>" for r in rules}


def _malformed(case: Any) -> str | None:
    if not isinstance(case, dict):
        return "not a mapping"
    for key in ("name", "action", "expect"):
        if key not in case:
            return f"missing `{key}`"
    if not isinstance(case["action"], str):
        return "`action` must be a string"
    if case["expect"] not in EFFECTS:
        return "`expect` must be allow, deny or consent"
    if not isinstance(case.get("context", {}) or {}, dict):
        return "`context` must be a mapping"
    if case.get("args") is not None and not isinstance(case["args"], dict):  # null is absent
        return "`args` must be a mapping"
    rules = case.get("rules", [])
    if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
        return "`rules` must be a list of rule ids"
    unknown = sorted(set(case) - {"name", "action", "context", "args", "expect", "rules"})
    if unknown:
        return f"unknown key `{unknown[0]}`"
    return None


def uncovered(policies: Sequence[CompiledPolicy], exercised: set[tuple[str, str]]) -> list[tuple[str, Diagnostic]]:
    """(rule id, AC353 at the rule) for each written rule no case of any suite exercised."""
    out: list[tuple[str, Diagnostic]] = []
    seen: set[tuple[str, str]] = set()
    for policy in policies:
        for r in policy.document.rules if policy.document else ():
            k = (r.span.file if r.span else "<contract>", r.id)
            if not r.implied and k not in exercised and k not in seen:
                seen.add(k)
                out.append((r.id, dg.make("AC353", r.span or Span("<policy>"), id=r.id)))
    return out
