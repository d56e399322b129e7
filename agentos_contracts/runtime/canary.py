"""The sealed canary: a share of model calls on the new binding, rolled back when it misbehaves.

Which calls go to the canary is decided by the call's digest (the same ``sha256`` of
action, arguments and manifest the consent gate uses), so the same call always goes the
same way, in every process, and the share converges on the sealed ``percent``. The
canary's own calls are watched: when their rolling p95 latency exceeds
``rollback_on.latency_p95_ms`` or their error rate exceeds ``rollback_on.error_rate_pct``
(both judged once ``rollback_on.min_calls`` canary calls are in, default 20), every
later call goes to the previous version for the rest of the manifest's life.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Mapping

from agentos_contracts.model.manifest import Canary, ResolvedModel
from agentos_contracts.runtime.monitor import Window

DEFAULT_MIN_CALLS = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class Rollback:
    metric: str  # latency_p95_ms | error_rate_pct
    measured: float
    bound: float
    calls: int


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class CanaryRouter:
    """Routes model calls between the canary (the resolved version) and the previous version."""

    def __init__(self, canary: Canary, models: tuple[ResolvedModel, ...]) -> None:
        self.percent = float(canary.percent)
        self.previous: Mapping[str, str] = dict(canary.previous)
        self.current = {m.name: f"{m.name}@{m.version}" for m in models}
        rollback_on = canary.rollback_on or {}
        self.latency_bound = _number(rollback_on.get("latency_p95_ms"))
        self.error_bound = _number(rollback_on.get("error_rate_pct"))
        min_calls = _number(rollback_on.get("min_calls"))
        self.min_calls = max(1, int(min_calls)) if min_calls is not None else DEFAULT_MIN_CALLS
        self.rolled_back: Rollback | None = None
        self._latency = Window()
        self._outcomes: deque[bool] = deque(maxlen=max(self.min_calls, 100))

    def serves(self, model: str, call_digest: str) -> bool:
        """Does this call go to the canary? Never after a rollback or when there is no previous version."""
        if self.rolled_back is not None or model not in self.previous:
            return False
        bucket = int(call_digest.rpartition(":")[2][:8], 16) % 10_000  # 0.01 % steps
        return bucket < round(self.percent * 100)

    def model_for(self, model: str, call_digest: str) -> tuple[str, bool]:
        """``(name@version to call, whether it is the canary)``."""
        if self.serves(model, call_digest):
            return self.current.get(model, model), True
        return self.previous.get(model, self.current.get(model, model)), False

    def observe(self, ms: float, ok: bool) -> Rollback | None:
        """A canary call ended; the rollback, the first time a threshold is crossed."""
        if self.rolled_back is not None:
            return None
        self._latency.add(ms)
        self._outcomes.append(ok)
        n = len(self._outcomes)
        if n < self.min_calls:
            return None
        errors = 100.0 * sum(1 for o in self._outcomes if not o) / n
        p95 = self._latency.quantile(0.95) or 0.0
        if self.error_bound is not None and errors > self.error_bound:
            self.rolled_back = Rollback(metric="error_rate_pct", measured=round(errors, 3), bound=self.error_bound,
                                        calls=n)
        elif self.latency_bound is not None and p95 > self.latency_bound:
            self.rolled_back = Rollback(metric="latency_p95_ms", measured=round(p95, 3), bound=self.latency_bound,
                                        calls=n)
        return self.rolled_back
