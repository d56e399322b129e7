"""What admission proved, watched at run time: one place that ties monitors, breakers, fallbacks,
canary and lifecycle to a runtime, so ``Runtime``, ``agentos run`` and a gateway behave alike.

The runtime asks :meth:`Watch.check` before every decision and call (lifecycle and
revocations), :meth:`Watch.allow` before running a call (its unit's breaker), and reports
every outcome to :meth:`Watch.done` (monitors, breaker, canary). Everything the watch
concludes is written to the runtime's audit log and, with OpenTelemetry, to its metrics.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

from agentos_contracts.model.manifest import Fallback
from agentos_contracts.runtime.breaker import CLOSED, HALF_OPEN, OPEN, Breaker, BreakerSettings, Signals, breaker_signals, slo_signals
from agentos_contracts.runtime.canary import CanaryRouter
from agentos_contracts.runtime.consent import call_digest
from agentos_contracts.runtime.lifecycle import Lifecycle, Transition
from agentos_contracts.runtime.monitor import Change, SloMonitor
from agentos_contracts.runtime.revocations import RevocationWatch
from agentos_contracts.runtime.telemetry import mark_failed

if TYPE_CHECKING:
    from agentos_contracts.runtime.engine import Runtime


@dataclass(slots=True)
class _Turn:
    start: int
    onset: int | None = None


_turn: ContextVar[_Turn | None] = ContextVar("agentos_turn", default=None)


@dataclass(slots=True, kw_only=True)
class ModelCall:
    """One model call under the watch: which ``name@version`` to call and what the call used."""

    unit: str  # the model name the breaker and monitors key on
    model: str  # `name@version` to call: the binding, the canary's previous version, or a sealed fallback
    canary: bool = False
    fallback: Mapping[str, Any] | None = None
    tokens_used: float = 0
    _first_output: int | None = field(default=None, repr=False)

    def tokens(self, n: float) -> None:
        """Tokens this call produced or consumed (feeds the DT throughput monitor)."""
        self.tokens_used += n

    def first_output(self, at: int) -> None:
        self._first_output = at


class Watch:
    """Monitors, breakers, fallbacks, canary and lifecycle of one runtime (thread-safe)."""

    def __init__(self, rt: Runtime, revocations: RevocationWatch | None = None, *, pause_wait_s: float = 30.0) -> None:
        m = rt.manifest
        self.rt = rt
        self.settings = BreakerSettings.from_manifest(m.requested)
        s = self.settings
        self.monitor = SloMonitor(m.slo, m.latency_class, slow_call_ms=s.slow_call_ms, min_samples=s.min_samples)
        self.breakers: dict[str, Breaker] = {}
        self.signals = Signals(m.fallbacks)
        self.canary = CanaryRouter(m.canary, m.resolved.models) if m.canary is not None and m.canary.previous else None
        self.lifecycle = Lifecycle(pause_wait_s=pause_wait_s)
        self.lifecycle.move("running", "loaded")  # admitted → running: `agent.started` records it
        self.revocations = revocations
        self.idempotent = frozenset(t.name for t in m.resolved.tools if _idempotent(t.descriptor))
        self.models = {mm.name: f"{mm.name}@{mm.version}" for mm in m.resolved.models}
        # durations: the runtime's clock when one is injected (exact tests), else a monotonic one
        self.now = time.perf_counter_ns if rt._clock is time.time_ns else rt._clock
        self._lock = threading.Lock()
        self._paused_by_list = False
        self._synced: Any = None  # the list version last obeyed
        self._open_units: set[str] = set()  # units whose breaker signals are raised
        self._attrs: dict[tuple[str, bool], dict[str, Any]] = {}  # metric attributes per unit and outcome

    # --- lifecycle ---------------------------------------------------------------------------------

    def check(self, *, wait: bool) -> str | None:
        """``None`` when work may go on, else why it is refused. Paused: wait (calls) or refuse (decisions)."""
        problem = self._sync()
        if problem is not None:
            return problem
        state = self.lifecycle.state
        if state == "paused" and wait:
            state = self.lifecycle.wait_while_paused(self._sync)
            problem = self._sync()
            if problem is not None:
                return problem
        if state in ("paused", "revoked", "completed"):
            why = f": {self.lifecycle.reason}" if self.lifecycle.reason else ""
            return f"agent is {state}{why}"
        return None

    def _sync(self) -> str | None:
        """Obey the revocation list (one stat when unchanged); an untrusted list refuses everything."""
        rw = self.revocations
        if rw is None:
            return None
        seen = rw.current
        if rw.refresh() is seen and rw.error is None and self._synced is seen:
            return None  # nothing new since the last look (the common case: one clock read)
        if rw.error is not None:
            return f"{rw.error} (failing closed)"
        self._synced = rw.current
        listed = rw.state_of(self.rt.digest)
        if listed == "revoked" and self.lifecycle.state != "revoked":
            self._moved(self.lifecycle.move("revoked", rw.current.revoked.get(self.rt.digest, ""), "revocations"))
        elif listed == "paused" and self.lifecycle.state != "paused" and not self._paused_by_list:
            self._paused_by_list = True
            self._moved(self.lifecycle.move("paused", rw.current.paused.get(self.rt.digest, ""), "revocations"))
        elif listed is None and self._paused_by_list:
            self._paused_by_list = False
            if self.lifecycle.state == "paused":
                self._moved(self.lifecycle.move("running", "removed from the pause list", "revocations"))
        return None

    def move(self, state: str, reason: str) -> bool:
        """A local lifecycle change (``Runtime.pause``/``resume``/``revoke``/``finish``); a pause the
        signed list imposes is lifted only by the list (``agentos ctl resume``), never locally."""
        if state == "running" and self.revocations is not None:
            self._sync()
            if self._paused_by_list:
                return False
        return self._moved(self.lifecycle.move(state, reason))

    def _moved(self, t: Transition | None) -> bool:
        if t is None:
            return False
        kind = {"paused": "agent.paused", "revoked": "agent.revoked"}.get(t.after)
        if kind is None and t.before == "paused" and t.after == "running":
            kind = "agent.resumed"
        if kind is not None:
            self.rt.record(kind, state=t.after, reason=t.reason or None, detail={"source": t.source, "from": t.before})
        return True

    def refuse(self, action: str, reason: str, *, agent: str | None = None, step: str | None = None) -> None:
        self.rt.record("call.refused", agent=agent, action=action, step=step, decision="deny", reason=reason,
                       state=self.lifecycle.state)
        self.rt.telemetry.metrics.decision("refused", {"gen_ai.tool.name": action})

    # --- breakers ----------------------------------------------------------------------------------

    def allow(self, unit: str) -> str | None:
        """``None`` when the unit's breaker lets a call start, else why not."""
        found = self.breakers.get(unit)
        if found is not None and found.state == CLOSED:  # the common case, without the lock
            return None
        with self._lock:
            breaker = self.breakers.get(unit)
            if breaker is None:
                breaker = self.breakers[unit] = Breaker(unit, self.settings)
            ok, moved = breaker.allow(self.now())
        if moved is not None:
            self._breaker_moved(unit, moved)
        if ok:
            return None
        subs = [f.substitute for f in self.signals.active]
        hint = f"; active fallback: {subs[-1]}" if subs else ""
        return f"circuit breaker of `{unit}` is open{hint}"

    def done(self, unit: str, ms: float, ok: bool, *, tokens: float = 0, canary: bool = False) -> None:
        """A call of ``unit`` ended after ``ms``: feed the monitors, the breaker and the canary."""
        metrics = self.rt.telemetry.metrics
        if metrics.active:
            attrs = self._attrs.get((unit, ok))
            if attrs is None:
                attrs = self._attrs[(unit, ok)] = {"agentos.unit": unit, "agentos.metric": "call",
                                                   "agentos.outcome": "ok" if ok else "error"}
            metrics.duration(ms, attrs)
        bound = self.monitor.call_ms
        slow = bound is not None and ms > bound
        with self._lock:
            changes = self.monitor.call(unit, ms, tokens)
            breaker = self.breakers.get(unit)
            # a closed breaker ignores successes (Breaker.record): no clock read for the common call
            moved = None if breaker is None or (ok and not slow and breaker.state == CLOSED) \
                else breaker.record(ok and not slow, self.now())
            rollback = self.canary.observe(ms, ok) if canary and self.canary is not None else None
        if changes:
            self._changes(changes)
        if moved is not None:
            self._breaker_moved(unit, moved)
        if rollback is not None:
            self.rt.record("canary.rolled_back", unit=unit, metric=rollback.metric, measured=rollback.measured,
                           bound=rollback.bound, detail={"calls": rollback.calls, "previous": dict(self.canary.previous)
                                                         if self.canary else {}})

    def _breaker_moved(self, unit: str, state: str) -> None:
        kind = {"open": "breaker.opened", "half_open": "breaker.half_open", "closed": "breaker.closed"}[state]
        self.rt.record(kind, unit=unit, state=state)
        self.rt.telemetry.metrics.breaker({"agentos.unit": unit, "agentos.state": state})
        if state == OPEN:  # raised once per outage: a failed half-open probe re-opens, it does not raise again
            with self._lock:
                fresh = [] if unit in self._open_units else self.signals.raise_(*breaker_signals(unit))
                self._open_units.add(unit)
            self._activate(fresh, f"breaker_open:{unit}")
        elif state == CLOSED:
            with self._lock:
                gone = self.signals.clear(*breaker_signals(unit)) if unit in self._open_units else []
                self._open_units.discard(unit)
            self._deactivate(gone, f"breaker_open:{unit}")

    def _changes(self, changes: list[Change]) -> None:
        for c in changes:
            if c.breached:
                self.rt.record("slo.breach", unit=c.unit, metric=c.metric, measured=c.measured, bound=c.bound)
                self.rt.telemetry.metrics.breach({"agentos.unit": c.unit, "agentos.metric": c.metric})
                with self._lock:  # an HRT miss repeats while broken; its signal is raised once
                    fresh = [] if c.metric == "deadline" and c.signal in self.signals.raised \
                        else self.signals.raise_(*slo_signals(c.metric))
                self._activate(fresh, c.signal)
            else:
                self.rt.record("slo.recovered", unit=c.unit, metric=c.metric, measured=c.measured, bound=c.bound)
                with self._lock:
                    gone = self.signals.clear(*slo_signals(c.metric))
                self._deactivate(gone, c.signal)

    def _activate(self, fresh: list[Fallback], signal: str) -> None:
        for f in fresh:
            with self.rt._lock:
                self.rt.active_fallbacks.append(f)
            self.rt.record("fallback.activated", signal=signal, fallback=f.substitute)

    def _deactivate(self, gone: list[Fallback], signal: str) -> None:
        for f in gone:
            with self.rt._lock:
                if f in self.rt.active_fallbacks:
                    self.rt.active_fallbacks.remove(f)
            self.rt.record("fallback.deactivated", signal=signal, fallback=f.substitute)

    # --- timed units: model calls, turns, jobs -------------------------------------------------------

    def release(self, unit: str) -> None:
        """A call that was allowed but did not run gives back its half-open probe slot."""
        breaker = self.breakers.get(unit)
        if breaker is None or breaker.state != HALF_OPEN:  # only a half-open breaker counts slots; both other
            return  # states start the count afresh when they move to half-open, so nothing is lost unlocked
        with self._lock:
            breaker.release()

    def run(self, action: str, run: Callable[[], Any], reauthorize: Callable[[], bool],
            failed: Callable[[Exception], None]) -> Any:
        """Run a tool call, timed; retry it (re-decided, so budgets count every attempt) when it fails
        and its sealed annotations say ``idempotentHint: true``, up to ``retries`` more times."""
        attempt = 1
        while True:
            start = self.now()
            try:
                result = run()
            except Exception as exc:
                self.done(action, (self.now() - start) / 1e6, False)
                failed(exc)
                if action not in self.idempotent or attempt > self.settings.retries or self.allow(action) is not None:
                    raise
                attempt += 1
                self.rt.record("tool.retried", action=action, attempt=attempt, error=type(exc).__name__)
                if not reauthorize():
                    self.release(action)
                    raise
                continue
            self.done(action, (self.now() - start) / 1e6, True)
            return result

    @contextmanager
    def model_call(self, args: Mapping[str, Any] | None = None, *, model: str | None = None) -> Iterator[ModelCall]:
        """Route, time and guard one model call (see ``Runtime.model_call``)."""
        from agentos_contracts.runtime.controls import refused

        unit = model or next(iter(self.models), "model")
        action = f"model:{unit}"
        problem = self.check(wait=True)
        blocked = None if problem is not None else self.allow(unit)
        with self._lock:  # this call holds a half-open probe slot: it must test the bound model
            probe = blocked is None and unit in self.breakers and self.breakers[unit].state == HALF_OPEN
        # an active sealed fallback naming a model takes over (breaker open, SLO breached, or an application
        # signal), except for the half-open probe that tests whether the bound model has recovered
        sub = None if probe else self._model_fallback()
        if sub is None and problem is None:
            problem = blocked
        if problem is not None:
            self.refuse(action, problem)
            raise refused(action, problem)
        if sub is not None:
            handle = ModelCall(unit=str(sub["model"]).split("@")[0], model=str(sub["model"]), fallback=sub)
        elif self.canary is not None:
            chosen, is_canary = self.canary.model_for(unit, call_digest(action, dict(args or {}), self.rt.digest))
            handle = ModelCall(unit=unit, model=chosen, canary=is_canary)
        else:
            handle = ModelCall(unit=unit, model=self.models.get(unit, unit))
        start = self.now()
        ok = False
        attrs = {"gen_ai.operation.name": "chat", "gen_ai.request.model": handle.model,
                 "agentos.manifest.digest": self.rt.digest, "agentos.canary": handle.canary,
                 "agentos.fallback": handle.fallback is not None}
        try:
            with self.rt.trace.span(f"chat {handle.model}", attrs) as span:
                try:
                    yield handle
                except Exception as exc:
                    span.record_exception(exc)
                    mark_failed(span, type(exc).__qualname__, str(exc))
                    raise
            ok = True
        finally:
            end = self.now()
            turn = _turn.get()
            if turn is not None and turn.onset is None:
                turn.onset = handle._first_output or end
            self.done(handle.unit, (end - start) / 1e6, ok, tokens=handle.tokens_used, canary=handle.canary)

    def _model_fallback(self) -> Mapping[str, Any] | None:
        with self.rt._lock:
            active = list(self.rt.active_fallbacks)
        return next((f.substitute for f in reversed(active) if f.substitute.get("model")), None)

    @contextmanager
    def turn(self) -> Iterator[None]:
        """An SRT turn: its duration against ``turn_ms``, its first model output against ``onset_ms``."""
        state = _Turn(start=self.now())
        token = _turn.set(state)
        try:
            yield
        finally:
            _turn.reset(token)
            end = self.now()
            ms = (end - state.start) / 1e6
            onset = None if state.onset is None else (state.onset - state.start) / 1e6
            self.rt.telemetry.metrics.duration(ms, {"agentos.unit": "turn", "agentos.metric": "turn"})
            with self._lock:
                changes = self.monitor.turn(ms, onset)
            self._changes(changes)

    @contextmanager
    def job(self, unit: str = "job", deadline_ms: float | None = None) -> Iterator[None]:
        """An HRT job (or a workflow run): its response time against the sealed deadline."""
        start = self.now()
        try:
            yield
        finally:
            ms = (self.now() - start) / 1e6
            self.rt.telemetry.metrics.duration(ms, {"agentos.unit": unit, "agentos.metric": "deadline"})
            with self._lock:
                changes = self.monitor.job(ms, unit, deadline_ms)
            self._changes(changes)


def _idempotent(descriptor: Mapping[str, Any] | None) -> bool:
    annotations = descriptor.get("annotations") if isinstance(descriptor, Mapping) else None
    return isinstance(annotations, Mapping) and annotations.get("idempotentHint") is True
