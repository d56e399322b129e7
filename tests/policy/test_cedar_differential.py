"""Differential test against Cedar (cedarpy): the shared subset decides the same.

The subset: ALLOW (permit) and DENY (forbid) rules on exact action names or every
action; conditions over integers, strings, booleans and sets of strings, with AND,
OR, NOT, comparisons, IN / NOT IN / CONTAINS and `has`; every attribute present and
of its declared type (where the two languages agree: Cedar skips an erroring policy,
we fail closed, so errors are outside the subset).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentos_contracts.policy.compiler import compile_sources

cedarpy = pytest.importorskip("cedarpy")

ACTIONS = ["web.fetch", "fs.read", "pay.charge"]
DECLS = "attribute n: number\nattribute m: number\nattribute s: string\nattribute t: string\n" \
        "attribute f: bool\nattribute r: set<string>\n"
INTS = st.integers(-3, 3)
WORDS = st.sampled_from(["a", "b", "c"])


def q(s: str) -> str:
    return json.dumps(s)


def int_list(draw: Any) -> list[int]:
    return draw(st.lists(INTS, max_size=3))


@st.composite
def atom(draw: Any) -> tuple[str, str]:
    """(our text, Cedar text)"""
    kind = draw(st.integers(0, 12))
    if kind == 0:
        op, k = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="])), draw(INTS)
        return f"n {op} {k}", f"context.n {op} {k}"
    if kind == 1:
        op = draw(st.sampled_from(["==", "!=", "<", ">="]))
        return f"n {op} m", f"context.n {op} context.m"
    if kind == 2:
        xs = int_list(draw)
        neg = draw(st.booleans())
        ours = f"m {'NOT IN' if neg else 'IN'} [{', '.join(map(str, xs))}]"
        cedar = f"[{', '.join(map(str, xs))}].contains(context.m)"
        return ours, f"!({cedar})" if neg else cedar
    if kind == 3:
        op, w = draw(st.sampled_from(["==", "!="])), draw(WORDS)
        return f"s {op} {q(w)}", f"context.s {op} {q(w)}"
    if kind == 4:
        return "s == t", "context.s == context.t"
    if kind == 5:
        ws = draw(st.lists(WORDS, max_size=3))
        lst = "[" + ", ".join(q(w) for w in ws) + "]"
        return f"t IN {lst}", f"{lst}.contains(context.t)"
    if kind == 6:
        return "f", "context.f"
    if kind == 7:
        b = draw(st.booleans())
        return f"f == {str(b).lower()}", f"context.f == {str(b).lower()}"
    if kind == 8:
        w = draw(WORDS)
        return (f"{q(w)} IN r", f"context.r.contains({q(w)})") if draw(st.booleans()) else \
            (f"r CONTAINS {q(w)}", f"context.r.contains({q(w)})")
    if kind == 9:
        return "s IN r", "context.r.contains(context.s)"
    if kind == 10:
        ws = draw(st.lists(WORDS, max_size=3))
        lst = "[" + ", ".join(q(w) for w in ws) + "]"
        op = draw(st.sampled_from(["==", "!="]))
        return f"r {op} {lst}", f"context.r {op} {lst}"
    if kind == 11:
        name = draw(st.sampled_from(["n", "s", "f", "r"]))
        return f"has {name}", f"context has {name}"
    b = draw(st.booleans())
    return str(b).lower(), str(b).lower()


@st.composite
def condition(draw: Any, depth: int = 0) -> tuple[str, str]:
    if depth >= 3 or draw(st.integers(0, 2)) == 0:
        return draw(atom())
    kind = draw(st.sampled_from(["and", "or", "not"]))
    if kind == "not":
        ours, cedar = draw(condition(depth + 1))
        return f"NOT ({ours})", f"!({cedar})"
    parts = draw(st.lists(condition(depth + 1), min_size=2, max_size=3))
    word, sym = (" AND ", " && ") if kind == "and" else (" OR ", " || ")
    return word.join(f"({o})" for o, _ in parts), sym.join(f"({c})" for _, c in parts)


@st.composite
def policy(draw: Any) -> tuple[str, str]:
    ours, cedar = [DECLS], []
    for _ in range(draw(st.integers(1, 5))):
        allow = draw(st.booleans())
        names = draw(st.lists(st.sampled_from(ACTIONS), max_size=2, unique=True))
        cond = draw(st.one_of(st.none(), condition()))
        ours.append(("ALLOW" if allow else "DENY") + (" " + ", ".join(names) if names else "")
                    + (f" IF {cond[0]}" if cond else "") + "\n")
        scope = "action" if not names else "action in [" + ", ".join(f'Action::{q(a)}' for a in names) + "]"
        cedar.append(f"{'permit' if allow else 'forbid'}(principal, {scope}, resource)"
                     + (f" when {{ {cond[1]} }}" if cond else "") + ";")
    return "".join(ours), "\n".join(cedar)


contexts = st.fixed_dictionaries({"n": INTS, "m": INTS, "s": WORDS, "t": WORDS, "f": st.booleans(),
                                  "r": st.lists(WORDS, max_size=3)})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy(), st.lists(st.tuples(st.sampled_from(ACTIONS), contexts), min_size=1, max_size=10))
def test_same_decisions_as_cedar(pair: tuple[str, str], requests: list[tuple[str, dict[str, Any]]]) -> None:
    ours_text, cedar_text = pair
    result = compile_sources([("d.policy", ours_text.encode())], analyse=False)
    assert result.ok, (ours_text, result.diagnostics)
    batch = [{"principal": 'User::"u"', "action": f"Action::{q(a)}", "resource": 'Res::"r"', "context": ctx}
             for a, ctx in requests]
    answers = cedarpy.is_authorized_batch(batch, cedar_text, [])
    for (action, ctx), answer in zip(requests, answers):
        assert not answer.diagnostics.errors, (cedar_text, answer.diagnostics.errors)
        ours = result.policy.decide(action, ctx).effect == "allow"
        assert ours == answer.allowed, (ours_text, cedar_text, action, ctx)


def test_the_translation_is_not_vacuous() -> None:
    ours, cedar = (DECLS + 'ALLOW web.fetch IF n < 2 AND "a" IN r\nDENY IF f\n',
                   'permit(principal, action == Action::"web.fetch", resource) when { context.n < 2 && context.r.contains("a") };\n'
                   "forbid(principal, action, resource) when { context.f };")
    policy = compile_sources([("v.policy", ours.encode())]).policy
    seen = set()
    for n, f, r in [(1, False, ["a"]), (3, False, ["a"]), (1, True, ["a"]), (1, False, [])]:
        ctx = {"n": n, "m": 0, "s": "a", "t": "a", "f": f, "r": r}
        mine = policy.decide("web.fetch", ctx).effect == "allow"
        theirs = cedarpy.is_authorized({"principal": 'User::"u"', "action": 'Action::"web.fetch"',
                                        "resource": 'Res::"r"', "context": ctx}, cedar, []).allowed
        assert mine == theirs
        seen.add(mine)
    assert seen == {True, False}
