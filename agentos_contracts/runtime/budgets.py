"""Token, call and cost budgets: totals and sliding windows (per minute, per day).

Amounts are exact (``Fraction``; costs arrive as decimals) and time is integer
nanoseconds from an injectable clock, so a test, or `audit replay` fed the recorded
timestamps, reproduces every budget decision. A limit is exhausted when what was used
plus what the call asks for would pass it; a call that asks for nothing more (tokens
not yet known) is refused once the limit is reached.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Callable, Mapping

from agentos_contracts.model.units import UnitError, to_fraction

MINUTE_NS = 60 * 1_000_000_000
DAY_NS = 24 * 60 * MINUTE_NS

# manifest budget key -> (metric, window); an unknown key is refused, never ignored (fail closed)
KEYS: dict[str, tuple[str, int | None]] = {
    "tokens": ("tokens", None),
    "tokens_per_minute": ("tokens", MINUTE_NS),
    "calls": ("calls", None),
    "calls_per_minute": ("calls", MINUTE_NS),
    "cost": ("cost", None),
    "cost_per_minute": ("cost", MINUTE_NS),
    "cost_per_day": ("cost", DAY_NS),
}
METRICS = ("calls", "tokens", "cost")
MAX_EXPONENT = 1000  # decimal exponents beyond this are refused, not computed


Amount = int | Fraction  # exact either way; plain ints keep the common path fast


def amount_of(value: Any) -> Amount:
    """An exact amount: ints as they are, anything else through its decimal text."""
    if value.__class__ is int:
        return value  # type: ignore[no-any-return]
    if isinstance(value, str) and not _modest(value):
        raise UnitError("amount is out of range")
    exact = to_fraction(value)
    return exact.numerator if exact.denominator == 1 else exact


def _modest(text: str) -> bool:
    """Whether decimal text has a sane exponent: `1e999999999` would take minutes to make exact."""
    try:
        d = Decimal(text.strip())
    except InvalidOperation:
        return True  # to_fraction reports it
    return not d.is_finite() or -MAX_EXPONENT <= d.adjusted() <= MAX_EXPONENT


class BudgetError(ValueError):
    """A budget the runtime cannot enforce (unknown key, negative or non-numeric limit)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Limit:
    key: str  # as written in the manifest, named in reasons
    metric: str
    amount: Amount
    window_ns: int | None  # None: over the whole run


class Budgets:
    """Usage against limits; not thread-safe on its own (the runtime serialises calls)."""

    def __init__(self, limits: tuple[Limit, ...] = (), clock: Callable[[], int] = time.time_ns) -> None:
        self.limits = limits
        self._clock = clock
        self._totals: dict[str, Amount] = {m: 0 for m in METRICS}
        # one sliding window per windowed limit: its events and their running sum
        self._windows: dict[str, _Window] = {lim.key: _Window() for lim in limits if lim.window_ns is not None}
        # each limit compiled for check(): (limit, index of its metric in the ask, its window or None)
        self._checks = tuple((lim, METRICS.index(lim.metric), self._windows.get(lim.key)) for lim in limits)
        # per metric, room that was left under its tightest limit when last measured (None: measure again).
        # Usage only grows by charge(), which forgets it; windows only shed events as time passes, so the
        # room can only have grown since: an ask below it fits every limit, with no clock read or walk
        self._room: tuple[Amount | float, ...] | None = None

    @classmethod
    def from_manifest(cls, budgets: Mapping[str, Any] | None, clock: Callable[[], int] = time.time_ns) -> Budgets:
        limits: list[Limit] = []
        for key, value in sorted((budgets or {}).items()):
            if key not in KEYS:
                raise BudgetError(f"unknown budget `{key}` (known: {', '.join(sorted(KEYS))})")
            try:
                amount = amount_of(value)
            except UnitError as exc:
                raise BudgetError(f"budget `{key}`: {exc}") from None
            if amount < 0:
                raise BudgetError(f"budget `{key}` is negative")
            metric, window = KEYS[key]
            limits.append(Limit(key=key, metric=metric, amount=amount, window_ns=window))
        return cls(tuple(limits), clock)

    def check(self, calls: int = 1, tokens: Any = 0, cost: Any = 0, at: int | None = None) -> str | None:
        """The reason the request would pass a limit, or None when it fits (positional: once per call)."""
        checks = self._checks
        if not checks:
            return None
        if calls.__class__ is int and tokens.__class__ is int and cost.__class__ is int \
                and calls >= 0 and tokens >= 0 and cost >= 0:  # the common ask: nothing to convert or refuse
            ask: tuple[Amount, ...] = (calls, tokens, cost)  # in METRICS order
            room = self._room
            if room is not None and calls < room[0] and tokens < room[1] and cost < room[2]:
                return None
        else:
            ask = (amount_of(calls), amount_of(tokens), amount_of(cost))
            for metric, want in zip(METRICS, ask):  # a negative ask would make `used + want` fit an exhausted limit
                if want < 0:
                    return f"a request cannot ask a negative amount of {metric}"
        now = (self._clock() if at is None else at) if self._windows else 0
        totals = self._totals
        left: list[Amount | float] = [math.inf, math.inf, math.inf]
        for lim, index, window in checks:
            if window is None:
                used = totals[lim.metric]
            else:  # expired events drop out only when the oldest one has (a look at the deque's head)
                events = window.events
                used = window.since(now - lim.window_ns) if events and events[0][0] <= now - lim.window_ns \
                    else window.total  # type: ignore[operator]
            want = ask[index]
            if used + want > lim.amount or (want == 0 and used >= lim.amount):
                return (f"budget `{lim.key}` exhausted: {_num(used)} used of {_num(lim.amount)}"
                        + (f", this call asks {_num(want)}" if want else ""))
            if lim.amount - used < left[index]:
                left[index] = lim.amount - used
        self._room = tuple(left)
        return None

    def charge(self, *, calls: int = 0, tokens: Any = 0, cost: Any = 0, at: int | None = None) -> None:
        """Record what a call used (calls when it is let through; tokens and cost when known)."""
        now = self._clock() if at is None else at
        for metric, value in (("calls", amount_of(calls)), ("tokens", amount_of(tokens)), ("cost", amount_of(cost))):
            if value < 0:
                raise BudgetError(f"cannot charge a negative amount of {metric}")
            if value:
                self._room = None
                self._totals[metric] += value
                for lim in self.limits:
                    if lim.metric == metric and lim.window_ns is not None:
                        self._windows[lim.key].add(now, value)

    def usage(self) -> dict[str, str]:
        """Totals as exact decimal-or-fraction text, for records and reports."""
        return {m: _num(v) for m, v in self._totals.items()}


class _Window:
    """Events in time order with their running sum; events at or before the horizon drop out."""

    __slots__ = ("events", "total")

    def __init__(self) -> None:
        self.events: deque[tuple[int, Amount]] = deque()
        self.total: Amount = 0

    def add(self, at: int, value: Amount) -> None:
        self.events.append((at, value))
        self.total += value

    def since(self, horizon: int) -> Amount:
        events = self.events
        while events and events[0][0] <= horizon:
            self.total -= events.popleft()[1]
        return self.total


def _num(value: Amount) -> str:
    if isinstance(value, int) or value.denominator == 1:
        return str(value.numerator)
    text = _decimal_text(value)
    return text if text is not None else f"{value.numerator}/{value.denominator}"


def _decimal_text(value: Fraction) -> str | None:
    """Exact decimal text when the denominator has only 2 and 5 as factors."""
    d, twos, fives = value.denominator, 0, 0
    while d % 2 == 0:
        d, twos = d // 2, twos + 1
    while d % 5 == 0:
        d, fives = d // 5, fives + 1
    if d != 1:
        return None
    places = max(twos, fives)
    scaled = abs(value.numerator) * (10**places // value.denominator)
    whole, frac = divmod(scaled, 10**places)
    sign = "-" if value < 0 else ""
    return f"{sign}{whole}.{frac:0{places}d}".rstrip("0").rstrip(".")
