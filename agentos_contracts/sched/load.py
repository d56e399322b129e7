"""Validated document data → the task model (``TaskSet`` documents and HRT contracts).

Callers pass data that already passed ``validate`` (schema and semantic checks), so a
conversion failure here is a bug, not a user error. This is the sched-local converter
until ``validate/build.py`` grows a task-set builder; it takes plain values and a span
lookup, so the analysis layer never imports the document loader.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agentos_contracts.diagnostics import Span
from agentos_contracts.model.tasks import Scheduler, Task, TaskSet
from agentos_contracts.model.units import ms_to_ns

SpanOf = Callable[[str], Span]

CONTRACTS_SET = "hrt-contracts"
CONTRACTS_SCHEDULER = Scheduler.EDF  # HRT contracts given together: one EDF core unless told otherwise


def _ns(value: Any, default: int = 0) -> int:
    return default if value is None else ms_to_ns(value)


def _timing(data: Mapping[str, Any]) -> tuple[int, int]:
    """(period, deadline) in ns: each defaults to the other (documents.md, HRT)."""
    period = data.get("period_ms", data.get("deadline_ms"))
    deadline = data.get("deadline_ms", data.get("period_ms"))
    return ms_to_ns(period), ms_to_ns(deadline)


def taskset_from_data(data: Mapping[str, Any], *, file: str = "", span_of: SpanOf | None = None,
                      scheduler: Scheduler | None = None) -> TaskSet:
    """A ``TaskSet`` document; ``scheduler`` overrides the document's (``--scheduler``)."""
    tasks = []
    for i, raw in enumerate(data.get("tasks") or []):
        period, deadline = _timing(raw)
        pointer = f"/tasks/{i}"
        tasks.append(Task(name=raw["name"], period_ns=period, wcet_ns=ms_to_ns(raw["wcet_ms"]), deadline_ns=deadline,
                          jitter_ns=_ns(raw.get("jitter_ms")), blocking_ns=_ns(raw.get("blocking_ms")),
                          priority=raw.get("priority"), core=raw.get("core"),
                          span=span_of(pointer) if span_of else None, path=pointer))
    sched = scheduler or Scheduler(data.get("scheduler", "RM"))
    return TaskSet(name=data["name"], scheduler=sched, cores=data.get("cores", 1), tasks=tuple(tasks), file=file,
                   span=span_of("/name") if span_of else None)


def task_from_contract(data: Mapping[str, Any], *, span_of: SpanOf | None = None) -> Task | None:
    """One task per HRT contract (None for SRT and DT contracts)."""
    cls = data.get("class") or {}
    if cls.get("latency") != "HRT":
        return None
    slo = cls.get("slo") or {}
    period, deadline = _timing(slo)
    return Task(name=data["name"], period_ns=period, wcet_ns=ms_to_ns(slo["wcet_ms"]), deadline_ns=deadline,
                jitter_ns=_ns(slo.get("jitter_ms")), blocking_ns=_ns(slo.get("blocking_ms")),
                span=span_of("/class/slo") if span_of else None, path="/class/slo")


def contracts_taskset(tasks: Sequence[Task], *, scheduler: Scheduler | None = None, cores: int = 1,
                      file: str = "", name: str = CONTRACTS_SET) -> TaskSet:
    """All HRT contracts of one run as one set: they share the platform's HRT core(s)."""
    return TaskSet(name=name, scheduler=scheduler or CONTRACTS_SCHEDULER, cores=cores, tasks=tuple(tasks), file=file)


def is_hrt_contract(data: Any) -> bool:
    if not isinstance(data, dict) or data.get("kind") != "AgentContract":
        return False
    cls = data.get("class")
    return isinstance(cls, dict) and cls.get("latency") == "HRT"
