"""Document data → the task model: defaults, exact nanoseconds, spans."""

from __future__ import annotations

from agentos_contracts.diagnostics import Span
from agentos_contracts.model.tasks import Scheduler
from agentos_contracts.sched import load


def test_taskset_defaults_and_exact_durations() -> None:
    data = {"name": "s", "tasks": [{"name": "a", "period_ms": 0.1, "wcet_ms": 0.000001},
                                   {"name": "b", "period_ms": 40, "wcet_ms": 9.5, "deadline_ms": 50, "jitter_ms": 1.25,
                                    "blocking_ms": 2, "priority": 3, "core": 0}]}
    ts = load.taskset_from_data(data, file="f.yaml", span_of=lambda p: Span("f.yaml", 7 if p else 1, 1))
    a, b = ts.tasks
    assert (ts.scheduler, ts.cores, ts.file) == (Scheduler.RM, 1, "f.yaml")
    assert (a.period_ns, a.wcet_ns, a.deadline_ns, a.jitter_ns) == (100_000, 1, 100_000, 0)
    assert (b.deadline_ns, b.jitter_ns, b.blocking_ns, b.priority, b.core) == (50_000_000, 1_250_000, 2_000_000, 3, 0)
    assert a.path == "/tasks/0" and a.span == Span("f.yaml", 7, 1)


def test_scheduler_override() -> None:
    data = {"name": "s", "scheduler": "RM", "tasks": [{"name": "a", "period_ms": 1, "wcet_ms": 1}]}
    assert load.taskset_from_data(data, scheduler=Scheduler.EDF).scheduler is Scheduler.EDF


def test_hrt_contract_period_and_deadline_default_to_each_other() -> None:
    c = {"kind": "AgentContract", "name": "g", "class": {"latency": "HRT", "slo": {"wcet_ms": 1, "deadline_ms": 10}}}
    t = load.task_from_contract(c)
    assert t is not None and (t.period_ns, t.deadline_ns) == (10_000_000, 10_000_000)
    c["class"]["slo"] = {"wcet_ms": 1, "period_ms": 20, "jitter_ms": 0.5}  # type: ignore[index]
    t = load.task_from_contract(c)
    assert t is not None and (t.period_ns, t.deadline_ns, t.jitter_ns) == (20_000_000, 20_000_000, 500_000)
    assert load.is_hrt_contract(c)
    assert load.task_from_contract({"name": "s", "class": {"latency": "SRT"}}) is None


def test_contract_set_is_edf_on_one_core_by_default() -> None:
    ts = load.contracts_taskset([])
    assert (ts.name, ts.scheduler, ts.cores) == ("hrt-contracts", Scheduler.EDF, 1)
