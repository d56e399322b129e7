"""Loader and policy language under random input, with fail-closed oracles.

- the loader turns any bytes into documents or located diagnostics, never an exception;
- the parser and compiler turn any text into a policy or located diagnostics;
- decisions fail closed: a policy without ALLOW never allows; a DENY that applies, or whose
  condition cannot be evaluated, denies whatever other rules say (checked against the same
  DENY compiled alone next to ``ALLOW *``); a DENY made to be unevaluable always denies.
Inputs that once failed (50,000 nested brackets, a chain of 50,000 NOTs, AC319's literal)
replay from tests/fixtures/fuzz/policy/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.codes import CODES
from agentos_contracts.documents.discover import Source
from agentos_contracts.documents.loader import load_source
from agentos_contracts.policy.compiler import compile_sources

ROOT = Path(__file__).resolve().parents[2]
REPLAYS = sorted((ROOT / "tests" / "fixtures" / "fuzz" / "policy").glob("*.policy"))
FUZZ = settings.get_profile("agentos-fuzz")

YAML_BITS = ["apiVersion: agentos/v0.2\n", "kind: AgentContract\n", "name: a\n", "- ", "  ", "\t", ": ", "{", "}",
             "[", "]", "&a ", "*a", "!!str ", "---\n", "...\n", "'", '"', "#", "\n", "1e400", ".nan", "~", "<<: *a\n",
             "\ufeff", "\x00", "é", "? ", "|\n", ">-\n"]


@settings(parent=FUZZ)
@given(st.one_of(st.binary(max_size=300), st.lists(st.sampled_from(YAML_BITS), max_size=40).map(lambda xs: "".join(xs).encode("utf-8", "surrogatepass"))))
def test_the_loader_never_raises(data: bytes) -> None:
    loaded = load_source(Source("f.yaml", data, None))
    for d in loaded.diagnostics:
        assert d.code in CODES and d.line >= 1 and d.column >= 1


TOKENS = ["ALLOW", "DENY", "REQUIRE CONSENT", "FOR", "IF", "AND", "OR", "NOT", "(", ")", "[", "]", ",", "==", "!=",
          "<", ">=", "IN", "CONTAINS", "MATCHES", "has", "x", "y.z", "args.a", "action", "web.fetch", "web.*", "*",
          '"s"', '"a*"', "1", "-2.5", "9223372036854775808", "true", "false", "@id(\"r\")", "\n", ";", "# c\n",
          "attribute x: number\n", "policy p\n", '"unterminated', "\u00e9", "\\"]


@settings(parent=FUZZ)
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_any_token_soup_compiles_or_is_located(tokens: list[str]) -> None:
    result = compile_sources([("t.policy", " ".join(tokens).encode())])
    for d in result.diagnostics:
        assert d.code in CODES and d.line >= 1 and d.column >= 1
    if not result.ok:
        assert result.policy is None or not result.policy.ok


ACTIONS = ["web.fetch", "web.search", "fs.read", "pay.charge"]
TARGETS = ACTIONS + ["web.*", "*"]
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True), st.sampled_from(["a", "b", ""]),
                   st.lists(st.sampled_from(["a", "b", 1]), max_size=2))
CONDITIONS = ["x < 1", "x == 1", 'x == "a"', "x != true", 'x IN ["a", "b"]', 'y MATCHES "a*"', "y", "NOT y",
              "x >= 0 AND y", "x < 0 OR y == false", "has x", 'args.a == "a"', 'action MATCHES "web.*"',
              '"a" < 3', "x CONTAINS \"a\""]


def rule(effect: str, target: str, cond: str | None) -> str:
    head = {"ALLOW": "ALLOW {t}", "DENY": "DENY {t}", "CONSENT": "REQUIRE CONSENT FOR {t}"}[effect]
    text = head.format(t=target) if target != "*" or effect != "CONSENT" else "REQUIRE CONSENT *"
    return text + (f" IF {cond}" if cond else "")


rules = st.tuples(st.sampled_from(["ALLOW", "DENY", "CONSENT"]), st.sampled_from(TARGETS),
                  st.one_of(st.none(), st.sampled_from(CONDITIONS)))
contexts = st.dictionaries(st.sampled_from(["x", "y", "args"]), VALUES, max_size=3)


def decide(text: str, action: str, context: dict[str, Any], args: Any) -> str:
    result = compile_sources([("t.policy", text.encode())])
    assert result.policy is not None, result.diagnostics
    return result.policy.decide(action, context, args).effect


@settings(parent=FUZZ, max_examples=FUZZ.max_examples * 2)
@given(st.lists(rules, min_size=1, max_size=6), st.sampled_from(ACTIONS), contexts,
       st.one_of(st.none(), st.dictionaries(st.sampled_from(["a", "b"]), VALUES, max_size=2), VALUES))
def test_decisions_fail_closed(policy_rules: list[tuple[str, str, str | None]], action: str,
                               context: dict[str, Any], args: Any) -> None:
    text = "\n".join(rule(*r) for r in policy_rules) + "\n"
    effect = decide(text, action, context, args)
    if not any(r[0] == "ALLOW" for r in policy_rules):
        assert effect != "allow", text  # default deny: only an ALLOW allows (CONSENT alone asks)
    if args is not None and not isinstance(args, dict):
        assert effect == "deny", text  # a request whose arguments are not an object
    for r in policy_rules:
        if r[0] == "DENY" and decide(f"ALLOW *\n{rule(*r)}\n", action, context, args) == "deny":
            assert effect == "deny", (text, r)  # that DENY applies (or fails closed) here: it wins


MISSING = object()
# (condition, attribute, values of it under which the condition cannot be evaluated)
UNEVALUABLE = [
    ("x < 1", "x", [MISSING, None, "a", [1], {"k": 1}, True]),
    ('y MATCHES "a*"', "y", [MISSING, None, 1, [1], True]),
    ("x >= 0 AND y", "x", [MISSING, None, "a", True]),
    ('"a" < 3', "", [MISSING]),
    ('x CONTAINS "a"', "x", [MISSING, None, 5, True, {"k": 1}]),
]


@settings(parent=FUZZ)
@given(st.lists(rules, max_size=4), st.sampled_from(ACTIONS), contexts,
       st.sampled_from(UNEVALUABLE).flatmap(lambda c: st.tuples(st.just(c[0]), st.just(c[1]), st.sampled_from(c[2]))))
def test_a_deny_whose_condition_cannot_be_evaluated_denies(others: list[tuple[str, str, str | None]], action: str,
                                                           context: dict[str, Any], cond: tuple[str, str, Any]) -> None:
    text, attr, bad = cond
    ctx = dict(context)
    if attr:
        ctx.pop(attr, None)
        if bad is not MISSING:
            ctx[attr] = bad
    policy = "ALLOW *\n" + "".join(rule(*r) + "\n" for r in others) + f"DENY {action} IF {text}\n"
    assert decide(policy, action, ctx, None) == "deny", (policy, ctx)


@pytest.mark.parametrize("fixture", REPLAYS, ids=[p.name for p in REPLAYS])
def test_policies_that_once_failed(fixture: Path) -> None:
    """Each replay states in its first line what it must give: ``# expect: CODE`` or ``# decide: ACTION EFFECT``."""
    text = fixture.read_text(encoding="utf-8")
    head = text.splitlines()[0].split()
    result = compile_sources([(fixture.name, text.encode())])
    codes = [d.code for d in result.diagnostics]
    if head[1] == "expect:":
        assert head[2] in codes
    else:
        assert result.policy is not None and result.policy.decide(head[2], {}).effect == head[3]
