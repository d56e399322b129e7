"""Budgets: totals and sliding windows, exact amounts, an injectable clock."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.runtime.budgets import MINUTE_NS, BudgetError, Budgets


class Clock:
    def __init__(self) -> None:
        self.now = 1_000 * MINUTE_NS

    def __call__(self) -> int:
        return self.now


def test_call_total_and_rate() -> None:
    clock = Clock()
    b = Budgets.from_manifest({"calls": 5, "calls_per_minute": 2}, clock)
    for _ in range(2):
        assert b.check() is None
        b.charge(calls=1)
    reason = b.check()
    assert reason is not None and "calls_per_minute" in reason
    clock.now += MINUTE_NS  # the window slides: the two calls drop out exactly one minute later
    assert b.check() is None
    for _ in range(3):
        b.charge(calls=1)
    clock.now += 10 * MINUTE_NS
    assert "`calls` exhausted: 5 used of 5" in (b.check() or "")


def test_tokens_with_estimate_and_exhaustion() -> None:
    b = Budgets.from_manifest({"tokens": 100}, Clock())
    assert b.check(tokens=100) is None
    assert "asks 101" in (b.check(tokens=101) or "")
    b.charge(tokens=100)
    assert b.check(tokens=0) is not None  # nothing left: even a call of unknown size is refused


def test_cost_is_exact() -> None:
    b = Budgets.from_manifest({"cost_per_day": 0.3}, Clock())
    b.charge(cost=0.1)
    b.charge(cost=0.2)  # floats would give 0.30000000000000004 > 0.3 here
    assert b.check(cost=0) is not None
    assert b.usage()["cost"] == "0.3"
    b2 = Budgets.from_manifest({"cost": "0.3"}, Clock())
    b2.charge(cost=Fraction(1, 10))
    assert b2.check(cost=0.2) is None


@pytest.mark.parametrize("budgets, match", [
    ({"tokenz": 1}, "unknown budget"),
    ({"tokens": -1}, "negative"),
    ({"calls": "many"}, "not a number"),
    ({"calls": True}, "boolean"),
    ({"cost": float("nan")}, "finite"),
])
def test_unenforceable_budgets_are_refused(budgets: dict, match: str) -> None:
    with pytest.raises(BudgetError, match=match):
        Budgets.from_manifest(budgets)


def test_no_budgets_means_no_limit() -> None:
    b = Budgets.from_manifest(None)
    b.charge(calls=10**6, tokens=10**9, cost=10**6)
    assert b.check(tokens=10**9) is None


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3 * MINUTE_NS), st.integers(0, 50)), max_size=40), st.integers(1, 200))
def test_window_matches_a_plain_recount(events: list[tuple[int, int]], limit: int) -> None:
    """The running window sum always equals a fresh count of the last minute's tokens."""
    clock = Clock()
    start = clock.now
    b = Budgets.from_manifest({"tokens_per_minute": limit}, clock)
    seen: list[tuple[int, int]] = []
    for offset, tokens in sorted(events):
        clock.now = start + offset
        used = sum(v for t, v in seen if t > clock.now - MINUTE_NS)
        expect_ok = used + tokens <= limit and not (tokens == 0 and used >= limit)
        assert (b.check(calls=0, tokens=tokens) is None) == expect_ok
        b.charge(tokens=tokens)
        seen.append((clock.now, tokens))


def _recount(limits: dict[str, int], seen: list[tuple[int, int, int]], now: int, ask: tuple[int, int]) -> bool:
    """Whether ``ask`` (calls, tokens) fits every limit, counted afresh from every charge so far."""
    for key, limit in limits.items():
        metric = 0 if key.startswith("calls") else 1
        window = MINUTE_NS if key.endswith("_per_minute") else None
        used = sum(c[metric + 1] for c in seen if window is None or c[0] > now - window)
        want = ask[metric]
        if used + want > limit or (want == 0 and used >= limit):
            return False
    return True


@settings(max_examples=200, deadline=None)
@given(limits=st.dictionaries(st.sampled_from(["calls", "calls_per_minute", "tokens", "tokens_per_minute"]),
                              st.integers(0, 60), min_size=1),
       steps=st.lists(st.tuples(st.integers(0, MINUTE_NS // 2), st.booleans(), st.integers(0, 4),
                                st.integers(0, 30)), max_size=40))
def test_repeated_checks_between_charges_agree_with_a_recount(limits: dict[str, int],
                                                             steps: list[tuple[int, bool, int, int]]) -> None:
    """Checks that find room remember it until the next charge: many checks between charges, as
    time moves on and windows shed events, answer exactly as a fresh recount."""
    clock = Clock()
    b = Budgets.from_manifest(limits, clock)
    seen: list[tuple[int, int, int]] = []
    for advance, charge, calls, tokens in steps:
        clock.now += advance
        assert (b.check(calls=calls, tokens=tokens) is None) == _recount(limits, seen, clock.now, (calls, tokens))
        if charge:
            b.charge(calls=calls, tokens=tokens)
            seen.append((clock.now, calls, tokens))
