"""Sensitivity: the critical scaling factor and per-task WCET maxima, checked against the exact tests."""

from __future__ import annotations

import random
from dataclasses import replace
from fractions import Fraction

import pytest

from agentos_contracts.model.tasks import Scheduler, Task, utilization
from agentos_contracts.sched import generate
from agentos_contracts.sched import sensitivity as sens


def task(name: str, t: int, c: int, d: int | None = None, j: int = 0, b: int = 0) -> Task:
    return Task(name=name, period_ns=t, wcet_ns=c, deadline_ns=t if d is None else d, jitter_ns=j, blocking_ns=b)


def test_hand_computed_factors() -> None:
    # RM {(C=1, T=4), (2, 6), (3, 10)}: t3 needs α·(3 + ⌈t/4⌉ + 2⌈t/6⌉) ≤ t at some t in {4, 6, 8, 10}:
    # ratios 4/6, 6/7, 8/9, 10/10, so α* = 1 (t2 allows 3/2, t1 4): the set is exactly full under RM
    tasks = [task("t1", 4, 1), task("t2", 6, 2), task("t3", 10, 3)]
    assert sens.scaling_factor(tasks, Scheduler.RM) == (Fraction(1), True, "")
    assert sens.scaling_factor(tasks, Scheduler.EDF)[0] == Fraction(60, 53)  # 1/U for implicit deadlines
    jitter = [task("a", 4, 1), task("b", 10, 2, j=9)]
    assert sens.scaling_factor(jitter, Scheduler.RM)[0] == Fraction(1, 3)  # α·3 + 9 ≤ 10


def test_unfixable_sets_have_no_factor() -> None:
    assert sens.scaling_factor([task("a", 10, 1, d=4, j=4)], Scheduler.EDF)[0] is None
    assert sens.scaling_factor([task("a", 10, 1, d=4, b=4)], Scheduler.RM)[0] is None


def test_max_wcet_is_the_last_schedulable_nanosecond() -> None:
    tasks = [task("guard", 10_000_000, 2_000_000), task("planner", 40_000_000, 9_500_000)]
    top = sens.max_wcet(tasks, Scheduler.RM, "planner")
    assert top == 32_000_000  # 40 - 4 jobs of guard × 2
    assert sens.is_schedulable([tasks[0], replace(tasks[1], wcet_ns=top)], Scheduler.RM)
    assert not sens.is_schedulable([tasks[0], replace(tasks[1], wcet_ns=top + 1)], Scheduler.RM)


@pytest.mark.parametrize("scheduler", [Scheduler.RM, Scheduler.DM, Scheduler.EDF])
def test_factors_are_exact_on_random_sets(scheduler: Scheduler) -> None:
    rng = random.Random({"RM": 1, "DM": 2, "EDF": 3}[scheduler.value])
    for _ in range(60):
        n = rng.randint(2, 4)
        tasks = generate.make_tasks(generate.uunifast(n, rng.uniform(0.3, 1.0), rng),
                                    generate.choice_periods(n, rng, unit_ns=10), rng,
                                    deadlines=rng.choice(["implicit", "constrained", "arbitrary"]),
                                    jitter=rng.choice([0.0, 0.5]))
        if rng.random() < 0.3:
            tasks[0] = replace(tasks[0], blocking_ns=rng.randint(0, 5))
        alpha, exact, _ = sens.scaling_factor(tasks, scheduler)
        if alpha is None:
            continue
        assert exact
        assert sens.is_schedulable(sens.scaled(tasks, alpha), scheduler) is True
        above = alpha * (1 + Fraction(1, 10**9))
        if above * utilization(tasks) <= 1:
            assert sens.is_schedulable(sens.scaled(tasks, above), scheduler) is False, (tasks, alpha)
        for t in tasks:
            top = sens.max_wcet(tasks, scheduler, t.name)
            if top is None:
                continue
            i = tasks.index(t)
            assert sens.is_schedulable(tasks[:i] + [replace(t, wcet_ns=top)] + tasks[i + 1:], scheduler)
            assert not sens.is_schedulable(tasks[:i] + [replace(t, wcet_ns=top + 1)] + tasks[i + 1:], scheduler)
