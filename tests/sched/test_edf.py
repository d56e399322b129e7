"""EDF: processor demand with QPA, the testing bound, jitter and blocking."""

from __future__ import annotations

import random
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.model.tasks import Scheduler, Task, utilization
from agentos_contracts.sched import edf, generate, sim
from agentos_contracts.sched.result import Verdict


def task(name: str, t: int, c: int, d: int | None = None, j: int = 0, b: int = 0) -> Task:
    return Task(name=name, period_ns=t, wcet_ns=c, deadline_ns=t if d is None else d, jitter_ns=j, blocking_ns=b)


def test_implicit_deadlines_need_only_utilisation() -> None:
    assert edf.is_schedulable([task("a", 3, 1), task("b", 6, 4)])  # U = 1 exactly
    assert not edf.is_schedulable([task("a", 3, 1), task("b", 6, 5)])
    res = edf.analyse([task("a", 3, 1), task("b", 6, 5)])
    assert res.verdict is Verdict.UNSCHEDULABLE and "exceeds 1" in res.reason


def test_constrained_deadlines_witness_names_the_jobs() -> None:
    tasks = [task("x", 8, 2, d=3), task("y", 8, 2, d=3), task("z", 8, 2)]
    res = edf.analyse(tasks)
    assert res.verdict is Verdict.UNSCHEDULABLE
    w = res.witness
    assert w is not None and w.t_ns == 3 and w.demand_ns == 4
    assert [(j.task, j.jobs, j.work_ns) for j in w.jobs] == [("x", 1, 2), ("y", 1, 2)]
    assert sim.simulate(tasks, Scheduler.EDF, until_idle=True).misses


def test_constrained_set_that_fits() -> None:
    # demand: h(2)=1, h(4)=3, h(6)=4 (… h(t) ≤ t everywhere), U = 0.5 + 1/3 < 1
    tasks = [task("a", 4, 2, d=4), task("b", 6, 2, d=3)]
    assert edf.is_schedulable(tasks)
    assert not sim.simulate(tasks, Scheduler.EDF, until_idle=True).misses


def test_jitter_shortens_the_deadline_from_release() -> None:
    tasks = [task("a", 10, 3, d=5)]
    assert edf.is_schedulable(tasks)
    assert not edf.is_schedulable([task("a", 10, 3, d=5, j=3)])  # due 2 after its latest release
    hopeless = edf.analyse([task("a", 10, 1, d=4, j=4)])
    assert hopeless.verdict is Verdict.UNSCHEDULABLE and hopeless.tasks[0].schedulable is False


def test_blocking_counts_for_jobs_due_by_t() -> None:
    assert edf.is_schedulable([task("x", 10, 2, d=4, b=2), task("y", 20, 5)])
    res = edf.analyse([task("x", 10, 2, d=4, b=3), task("y", 20, 5)])
    assert res.verdict is Verdict.UNSCHEDULABLE
    assert res.witness is not None and res.witness.t_ns == 4 and res.witness.blocking_ns == 3


def test_testing_bound_covers_every_violation() -> None:
    rng = random.Random(5)
    for _ in range(300):
        n = rng.randint(2, 5)
        tasks = generate.make_tasks(generate.uunifast(n, rng.uniform(0.5, 0.98), rng),
                                    generate.choice_periods(n, rng, unit_ns=10), rng, deadlines="constrained")
        bound = edf.testing_bound(tasks)
        assert bound is not None
        # brute force over every absolute deadline up to twice the bound
        late = None
        for t in sorted({k * x.period_ns + x.deadline_ns for x in tasks for k in range(0, int(2 * bound // x.period_ns) + 2)}):
            if t <= 2 * bound and edf.demand(tasks, t) > t:
                late = t
                break
        assert (late is None) == edf.is_schedulable(tasks), tasks
        if late is not None:
            assert late <= bound


def test_utilisation_one_with_constrained_deadlines_uses_the_hyperperiod() -> None:
    tasks = [task("a", 2, 1, d=1), task("b", 2, 1, d=2)]
    assert utilization(tasks) == 1 and edf.is_schedulable(tasks)
    assert not edf.is_schedulable([task("a", 2, 1, d=1), task("b", 2, 1, d=1)])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 30), st.integers(1, 10), st.integers(0, 40), st.integers(0, 5)),
                min_size=1, max_size=5))
def test_qpa_agrees_with_a_scan_of_every_deadline(raw: list[tuple[int, int, int, int]]) -> None:
    tasks = [task(f"t{i}", t, min(c, t), d=max(1, d), j=j) for i, (t, c, d, j) in enumerate(raw)]
    if utilization(tasks) > 1:
        assert not edf.is_schedulable(tasks)
        return
    if any(x.effective_deadline_ns <= 0 for x in tasks):
        assert not edf.is_schedulable(tasks)
        return
    bound = edf.testing_bound(tasks)
    assert bound is not None
    points = sorted({k * x.period_ns + x.effective_deadline_ns for x in tasks
                     for k in range(0, int(bound // x.period_ns) + 2)})
    scan = all(edf.demand(tasks, t) <= t for t in points if t <= bound)
    assert scan == edf.is_schedulable(tasks)


def test_scaled_demand_is_exact() -> None:
    tasks = [task("x", 8, 2, d=3), task("y", 8, 2, d=3), task("z", 8, 2)]
    assert edf.qpa(tasks, scale=Fraction(3, 4))[0] is True
    assert edf.qpa(tasks, scale=Fraction(3, 4) + Fraction(1, 10**9))[0] is False
