"""SLO monitors: every call, turn and job timed; rolling p95 per unit; breaches against sealed bounds.

**The streaming quantile.** Each unit keeps the last ``size`` samples (default 128) twice:
in arrival order (a ring, to know which sample leaves) and sorted (``bisect``), so adding
a sample is O(size) memmove in C (about a microsecond at this size) and any quantile is
one index. Memory is fixed per unit. We chose a window over P² (five markers, O(1)):
P² summarises *all* samples since the start, so an hour of slow calls would keep the p95
high long after the model recovered and a breaker could never close on evidence; the
window forgets, and its p95 is exact over what it holds rather than an estimate.

**Bounds** come from the manifest's sealed ``slo`` (the contract's ``class.slo``):
SRT ``onset_ms`` and ``turn_ms`` bound the p95 of onsets and turns, ``jitter_p95_pct``
bounds ``(p95 - p50) / p50`` of turns; HRT ``deadline_ms`` (or ``period_ms``) bounds every
job's response time (a single miss is a breach); DT ``tokens_per_hour`` is a floor on the
throughput over the window; a workflow's ``deadline_ms`` bounds each run. Each call's own
rolling p95 is bounded by ``slow_call_ms`` (breaker settings), by default the turn (SRT)
or the deadline (HRT). p95 bounds are judged once ``min_samples`` samples are in.

A breach is reported when a bound starts being broken and a recovery when it holds again,
so the log shows episodes, not every slow sample (HRT misses are each reported).
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass
from typing import Any, Mapping

DEFAULT_WINDOW = 128


class Window:
    """The last ``size`` samples, in arrival order and sorted: exact rolling quantiles, fixed memory."""

    __slots__ = ("size", "_ring", "_sorted", "_p95_at")

    def __init__(self, size: int = DEFAULT_WINDOW) -> None:
        self.size = max(1, size)
        self._ring: deque[float] = deque()
        self._sorted: list[float] = []
        self._p95_at: list[int] | None = None  # p95's index for each fill level, made on first use

    def add(self, value: float) -> None:
        if len(self._ring) == self.size:
            old = self._ring.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]
        self._ring.append(value)
        bisect.insort(self._sorted, value)

    def __len__(self) -> int:
        return len(self._ring)

    def quantile(self, q: float) -> float | None:
        """Nearest-rank quantile (the smallest sample with at least ``q`` of the samples at or below it)."""
        n = len(self._sorted)
        if n == 0:
            return None
        return self._sorted[_rank(int(q * 1000), n) - 1]

    def p95(self) -> float | None:
        """``quantile(0.95)``, by a table lookup: the monitors ask it after every call."""
        at = self._p95_at
        if at is None:
            at = self._p95_at = [_rank(950, n) - 1 for n in range(self.size + 1)]
        n = len(self._sorted)
        return self._sorted[at[n]] if n else None

    def total(self) -> float:
        return sum(self._ring)


def _rank(q_milli: int, n: int) -> int:
    """ceil(q * n) for q in thousandths, clamped to 1..n: the nearest rank, in integers."""
    return min(n, max(1, -(-q_milli * n // 1000)))


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """A bound that started (``breached``) or stopped being broken, with the figures behind it."""

    metric: str  # call | onset | turn | jitter | deadline | throughput
    unit: str  # a model or tool name, `turn`, `job` or `workflow`
    breached: bool
    measured: float
    bound: float

    @property
    def signal(self) -> str:
        """The fallback signal: `slo_breach:onset|turn|deadline` (and `...:call|jitter|throughput`)."""
        return f"slo_breach:{self.metric}"


def _ms(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None


class SloMonitor:
    """The rolling figures of one manifest and the state (broken or not) of each bound."""

    def __init__(self, slo: Mapping[str, Any], latency_class: str | None, *, slow_call_ms: float | None = None,
                 min_samples: int = 10, window: int = DEFAULT_WINDOW) -> None:
        self.latency_class = latency_class
        self.min_samples = max(1, min_samples)
        self._size = window
        self.onset_ms = _ms(slo.get("onset_ms")) if latency_class == "SRT" else None
        self.turn_ms = _ms(slo.get("turn_ms")) if latency_class == "SRT" else None
        self.jitter_pct = _ms(slo.get("jitter_p95_pct")) if latency_class == "SRT" else None
        self.deadline_ms = _ms(slo.get("deadline_ms")) or _ms(slo.get("period_ms"))
        self.tokens_per_hour = _ms(slo.get("tokens_per_hour")) if latency_class == "DT" else None
        default_call = self.turn_ms if latency_class == "SRT" else (self.deadline_ms if latency_class == "HRT" else None)
        self.call_ms = slow_call_ms if slow_call_ms is not None else default_call
        self._windows: dict[tuple[str, str], Window] = {}
        self._calls: dict[str, Window] = {}  # the `call` windows by unit, looked up on every call
        self._broken: set[tuple[str, str]] = set()
        self._tokens: dict[str, deque[tuple[float, float]]] = {}

    def window(self, metric: str, unit: str) -> Window:
        key = (metric, unit)
        found = self._windows.get(key)
        if found is None:
            found = self._windows[key] = Window(self._size)
        return found

    def p95(self, metric: str, unit: str) -> float | None:
        w = self._windows.get((metric, unit))
        return None if w is None else w.quantile(0.95)

    def call(self, unit: str, ms: float, tokens: float = 0) -> list[Change]:
        """A model or tool call took ``ms``; ``tokens`` (model calls) feed the DT throughput."""
        w = self._calls.get(unit)
        if w is None:
            w = self._calls[unit] = self.window("call", unit)
        w.add(ms)
        out: list[Change] = []
        if self.call_ms is not None and len(w) >= self.min_samples:
            p95 = w.p95()
            if p95 is not None and (p95 > self.call_ms) != (("call", unit) in self._broken):
                out = self._judge("call", unit, p95, self.call_ms)
        if self.tokens_per_hour is not None and tokens > 0:
            out += self._throughput(unit, ms, tokens)
        return out

    def turn(self, ms: float, onset_ms: float | None) -> list[Change]:
        out = self._p95("turn", "turn", ms, self.turn_ms)
        if onset_ms is not None:
            out += self._p95("onset", "turn", onset_ms, self.onset_ms)
        if self.jitter_pct is not None:
            w = self.window("turn", "turn")
            p50, p95 = w.quantile(0.5), w.quantile(0.95)
            if len(w) >= self.min_samples and p50 and p95 is not None:
                out += self._judge("jitter", "turn", (p95 - p50) / p50 * 100, self.jitter_pct)
        return out

    def job(self, ms: float, unit: str = "job", deadline_ms: float | None = None) -> list[Change]:
        """An HRT job (or a workflow run) responded in ``ms``: every miss is a breach."""
        bound = deadline_ms if deadline_ms is not None else self.deadline_ms
        self.window("deadline", unit).add(ms)
        if bound is None:
            return []
        key = ("deadline", unit)
        if ms > bound:
            self._broken.add(key)
            return [Change(metric="deadline", unit=unit, breached=True, measured=ms, bound=bound)]
        if key in self._broken:
            self._broken.discard(key)
            return [Change(metric="deadline", unit=unit, breached=False, measured=ms, bound=bound)]
        return []

    def _p95(self, metric: str, unit: str, ms: float, bound: float | None) -> list[Change]:
        w = self.window(metric, unit)
        w.add(ms)
        if bound is None or len(w) < self.min_samples:
            return []
        p95 = w.quantile(0.95)
        return [] if p95 is None else self._judge(metric, unit, p95, bound)

    def _throughput(self, unit: str, ms: float, tokens: float) -> list[Change]:
        recent = self._tokens.setdefault(unit, deque(maxlen=self._size))
        recent.append((tokens, ms))
        if len(recent) < self.min_samples or self.tokens_per_hour is None:
            return []
        busy_ms = sum(m for _, m in recent)
        rate = sum(t for t, _ in recent) * 3_600_000 / busy_ms if busy_ms > 0 else float("inf")
        return self._judge("throughput", unit, rate, self.tokens_per_hour, floor=True)

    def _judge(self, metric: str, unit: str, measured: float, bound: float, *, floor: bool = False) -> list[Change]:
        key = (metric, unit)
        broken = measured < bound if floor else measured > bound
        if broken == (key in self._broken):
            return []
        (self._broken.add if broken else self._broken.discard)(key)
        return [Change(metric=metric, unit=unit, breached=broken, measured=round(measured, 3), bound=bound)]
