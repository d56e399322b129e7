"""OpenTelemetry spans and metrics for agent runs and calls, only when ``opentelemetry-api`` is installed.

Names follow the GenAI semantic conventions (``invoke_agent {gen_ai.agent.name}``,
``execute_tool {gen_ai.tool.name}``); our own facts go under ``agentos.*``. Arguments
appear only as their digest: spans are exported to places the audit log's rules do not
reach. Without the package every call here is cheap; it is not a dependency.

Each runtime owns one :class:`RunTrace`: one trace per run, with a root span, and every
step and call a child span of it, in whichever thread the call happens. Audit records
carry the trace id and the id of the span they were written in; with OTel on these are
the exported ids, without it they are generated the same way (16 random bytes for a
trace, 8 for a span), so a log reads the same either way.
"""

from __future__ import annotations

import contextvars
import importlib
import os
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Iterator, Mapping, Sequence

TRACER_NAME = "agentos_contracts.runtime"

# (trace id, span id) of the innermost span one of our traces opened in this thread or task
_current: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar("agentos_span", default=None)


class _NoSpan:
    __slots__ = ()

    def set_attribute(self, key: str, value: Any) -> None:
        return None

    def record_exception(self, exc: BaseException) -> None:
        return None

    def set_status(self, *args: Any, **kwargs: Any) -> None:
        return None


NO_SPAN = _NoSpan()


def _load(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def _load_tracer() -> Any:
    """The global tracer, or None when no TracerProvider is configured: the API's stand-in would make
    spans that go nowhere at several microseconds each, and ids that are not real (all zero)."""
    trace = _load("opentelemetry.trace")
    if trace is None or isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return None
    return trace.get_tracer(TRACER_NAME)


def _load_meter() -> Any:
    """The global meter, or None when no MeterProvider is configured (same reason as for tracers)."""
    metrics = _load("opentelemetry.metrics")
    if metrics is None or type(metrics.get_meter_provider()).__name__ in ("_ProxyMeterProvider", "NoOpMeterProvider"):
        return None
    return metrics.get_meter(TRACER_NAME)


class Telemetry:
    """A tracer and a meter, or nothing; the runtime makes one and uses it for every span and figure.

    Without arguments it takes the global providers as configured *when it is made* (so configure
    OpenTelemetry before loading the runtime); pass ``tracer=`` / ``meter=`` to choose others."""

    def __init__(self, tracer: Any = None, *, enabled: bool = True, meter: Any = None) -> None:
        self._tracer = (tracer if tracer is not None else _load_tracer()) if enabled else None
        self.metrics = Metrics((meter if meter is not None else _load_meter()) if enabled else None)

    @property
    def active(self) -> bool:
        return self._tracer is not None

    def start_trace(self, name: str, attributes: Mapping[str, Any], trace_id: str | None = None) -> RunTrace:
        """The root span of one run (not made current: calls from any thread become its children)."""
        return RunTrace(self._tracer, name, attributes, trace_id)

    @contextmanager
    def agent_span(self, agent: str, attributes: Mapping[str, Any], trace: RunTrace | None = None) -> Iterator[Any]:
        attrs = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent, **attributes}
        with self._span(f"invoke_agent {agent}", attrs, trace) as span:
            yield span

    @contextmanager
    def tool_span(self, tool: str, attributes: Mapping[str, Any], trace: RunTrace | None = None) -> Iterator[Any]:
        attrs = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": tool, **attributes}
        with self._span(f"execute_tool {tool}", attrs, trace) as span:
            yield span

    @contextmanager
    def _span(self, name: str, attributes: Mapping[str, Any], trace: RunTrace | None) -> Iterator[Any]:
        if trace is not None:
            with trace.span(name, attributes) as span:
                yield span
            return
        if self._tracer is None:
            yield NO_SPAN
            return
        with self._tracer.start_as_current_span(name, attributes=_clean(attributes)) as span:
            yield span


class RunTrace:
    """One run's trace: its id, its root span, and the span every audit record is written in."""

    def __init__(self, tracer: Any, name: str, attributes: Mapping[str, Any], trace_id: str | None) -> None:
        self._tracer = tracer
        self._root: Any = None
        self._root_ctx: Any = None
        self.trace_id = trace_id or os.urandom(16).hex()
        self.root_span_id = os.urandom(8).hex()
        if tracer is None:
            return
        trace = importlib.import_module("opentelemetry.trace")
        parent = _remote_parent(trace, trace_id) if trace_id else None  # None: the caller's current span, if any
        root = tracer.start_span(name, context=parent, attributes=_clean(attributes))
        ctx = root.get_span_context()
        if ctx.trace_id:  # a no-op tracer (API without SDK) gives invalid ids: keep our own
            self.trace_id, self.root_span_id = f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"
        self._root = root
        self._root_ctx = trace.set_span_in_context(root)

    @property
    def span_id(self) -> str:
        """The innermost span of this trace open in the calling thread, else the root."""
        cur = _current.get()
        return cur[1] if cur is not None and cur[0] == self.trace_id else self.root_span_id

    def span(self, name: str, attributes: Mapping[str, Any]) -> AbstractContextManager[Any]:
        """A child span: of the innermost open span of this trace in this thread, else of the root.

        Without a tracer only its id is made (the records written inside carry it), by a plain
        context manager: the generator one costs more than everything else on the decision path."""
        if self._tracer is None:
            return _IdOnly(self.trace_id)
        return self._traced(name, attributes)

    @contextmanager
    def _traced(self, name: str, attributes: Mapping[str, Any]) -> Iterator[Any]:
        cur = _current.get()
        parent = None if cur is not None and cur[0] == self.trace_id else self._root_ctx
        with self._tracer.start_as_current_span(name, context=parent, attributes=_clean(attributes)) as span:
            token = _current.set((self.trace_id, f"{span.get_span_context().span_id:016x}"))
            try:
                yield span
            finally:
                _current.reset(token)

    def set_attribute(self, key: str, value: Any) -> None:
        if self._root is not None:
            self._root.set_attribute(key, value)

    def end(self) -> None:
        if self._root is not None:
            root, self._root = self._root, None
            root.end()


class _IdOnly:
    """A span with no tracer: a fresh span id is the current one inside the block."""

    __slots__ = ("_trace_id", "_token")

    def __init__(self, trace_id: str) -> None:
        self._trace_id = trace_id

    def __enter__(self) -> Any:
        self._token = _current.set((self._trace_id, os.urandom(8).hex()))
        return NO_SPAN

    def __exit__(self, *exc: object) -> None:
        _current.reset(self._token)


def _remote_parent(trace: Any, trace_id: str) -> Any:
    """A context whose parent is a remote span in ``trace_id``: a caller that names the trace gets it."""
    try:
        tid = int(trace_id, 16)
    except ValueError:
        return None
    if not 0 < tid < 1 << 128:
        return None
    parent = trace.SpanContext(trace_id=tid, span_id=int.from_bytes(os.urandom(8), "big") | 1, is_remote=True,
                               trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED))
    return trace.set_span_in_context(trace.NonRecordingSpan(parent))


class Metrics:
    """Latency histograms and decision/breach counters (OTel metrics), or nothing without a meter."""

    def __init__(self, meter: Any) -> None:
        self.active = meter is not None
        if meter is None:
            return
        self._duration = meter.create_histogram("agentos.runtime.duration", unit="ms",
                                                description="latency of each timed unit (call, onset, turn, job)")
        self._decisions = meter.create_counter("agentos.runtime.decisions", unit="{decision}",
                                               description="decisions by effect")
        self._breaches = meter.create_counter("agentos.runtime.slo.breaches", unit="{breach}",
                                              description="SLO breaches by bound")
        self._breakers = meter.create_counter("agentos.runtime.breaker.transitions", unit="{transition}",
                                              description="circuit breaker state changes")

    def duration(self, ms: float, attributes: Mapping[str, Any]) -> None:
        if self.active:  # attributes: no None values (callers build them so; this runs on every call)
            self._duration.record(ms, attributes)

    def decision(self, effect: str, attributes: Mapping[str, Any]) -> None:
        if self.active:
            self._decisions.add(1, _clean({**attributes, "agentos.decision": effect}))

    def breach(self, attributes: Mapping[str, Any]) -> None:
        if self.active:
            self._breaches.add(1, _clean(attributes))

    def breaker(self, attributes: Mapping[str, Any]) -> None:
        if self.active:
            self._breakers.add(1, _clean(attributes))


def decision_attributes(*, decision: str, rules: Sequence[str], args_digest: str | None, stage: str | None,
                        reason: str) -> dict[str, Any]:
    """The ``agentos.*`` attributes of a decided call (OTel takes str, bool, numbers and their lists)."""
    out: dict[str, Any] = {"agentos.decision": decision, "agentos.rules": list(rules), "agentos.reason": reason}
    if args_digest:
        out["agentos.args.digest"] = args_digest
    if stage:
        out["agentos.stage"] = stage
    return out


def mark_failed(span: Any, error_type: str, description: str = "") -> None:
    """``error.type`` (required by the GenAI conventions when an operation fails) and an ERROR status."""
    span.set_attribute("error.type", error_type)
    trace = _load("opentelemetry.trace") if span is not NO_SPAN else None
    if trace is not None:
        span.set_status(trace.Status(trace.StatusCode.ERROR, description or error_type))


def _clean(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if v is not None}
