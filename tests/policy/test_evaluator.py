"""Decisions: precedence, fail-closed probes, value semantics, reasons, the ceiling."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from agentos_contracts.policy.compiler import compile_sources
from agentos_contracts.policy.evaluator import CompiledPolicy


def policy(text: str, contract: dict[str, Any] | None = None, *, empty: bool = False) -> CompiledPolicy:
    result = compile_sources([] if empty else [("t.policy", text.encode())], contract)
    assert result.ok, result.diagnostics
    return result.policy


def effect(p: CompiledPolicy, action: str, context: dict[str, Any] | None = None, args: Any = None) -> str:
    return p.decide(action, context or {}, args).effect


def test_deny_wins_over_consent_and_allow_and_default_is_deny() -> None:
    p = policy("ALLOW a.*\nREQUIRE CONSENT FOR a.b, a.c\nDENY a.c\n")
    assert effect(p, "a.x") == "allow"
    d = p.decide("a.b", {})
    assert (d.effect, d.rules) == ("consent", ("t.policy:2",))
    assert d.reason == "consent required by t.policy:2 (REQUIRE CONSENT FOR a.b, a.c)"
    d = p.decide("a.c", {})
    assert (d.effect, d.rules, d.reason) == ("deny", ("t.policy:3",), "denied by t.policy:3 (DENY a.c)")
    d = p.decide("b", {})
    assert (d.effect, d.rules, d.reason) == ("deny", (), "no rule allows b")


def test_consent_applies_whether_or_not_an_allow_does() -> None:
    p = policy("REQUIRE CONSENT FOR pay.charge")
    assert effect(p, "pay.charge") == "consent"


def test_rules_are_all_applicable_rules_of_the_deciding_effect_in_source_order() -> None:
    p = policy("@id(\"z\") ALLOW x\n@id(\"a\") ALLOW x IF n > 1\n@id(\"m\") ALLOW *\n")
    assert p.decide("x", {"n": 5}).rules == ("z", "a", "m")
    assert p.decide("x", {"n": 0}).rules == ("z", "m")


def test_prefix_targets_match_after_the_dot_only() -> None:
    p = policy("ALLOW payment.*")
    assert effect(p, "payment.charge") == "allow"
    assert effect(p, "payment.card.refund") == "allow"
    assert effect(p, "payment") == "deny"
    assert effect(p, "paymentx.y") == "deny"


# ---- fail-closed probes --------------------------------------------------------------------


@pytest.mark.parametrize("condition", ["args.host != \"evil\"", "args.host NOT IN [\"evil\"]",
                                       "NOT (args.host == \"evil\")", "args.n < 3", "args.flag"])
def test_missing_attribute_in_a_deny_denies_with_a_reason(condition: str) -> None:
    p = policy(f"ALLOW web.fetch\nDENY web.fetch IF {condition}\n")
    d = p.decide("web.fetch", {}, {})
    assert d.effect == "deny"
    assert d.rules == ("t.policy:2",)
    assert "cannot be evaluated" in d.reason and "is missing" in d.reason


def test_missing_attribute_in_consent_denies_and_in_allow_does_not_apply() -> None:
    p = policy("REQUIRE CONSENT FOR x IF n > 3\nALLOW y IF n > 3\n")
    assert effect(p, "x") == "deny"
    assert "t.policy:1" in p.decide("x", {}).reason
    assert p.decide("y", {}).reason == "no rule allows y"


def test_type_mismatch_denies_with_the_rule_and_the_types() -> None:
    p = policy("ALLOW pay\nDENY pay IF args.amount > 1000\n")
    d = p.decide("pay", {}, {"amount": "5000"})
    assert d.effect == "deny"
    assert d.reason.endswith("attribute `args.amount` is a string; `>` needs numbers")
    assert "5000" not in d.reason  # reasons never quote argument values


def test_declared_type_is_enforced_at_run_time() -> None:
    p = policy("attribute user: string\nALLOW x\nDENY x IF user == \"mallory\"\n")
    d = p.decide("x", {"user": 7})
    assert d.effect == "deny" and "is a number, expected a string" in d.reason
    assert effect(p, "x", {"user": "alice"}) == "allow"


def test_empty_policy_denies_everything() -> None:
    p = policy("# nothing here\n")
    d = p.decide("anything", {})
    assert (d.effect, d.rules, d.reason) == ("deny", (), "no rule allows anything")


def test_unknown_action_and_malformed_action_deny() -> None:
    p = policy("ALLOW known")
    assert p.decide("unknown", {}).reason == "no rule allows unknown"
    for bad in ("", "has space", "x..y", 3, None, "x.*"):
        d = p.decide(bad, {})  # type: ignore[arg-type]
        assert d.effect == "deny" and "malformed action" in d.reason


@pytest.mark.parametrize("raw", ['{"risk": NaN}', '{"risk": Infinity}', '{"risk": -Infinity}'])
def test_nan_and_infinity_from_json_deny(raw: str) -> None:
    p = policy("ALLOW op IF risk < 0.5\nDENY op IF risk > 0.9\n")
    ctx = json.loads(raw)
    assert math.isnan(ctx["risk"]) or math.isinf(ctx["risk"])
    d = p.decide("op", ctx)
    assert d.effect == "deny" and "not a finite number" in d.reason and d.rules == ("t.policy:2",)


def test_nan_nested_inside_a_list_is_refused_too() -> None:
    p = policy("ALLOW op\nDENY op IF 1 IN xs\n")
    assert effect(p, "op", {"xs": [2, float("nan")]}) == "deny"
    assert effect(p, "op", {"xs": [2, 3]}) == "allow"


def test_bad_context_or_args_deny() -> None:
    p = policy("ALLOW op IF true")
    assert effect(p, "op", [1, 2]) == "deny"  # type: ignore[arg-type]
    assert effect(p, "op", {}, [1]) == "deny"
    assert effect(p, "op", {"a": object()}) == "allow"  # unread values are not inspected
    q = policy("ALLOW op\nDENY op IF a == 1")
    assert effect(q, "op", {"a": object()}) == "deny"


# ---- value semantics ---------------------------------------------------------------------


def test_null_is_absent() -> None:
    p = policy("ALLOW x IF has a\nALLOW y IF NOT (has a.b)\nALLOW z IF a == 1\n")
    assert effect(p, "x", {"a": None}) == "deny"
    assert effect(p, "y", {"a": {"b": None}}) == "allow"
    assert effect(p, "y", {"a": 3}) == "allow"  # a step into a non-object: absent
    assert p.decide("z", {"a": None}).reason == "no rule allows z"  # using it: an error, so ALLOW does not apply


def test_bools_are_not_numbers_and_ints_equal_floats() -> None:
    p = policy("ALLOW a IF n == 1\nALLOW b IF n < 2\nALLOW c IF n IN [1, 2]\nALLOW d IF flag == true\n")
    assert effect(p, "a", {"n": True}) == "deny"
    assert effect(p, "a", {"n": 1.0}) == "allow"
    assert effect(p, "b", {"n": True}) == "deny"
    assert effect(p, "c", {"n": True}) == "deny"
    assert effect(p, "c", {"n": 2.0}) == "allow"
    assert effect(p, "d", {"flag": 1}) == "deny"


def test_different_types_are_simply_unequal() -> None:
    p = policy("ALLOW a IF v != \"1\"\nALLOW b IF v == [1, 2]\n")
    assert effect(p, "a", {"v": 1}) == "allow"
    assert effect(p, "b", {"v": [1, 2]}) == "allow"
    assert effect(p, "b", {"v": [2, 1]}) == "deny"  # undeclared lists compare as lists


def test_contains_means_exactly_in_swapped() -> None:
    p = policy('ALLOW a IF roles CONTAINS "x"\nALLOW b IF "x" IN roles\n')
    for roles in (["x"], ["y"], "axb", "y", 3, None, [["x"]]):
        assert effect(p, "a", {"roles": roles}) == effect(p, "b", {"roles": roles})


def test_in_is_membership_or_substring_and_a_type_error_otherwise() -> None:
    p = policy('ALLOW a IF "ab" IN s\nALLOW b IF x IN [1, "q"]\nALLOW c IF x IN s\n')
    assert effect(p, "a", {"s": "xaby"}) == "allow"
    assert effect(p, "a", {"s": ["ab"]}) == "allow"
    assert effect(p, "a", {"s": 12}) == "deny"
    assert effect(p, "b", {"x": "q"}) == "allow"
    assert effect(p, "b", {"x": ["q"]}) == "deny"  # a list on the element side is a type error
    q = policy("ALLOW z\nDENY z IF x IN s")
    assert "`IN` needs a list or a string" in q.decide("z", {"x": 1, "s": 5}).reason
    assert "left side of `IN`" in q.decide("z", {"x": [1], "s": [[1]]}).reason


def test_set_declared_values_compare_as_sets() -> None:
    p = policy('attribute roles: set<string>\nALLOW a IF roles == ["b", "a"]\nALLOW b IF roles != ["a"]\n')
    assert effect(p, "a", {"roles": ["a", "b", "a"]}) == "allow"
    assert effect(p, "b", {"roles": ["a", "a"]}) == "deny"
    assert effect(p, "a", {"roles": ["a", 1]}) == "deny"  # not a set of strings: type error


def test_matches_is_a_whole_string_case_sensitive_glob() -> None:
    p = policy('ALLOW a IF h MATCHES "*.gov"\nALLOW b IF h MATCHES "f?[!0-9]\\\\*"\n')
    assert effect(p, "a", {"h": "data.city.gov"}) == "allow"
    assert effect(p, "a", {"h": "x.gov.evil"}) == "deny"
    assert effect(p, "a", {"h": "X.GOV"}) == "deny"
    assert effect(p, "b", {"h": "fxy*"}) == "allow"
    assert effect(p, "b", {"h": "fx1*"}) == "deny"
    assert effect(p, "a", {"h": 3}) == "deny"


def test_and_or_short_circuit_left_to_right() -> None:
    p = policy("DENY x IF has n AND n > 3\nALLOW x\n")
    assert effect(p, "x", {}) == "allow"  # `has n` is false: `n > 3` is never evaluated
    q = policy("DENY x IF n > 3 AND has n\nALLOW x\n")
    assert effect(q, "x", {}) == "deny"
    r = policy("ALLOW x IF true OR n > 3")
    assert effect(r, "x", {}) == "allow"


def test_bare_path_must_hold_a_boolean() -> None:
    p = policy("ALLOW x IF flag\nDENY y IF flag\nALLOW y\n")
    assert effect(p, "x", {"flag": True}) == "allow"
    assert effect(p, "x", {"flag": 1}) == "deny"
    assert "expected a boolean" in p.decide("y", {"flag": "yes"}).reason


def test_action_operand() -> None:
    p = policy('ALLOW * IF action MATCHES "web.*" AND action != "web.post"')
    assert effect(p, "web.fetch") == "allow"
    assert effect(p, "web.post") == "deny"


def test_args_are_seen_at_context_args_and_paths_are_nested() -> None:
    p = policy('ALLOW x IF args.host == "a" AND user.name == "n"')
    assert effect(p, "x", {"user": {"name": "n"}}, {"host": "a"}) == "allow"
    assert effect(p, "x", {"user.name": "n", "args": {"host": "a"}}) == "deny"  # never a flat key
    assert effect(p, "x", {"user": {"name": "n"}, "args": {"host": "a"}}) == "allow"


def test_reasons_never_quote_values() -> None:
    secret = "s3cr3t-token"
    p = policy('ALLOW x\nDENY x IF args.token == "abc"\nDENY x IF args.n > 1\nDENY x IF args.t MATCHES "a*"\n')
    for args in ({"token": 5, "n": secret, "t": ["x"]}, {"token": [secret], "n": [secret], "t": {"k": secret}}):
        assert secret not in p.decide("x", {}, args).reason


# ---- contracts -----------------------------------------------------------------------------

CONTRACT = {"name": "c", "capabilities": ["web.fetch", "fs.*"], "security": {"consent_for": ["pay.charge"]}}


def test_contract_without_policies_allows_each_capability() -> None:
    p = policy("", CONTRACT, empty=True)
    assert p.decide("web.fetch", {}).rules == ("contract:capabilities",)
    assert effect(p, "fs.read") == "allow"
    d = p.decide("pay.charge", {})
    assert (d.effect, d.rules) == ("consent", ("contract:consent_for",))
    d = p.decide("email.send", {})
    assert (d.effect, d.rules) == ("deny", ("contract:capabilities",))
    assert "outside the contract's capabilities" in d.reason


def test_with_policies_only_allow_rules_grant_inside_the_ceiling() -> None:
    p = policy("ALLOW web.fetch IF ok\nALLOW email.send\nALLOW pay.charge\n", CONTRACT)
    assert effect(p, "web.fetch", {"ok": True}) == "allow"
    assert effect(p, "web.fetch", {"ok": False}) == "deny"
    assert effect(p, "fs.read") == "deny"  # a capability, but no rule allows it
    assert p.decide("email.send", {}).rules == ("contract:capabilities",)
    assert effect(p, "pay.charge") == "consent"


def test_decisions_are_cached_but_stay_correct() -> None:
    p = policy("ALLOW x IF n > 1")
    for i in range(3):
        assert effect(p, "x", {"n": 2}) == "allow"
        assert effect(p, "x", {"n": 0}) == "deny"
    assert p.decide("x", {"n": 2}) is p.decide("x", {"n": 3})  # same outcome, same Decision object


def test_a_policy_with_errors_denies_everything() -> None:
    result = compile_sources([("bad.policy", b"ALLOW x IF (")])
    assert not result.ok
    d = result.policy.decide("x", {})
    assert d.effect == "deny" and "errors" in d.reason


@pytest.mark.parametrize("context, args", [
    ({}, [1, 2]), ({}, "x"), ({}, 5), ({}, True), ([1, 2], None), ("ctx", None), (None, None), ({}, (1,)),
])
def test_a_request_that_is_not_an_object_denies_even_an_unconditional_allow(context: Any, args: Any) -> None:
    # regression: an unconditional ALLOW answered before the request's shape was looked at
    p = policy("ALLOW agent.pause\nALLOW web.*\n")
    for action in ("agent.pause", "web.fetch"):
        d = p.decide(action, context, args)
        assert d.effect == "deny" and "not an object" in d.reason, (action, d)
    assert effect(p, "agent.pause", {}, None) == "allow" and effect(p, "agent.pause", {}, {}) == "allow"
