"""OpenTelemetry spans for agent runs and tool calls, only when ``opentelemetry-api`` is installed.

Names follow the GenAI semantic conventions (``invoke_agent {gen_ai.agent.name}``,
``execute_tool {gen_ai.tool.name}``); our own facts go under ``agentos.*``. Arguments
appear only as their digest: spans are exported to places the audit log's rules do not
reach. Without the package every call here is a cheap no-op; it is not a dependency.
"""

from __future__ import annotations

import importlib
from contextlib import contextmanager
from typing import Any, Iterator, Mapping, Sequence

TRACER_NAME = "agentos_contracts.runtime"


class _NoSpan:
    __slots__ = ()

    def set_attribute(self, key: str, value: Any) -> None:
        return None

    def record_exception(self, exc: BaseException) -> None:
        return None


NO_SPAN = _NoSpan()


def _load_tracer() -> Any:
    try:
        trace = importlib.import_module("opentelemetry.trace")
    except ImportError:
        return None
    return trace.get_tracer(TRACER_NAME)


class Telemetry:
    """A tracer or nothing; the runtime makes one and uses it for every span."""

    def __init__(self, tracer: Any = None, *, enabled: bool = True) -> None:
        self._tracer = (tracer if tracer is not None else _load_tracer()) if enabled else None

    @property
    def active(self) -> bool:
        return self._tracer is not None

    @contextmanager
    def agent_span(self, agent: str, attributes: Mapping[str, Any]) -> Iterator[Any]:
        attrs = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent, **attributes}
        with self._span(f"invoke_agent {agent}", attrs) as span:
            yield span

    @contextmanager
    def tool_span(self, tool: str, attributes: Mapping[str, Any]) -> Iterator[Any]:
        attrs = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": tool, **attributes}
        with self._span(f"execute_tool {tool}", attrs) as span:
            yield span

    @contextmanager
    def _span(self, name: str, attributes: Mapping[str, Any]) -> Iterator[Any]:
        if self._tracer is None:
            yield NO_SPAN
            return
        with self._tracer.start_as_current_span(name, attributes=_clean(attributes)) as span:
            yield span


def decision_attributes(*, decision: str, rules: Sequence[str], args_digest: str | None, stage: str | None,
                        reason: str) -> dict[str, Any]:
    """The ``agentos.*`` attributes of a decided call (OTel takes str, bool, numbers and their lists)."""
    out: dict[str, Any] = {"agentos.decision": decision, "agentos.rules": list(rules), "agentos.reason": reason}
    if args_digest:
        out["agentos.args.digest"] = args_digest
    if stage:
        out["agentos.stage"] = stage
    return out


def _clean(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if v is not None}
