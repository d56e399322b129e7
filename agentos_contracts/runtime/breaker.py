"""Circuit breakers per bound model and tool, and switching to the sealed fallbacks their signals name.

A breaker is **closed** (calls pass) until ``failures`` failures or slow calls happen
within ``window_s``; it is then **open** (calls are refused at once, and the signals
``breaker_open:NAME`` and ``breaker_open`` are raised) for ``open_s``; then
**half-open**: ``probes`` calls may pass; if they all succeed it closes (the signals
clear), if one fails it opens again. Settings come from the contract's
``binding.breaker`` (sealed in the manifest as ``requested.binding.breaker``, so platform
defaults and tenant layers can set them too), else the defaults below.

Only a fallback the manifest seals can activate (nothing unsealed ever runs): a raised
signal activates each sealed fallback whose ``when`` names it; when no signal that named
it is raised any more, it is deactivated and the binding returns.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, fields
from typing import Any, Mapping

from agentos_contracts.model.manifest import Fallback

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakerSettings:
    """What opens and closes a breaker, and how the monitors and retries behave (docs/runtime.md)."""

    failures: int = 5  # failures or slow calls within window_s that open the breaker
    window_s: float = 60.0
    open_s: float = 30.0  # how long it stays open before a half-open probe
    probes: int = 1  # successful probes that close it again
    slow_call_ms: float | None = None  # a call slower than this counts as a failure (default: from the SLO)
    min_samples: int = 10  # samples before a p95 bound is judged
    retries: int = 2  # extra attempts for tools whose sealed annotations say idempotentHint: true

    @staticmethod
    def from_manifest(requested: Mapping[str, Any]) -> BreakerSettings:
        """Read ``requested.binding.breaker``; values the schema let through are numbers already."""
        binding = requested.get("binding") if isinstance(requested, Mapping) else None
        given = binding.get("breaker") if isinstance(binding, Mapping) else None
        if not isinstance(given, Mapping):
            return BreakerSettings()
        known = {f.name for f in fields(BreakerSettings)}
        values: dict[str, Any] = {}
        for key, value in given.items():
            if key in known and isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
                values[key] = int(value) if key in ("failures", "probes", "min_samples", "retries") else float(value)
        return BreakerSettings(**values)


class Breaker:
    """One unit's breaker; times are nanoseconds from the runtime's clock."""

    def __init__(self, unit: str, settings: BreakerSettings) -> None:
        self.unit = unit
        self.settings = settings
        self.state = CLOSED
        self._failures: deque[int] = deque(maxlen=max(1, settings.failures))
        self._opened_at = 0
        self._probes_ok = 0
        self._probing = 0

    def allow(self, now: int) -> tuple[bool, str | None]:
        """May a call start now? Also the new state when the wait is over (``half_open``)."""
        if self.state == CLOSED:
            return True, None
        moved = None
        if self.state == OPEN:
            if now - self._opened_at < int(self.settings.open_s * 1e9):
                return False, None
            self.state, self._probes_ok, self._probing, moved = HALF_OPEN, 0, 0, HALF_OPEN
        if self._probing >= max(1, self.settings.probes) - self._probes_ok:
            return False, moved  # enough probes in flight
        self._probing += 1
        return True, moved

    def record(self, ok: bool, now: int) -> str | None:
        """The outcome of a call that was allowed; the new state when it changed."""
        if self.state == HALF_OPEN:
            self._probing = max(0, self._probing - 1)
            if not ok:
                return self._open(now)
            self._probes_ok += 1
            if self._probes_ok >= max(1, self.settings.probes):
                self.state = CLOSED
                self._failures.clear()
                return CLOSED
            return None
        if ok or self.state == OPEN:
            return None
        self._failures.append(now)
        horizon = now - int(self.settings.window_s * 1e9)
        if len(self._failures) >= max(1, self.settings.failures) and self._failures[0] >= horizon:
            return self._open(now)
        return None

    def release(self) -> None:
        """A call that was allowed but never ran (refused by the policy): its probe slot is free again."""
        if self.state == HALF_OPEN:
            self._probing = max(0, self._probing - 1)

    def _open(self, now: int) -> str:
        self.state, self._opened_at, self._probing = OPEN, now, 0
        self._failures.clear()
        return OPEN


class Signals:
    """Raised run-time signals and the sealed fallbacks they keep active."""

    def __init__(self, fallbacks: tuple[Fallback, ...]) -> None:
        self._fallbacks = fallbacks
        self.raised: dict[str, int] = {}  # signal -> how many sources raise it (e.g. open breakers)
        self.active: list[Fallback] = []

    def raise_(self, *signals: str) -> list[Fallback]:
        """Raise signals; the sealed fallbacks that became active."""
        for s in signals:
            self.raised[s] = self.raised.get(s, 0) + 1
        fresh = [f for f in self._fallbacks if f.when in self.raised and f not in self.active]
        self.active.extend(fresh)
        return fresh

    def clear(self, *signals: str) -> list[Fallback]:
        """Lower signals; the fallbacks no raised signal holds any more."""
        for s in signals:
            left = self.raised.get(s, 0) - 1
            if left > 0:
                self.raised[s] = left
            else:
                self.raised.pop(s, None)
        gone = [f for f in self.active if f.when not in self.raised]
        self.active = [f for f in self.active if f.when in self.raised]
        return gone


def breaker_signals(unit: str) -> tuple[str, str]:
    return f"breaker_open:{unit}", "breaker_open"


def slo_signals(metric: str) -> tuple[str, str]:
    return f"slo_breach:{metric}", "slo_breach"
