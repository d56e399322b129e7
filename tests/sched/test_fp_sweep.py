"""The shared window of ``analyse_order`` against a fresh analysis per task, and the fast exact bounds.

``analyse_order`` carries one window from level to level (a higher-priority fixed point is
a lower bound of the next one); ``response_time`` without it rebuilds everything for each
task. Both must give the same response time, job, window and verdict for every task,
including blocking that drops from one level to the next (where the shared window is not
a valid start and the task falls back to its own window).
"""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.model.tasks import Scheduler, Task, utilization
from agentos_contracts.sched import bounds, fp

PERIODS = [4, 5, 6, 8, 10, 12, 15, 20, 24, 30, 40, 60, 120]


@st.composite
def task_lists(draw: st.DrawFn) -> list[Task]:
    n = draw(st.integers(1, 9))
    out = []
    for k in range(n):
        t = draw(st.sampled_from(PERIODS)) * draw(st.sampled_from([1, 1, 7, 1000]))
        c = draw(st.integers(1, max(1, t // 3)))
        d = draw(st.sampled_from([t, max(c, t // 2), 2 * t, c + (t - c) * 3 // 4]))
        j = draw(st.sampled_from([0, 0, 1, t // 5]))
        b = draw(st.sampled_from([0, 0, 0, 1, t // 4, 3 * t // 2]))
        out.append(Task(name=f"t{k}", period_ns=t, wcet_ns=c, deadline_ns=d, jitter_ns=j, blocking_ns=b,
                        priority=draw(st.integers(1, 4))))
    return out


def per_task(ordered: list[Task], stop_at_miss: bool) -> list[fp.BusyResult]:
    out = []
    for n, task in enumerate(ordered):
        res = fp.response_time(task, ordered[:n], stop_at_miss=stop_at_miss, max_jobs=300)
        out.append(res)
        if stop_at_miss and res.schedulable is False:
            break
    return out


@settings(max_examples=400, deadline=None)
@given(task_lists(), st.sampled_from([Scheduler.RM, Scheduler.DM, Scheduler.FP]))
def test_shared_window_gives_every_task_the_same_answer(tasks: list[Task], scheduler: Scheduler) -> None:
    ordered = fp.priority_order(tasks, scheduler)
    core = fp.analyse_order(ordered, max_jobs=300)
    fresh = per_task(ordered, False)
    assert [(r.response_time_ns, r.schedulable, r.job, r.window_ns) for r in core.tasks] == \
        [(f.response_ns, f.schedulable, f.job, f.window_ns if f.response_ns is not None else None) for f in fresh]


@settings(max_examples=300, deadline=None)
@given(task_lists())
def test_verdict_mode_agrees_with_fresh_windows(tasks: list[Task]) -> None:
    ordered = fp.priority_order(tasks, Scheduler.DM)
    core = fp.analyse_order(ordered, stop_at_miss=True, max_jobs=300)
    assert [r.schedulable for r in core.tasks] == [f.schedulable for f in per_task(ordered, True)]


def test_blocking_that_drops_below_the_previous_level_still_gets_the_exact_answer() -> None:
    hi = Task(name="hi", period_ns=10, wcet_ns=1, deadline_ns=10, blocking_ns=8)  # w = 9
    lo = Task(name="lo", period_ns=100, wcet_ns=1, deadline_ns=100)  # w = 2: below the window left by `hi`
    core = fp.analyse_order([hi, lo])
    assert [r.response_time_ns for r in core.tasks] == [9, 2]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 10**6), st.integers(1, 10**4)), min_size=0, max_size=40))
def test_bounds_decide_exactly(pairs: list[tuple[int, int]]) -> None:
    tasks = [Task(name=f"t{k}", period_ns=p + c, wcet_ns=c, deadline_ns=p + c) for k, (p, c) in enumerate(pairs)]
    u = sum((t.utilization for t in tasks), Fraction(0))
    assert utilization(tasks) == u
    n = len(tasks)
    assert bounds.liu_layland(tasks) is (n == 0 or (u / n + 1) ** n <= 2)
    prod = math.prod((t.utilization + 1 for t in tasks), start=Fraction(1))
    assert bounds.hyperbolic(tasks) is (prod <= 2)


def test_liu_layland_at_its_exact_limit() -> None:
    # U = 2(√2 - 1) is irrational; the rationals just below and above it must land on each side
    below = [Task(name="a", period_ns=10**12, wcet_ns=414_213_562_373, deadline_ns=10**12),
             Task(name="b", period_ns=10**12, wcet_ns=414_213_562_373, deadline_ns=10**12)]
    above = [Task(name="a", period_ns=10**12, wcet_ns=414_213_562_373, deadline_ns=10**12),
             Task(name="b", period_ns=10**12, wcet_ns=414_213_562_374, deadline_ns=10**12)]
    assert bounds.liu_layland(below) and not bounds.liu_layland(above)
