"""What a caller controls on a running agent: pause, resume, revoke (the kill switch), and the timed
units the SLO monitors see (model calls, turns, jobs). A mixin of :class:`Runtime`, kept apart so the
decision path in ``engine`` stays small; the state itself lives in ``watch`` and ``lifecycle``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from agentos_contracts.runtime.authorize import Decision
from agentos_contracts.runtime.lifecycle import KILL_SWITCH

if TYPE_CHECKING:
    from agentos_contracts.runtime.watch import Watch


class PolicyDenied(Exception):
    """A guarded call that was not let through; the function never ran. ``reason`` says why."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        self.reason = decision.reason
        super().__init__(decision.reason)


def refused(action: str, reason: str) -> PolicyDenied:
    """A call stopped before any decision (paused, revoked, breaker open): PolicyDenied, stage `lifecycle`."""
    return PolicyDenied(Decision(effect="deny", rules=("runtime:lifecycle",), reason=reason, stage="lifecycle",
                                 action=action, args_digest=""))


class Controls:
    """Lifecycle and timed units of a runtime (needs ``self.watch``)."""

    watch: Watch

    def pause(self, reason: str = "") -> bool:
        """Pause this agent (the kill switch): calls wait, bare decisions are refused; audited."""
        return self.watch.move("paused", reason)

    def resume(self, reason: str = "resumed") -> bool:
        return self.watch.move("running", reason)

    def revoke(self, reason: str = "") -> bool:
        """Refuse every further call of this runtime (final). Other processes: ``agentos ctl revoke``."""
        return self.watch.move("revoked", reason)

    @property
    def state(self) -> str:
        return self.watch.lifecycle.state

    def model_call(self, args: Mapping[str, Any] | None = None, *, model: str | None = None) -> Any:
        """``with rt.model_call(args) as m:`` call ``m.model``: the binding, canary or sealed fallback, timed."""
        return self.watch.model_call(args, model=model)

    def turn(self) -> Any:
        """``with rt.turn():`` one SRT turn, timed against the sealed ``turn_ms`` and ``onset_ms``."""
        return self.watch.turn()

    def job(self, deadline_ms: float | None = None) -> Any:
        """``with rt.job():`` one HRT job, its response time against the sealed deadline."""
        return self.watch.job("job", deadline_ms)

    def _lifecycle_decision(self, action: str, context: Any, agent: str | None, step: str | None) -> Decision | None:
        """The kill switch (always allowed: it pauses) and refusals while paused or revoked (never waits)."""
        if action == KILL_SWITCH:
            self.pause(str((context or {}).get("reason", "")) if isinstance(context, Mapping) else "")
            return Decision(effect="allow", rules=("builtin:agent.pause",), reason="kill switch: agent paused",
                            stage="lifecycle", action=action, args_digest="")
        problem = self.watch.check(wait=False)
        if problem is None:
            return None
        self.watch.refuse(action, problem, agent=agent, step=step)
        return Decision(effect="deny", rules=("runtime:lifecycle",), reason=problem, stage="lifecycle", action=action,
                        args_digest="")
