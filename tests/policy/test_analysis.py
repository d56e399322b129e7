"""Warnings with witnesses: never applicable, shadowed, duplicate, outside the ceiling, consent."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.policy.compiler import compile_sources


def warnings(text: str, contract: dict[str, Any] | None = None) -> list[Any]:
    result = compile_sources([("w.policy", text.encode())], contract)
    assert result.ok, result.diagnostics
    return [d for d in result.diagnostics if d.severity.value == "warning"]


@pytest.mark.parametrize("condition, witness", [
    ("x < 1 AND x > 2", "`x < 1` contradicts `x > 2`"),
    ("x <= 1 AND x >= 1 AND x != 1", "`x >= 1` contradicts `x != 1`"),
    ("x >= 5 AND NOT (x > 3)", "`x >= 5` contradicts `NOT (x > 3)`"),
    ('x == "a" AND x == "b"', '`x == "a"` contradicts `x == "b"`'),
    ('x == "a" AND x IN ["b", "c"]', '`x == "a"` contradicts `x IN ["b", "c"]`'),
    ('x IN [1, 2] AND x > 5', "`x IN [1, 2]` contradicts `x > 5`"),
    ("has x AND NOT (has x)", "`has x` contradicts `NOT (has x)`"),
    ("NOT (has a) AND a.b == 1", "`NOT (has a)` contradicts `a.b == 1`"),
    ('x == "a" AND x < 3', "`x == \"a\"` contradicts `x < 3` (the attribute cannot have both types)"),
    ('x MATCHES "a*" AND x == "b"', '`x MATCHES "a*"` contradicts `x == "b"`'),
    ("flag AND NOT flag", "`flag` contradicts `NOT flag`"),
    ("1 > 2", "`1 > 2` is always false"),
    ("(x < 1 OR y < 1) AND x > 2 AND y > 2", "`x < 1` contradicts `x > 2` (and so does every other alternative of its `OR`)"),
    ('action == "other"', "`action == \"other\"` can never hold: the rule's targets do not match that action"),
])
def test_never_applicable_rules_get_a_witness(condition: str, witness: str) -> None:
    (w,) = warnings(f"ALLOW t.x IF {condition}\n")
    assert w.code == "AC330"
    assert w.message == f"rule `w.policy:1` can never apply: {witness}"
    assert w.column == 14  # at the condition


@pytest.mark.parametrize("condition", [
    "x < 1 OR x > 2", "x > 1 AND x < 2", "x != 1 AND x >= 1 AND x <= 2", 'x == "a" OR x == "b"',
    "has x OR NOT (has x)", 'x IN ["a", "b"] AND x != "a"', "x < 1 AND y > 2", "a.b == 1 AND has a",
    'x MATCHES "a*" AND x == "ab"', 'action MATCHES "t.*"', "x == 1 AND x == 1.0",
])
def test_satisfiable_conditions_get_no_warning(condition: str) -> None:
    assert warnings(f"ALLOW t.x IF {condition}\n") == []


def test_deny_never_applicable_still_gets_the_fail_closed_hint() -> None:
    (w,) = warnings("ALLOW t.y\nDENY t.x IF x < 1 AND x > 2\n")
    assert w.code == "AC330" and "cannot be evaluated" in w.hint


def test_allow_shadowed_by_unconditional_deny() -> None:
    found = warnings("DENY payment.*\nALLOW payment.charge IF ok\nALLOW other\nDENY *\n")
    shadowed = [w for w in found if w.code == "AC331"]
    assert [(w.line, w.message) for w in shadowed] == [
        (2, "ALLOW rule `w.policy:2` is shadowed by unconditional DENY `w.policy:1`"),
        (3, "ALLOW rule `w.policy:3` is shadowed by unconditional DENY `w.policy:4`"),
    ]
    assert "e.g. `payment.charge`" in shadowed[0].hint


def test_partly_shadowed_allow_is_not_reported() -> None:
    assert warnings("DENY a.x\nALLOW a.x, a.y\nDENY b.* IF cond\nALLOW b.z\n") == []


def test_duplicate_rules() -> None:
    (w,) = warnings("ALLOW a, b IF x == 1\nALLOW b, a IF (x == 1)\n")
    assert (w.code, w.line, w.message) == ("AC332", 2, "rule `w.policy:2` repeats rule `w.policy:1`")


def test_allow_and_consent_outside_the_ceiling() -> None:
    contract = {"name": "c", "capabilities": ["web.fetch", "fs.*"], "security": {"consent_for": ["pay.charge"]}}
    found = warnings("ALLOW web.fetch, email.send\nALLOW fs.read\nREQUIRE CONSENT FOR sms.*\nALLOW pay.charge\n"
                     "DENY other\nALLOW *\n", contract)
    assert [(w.code, w.line, w.column) for w in found] == [("AC333", 1, 18), ("AC333", 3, 21)]
    assert found[0].message == "ALLOW target `email.send` is outside the capabilities of contract `c`"


def test_consent_on_an_action_nothing_allows() -> None:
    found = warnings("REQUIRE CONSENT FOR email.send, pay.charge\nALLOW pay.*\n")
    assert [(w.code, w.message) for w in found] == [
        ("AC334", "consent target `email.send` is allowed by no ALLOW rule")]


def test_empty_policy_is_a_warning() -> None:
    (w,) = warnings("# nothing\n")
    assert (w.code, w.line, w.column) == ("AC335", 1, 1)


# ---- soundness: a rule reported as never applicable never applies -----------------------------

ATOMS = ["x < 1", "x > 2", "x == 1", "x != 1", "x >= 1", "x <= 1", 'x == "a"', 'x IN ["a", 1]',
         "x NOT IN [1, 2]", "has x", "NOT (has x)", 'x MATCHES "a*"', "flag", "NOT flag", "y > 0", "x == y"]


@st.composite
def conditions(draw: Any, depth: int = 0) -> str:
    if depth > 2 or draw(st.booleans()):
        return draw(st.sampled_from(ATOMS))
    op = draw(st.sampled_from([" AND ", " OR "]))
    parts = draw(st.lists(conditions(depth + 1), min_size=2, max_size=3))
    text = op.join(f"({p})" for p in parts)
    return f"NOT ({text})" if draw(st.booleans()) else text


VALUES = st.one_of(st.none(), st.integers(-2, 3), st.sampled_from([0.5, 1.0, 2.5]), st.sampled_from(["a", "ab", "b"]),
                   st.booleans())


@settings(max_examples=150, deadline=None)
@given(conditions(), st.lists(st.fixed_dictionaries({"x": VALUES, "y": VALUES, "flag": VALUES}), min_size=1, max_size=20))
def test_never_applicable_is_sound(condition: str, contexts: list[dict[str, Any]]) -> None:
    result = compile_sources([("s.policy", f"ALLOW t IF {condition}\n".encode())])
    assert result.ok
    if not any(d.code == "AC330" for d in result.diagnostics):
        return
    for ctx in contexts:
        ctx = {k: v for k, v in ctx.items() if v is not None}
        assert result.policy.decide("t", ctx).effect == "deny", (condition, ctx)
