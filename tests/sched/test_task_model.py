"""The task model: exact arithmetic, the worst-case release pattern, refusing bad values."""

from __future__ import annotations

from fractions import Fraction

import pytest

from agentos_contracts.model.tasks import Scheduler, Task, TaskSet, hyperperiod, utilization


def test_demand_and_request_bound_functions_with_jitter() -> None:
    t = Task(name="a", period_ns=10, wcet_ns=2, deadline_ns=8, jitter_ns=3)
    assert [t.release_ns(k) for k in range(3)] == [0, 7, 17]
    assert [t.rbf(x) for x in (0, 1, 7, 8, 17, 18)] == [0, 2, 2, 4, 4, 6]  # ⌈(t + 3)/10⌉·2
    assert [t.dbf(x) for x in (4, 5, 14, 15)] == [0, 2, 2, 4]  # due at kT + D - J = 5, 15, ...
    assert t.utilization == Fraction(1, 5) and t.effective_deadline_ns == 5


def test_taskset_aggregates() -> None:
    tasks = (Task(name="a", period_ns=6, wcet_ns=1, deadline_ns=6), Task(name="b", period_ns=4, wcet_ns=1, deadline_ns=4))
    ts = TaskSet(name="s", scheduler=Scheduler.EDF, cores=1, tasks=tasks)
    assert ts.utilization == utilization(tasks) == Fraction(5, 12) and ts.hyperperiod_ns == hyperperiod(tasks) == 12
    assert ts.task("b").period_ns == 4
    assert Scheduler.RM.is_fixed_priority and not Scheduler.EDF.is_fixed_priority


@pytest.mark.parametrize("field,value", [("period_ns", 0), ("wcet_ns", 0), ("deadline_ns", -1), ("jitter_ns", -1),
                                         ("wcet_ns", 1.5), ("period_ns", True)])
def test_bad_values_are_bugs_not_tasks(field: str, value: object) -> None:
    kw: dict[str, object] = {"name": "a", "period_ns": 10, "wcet_ns": 1, "deadline_ns": 10, field: value}
    with pytest.raises(ValueError):
        Task(**kw)  # type: ignore[arg-type]


def test_spans_do_not_change_equality() -> None:
    from agentos_contracts.diagnostics import Span

    a = Task(name="a", period_ns=10, wcet_ns=1, deadline_ns=10, span=Span("x", 1, 1))
    b = Task(name="a", period_ns=10, wcet_ns=1, deadline_ns=10, span=Span("y", 2, 2))
    assert a == b and hash(a) == hash(b)
