"""Shared pieces for the run-time signal tests: an injected clock and manifests with SLOs sealed in."""

from __future__ import annotations

from typing import Any

from agentos_contracts.model.manifest import Canary, Fallback, Resolved, ResolvedModel, ResolvedTool
from agentos_contracts.seal.canonical import canonical_digest

START_NS = 1_764_720_000 * 10**9  # 2025-12-03T00:00:00Z

FLAKY_TOOL = {
    "name": "inventory.lookup",
    "description": "look an item up (safe to repeat)",
    "inputSchema": {"type": "object", "properties": {"item": {"type": "string"}}, "required": ["item"]},
    "annotations": {"readOnlyHint": True, "idempotentHint": True},
}
SEND_TOOL = {
    "name": "email.send",
    "description": "send an email (not safe to repeat)",
    "inputSchema": {"type": "object", "properties": {"to": {"type": "string"}}, "required": ["to"]},
    "annotations": {"idempotentHint": False},
}


class Clock:
    """Nanoseconds that move only when a test says so: durations are exact."""

    def __init__(self) -> None:
        self.now = START_NS

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: float) -> None:
        self.now += int(ms * 1_000_000)


def srt_manifest(**over: Any) -> dict[str, Any]:
    """Predicate fields of an SRT agent bound to `llm@2.0.0` (previous `llm@1.0.0`) with sealed fallbacks."""
    tools = over.pop("tools", (FLAKY_TOOL, SEND_TOOL))
    breaker = over.pop("breaker", {"failures": 3, "window_s": 60, "open_s": 10, "probes": 1, "min_samples": 1})
    base: dict[str, Any] = dict(
        kind="AgentContract", name="help-desk", tenant="city", latency_class="SRT", binding_mode="flexible",
        slo={"onset_ms": 300, "turn_ms": 1200, "jitter_p95_pct": 50},
        capabilities=("inventory.lookup", "email.send", "summarize"), consent_for=(),
        requested={"binding": {"mode": "flexible", "breaker": breaker}},
        resolved=Resolved(
            models=(ResolvedModel(name="llm", version="2.0.0", ref="llm@>=1.0.0,<3.0.0", placement="on-prem"),),
            tools=tuple(ResolvedTool(name=t["name"], version="1.0.0", descriptor_digest=canonical_digest(t),
                                     descriptor=t) for t in tools)),
        fallbacks=(Fallback(when="breaker_open:llm", substitute={"model": "small@1.2.0", "redact": False}),
                   Fallback(when="slo_breach:turn", substitute={"model": "small@1.2.0", "redact": True})),
        canary=None,
    )
    base.update(over)
    return base


def with_canary(percent: float, **rollback_on: Any) -> Canary:
    return Canary(percent=percent, rollback_on=rollback_on, previous={"llm": "llm@1.0.0"})
