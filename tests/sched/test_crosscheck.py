"""Every exact test against the simulator, on thousands of random task sets: zero disagreements.

Sets use UUniFast utilisations and periods from a harmonic-ish pool (divisors of 120 time
units) so hyperperiods stay small; deadlines implicit, constrained or arbitrary; with
and without release jitter. The simulator releases jobs in the worst-case pattern of
documents.md (job 0 arrives at -J and is released at 0, later jobs at kT - J) and runs
until the core first idles, which covers every busy period the analyses reason about.
Fixed priority must agree on every task's *exact* worst-case response time, EDF on the
verdict. ``SCHED_XCHECK_SETS`` raises the count; ``SCHED_SLOW=1`` runs the `slow` tests (10x more).
"""

from __future__ import annotations

import os
import random
from fractions import Fraction

import pytest

from agentos_contracts.model.tasks import Scheduler, Task, hyperperiod, utilization
from agentos_contracts.sched import edf, fp, generate, sim
from agentos_contracts.sched.result import Verdict

SETS = int(os.environ.get("SCHED_XCHECK_SETS", "1500"))


def random_tasks(rng: random.Random, *, deadlines: str, jitter: float) -> list[Task]:
    n = rng.randint(2, 6)
    utils = generate.uunifast(n, rng.uniform(0.4, 0.999), rng)
    periods = generate.choice_periods(n, rng, "harmonic-ish", unit_ns=10)
    return generate.make_tasks(utils, periods, rng, deadlines=deadlines, jitter=jitter)


def cases(seed: int, count: int):  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    made = 0
    while made < count:
        deadlines = ("implicit", "constrained", "arbitrary")[made % 3]
        jitter = (0.0, 0.0, 0.5, 1.0)[made % 4]
        tasks = random_tasks(rng, deadlines=deadlines, jitter=jitter)
        if utilization(tasks) >= 1:
            continue  # U = 1 sets have their own test below (their busy period may never end)
        made += 1
        yield tasks


def check_fp(tasks: list[Task], scheduler: Scheduler) -> list[str]:
    res = fp.analyse(tasks, scheduler)
    run = sim.simulate(tasks, scheduler, until_idle=True)
    assert not run.refused, run.refused
    problems = [f"{t.name}: analysis R={t.response_time_ns} sim R={run.max_response(t.name)}"
                for t in res.tasks if t.response_time_ns != run.max_response(t.name)]
    if (res.verdict is Verdict.SCHEDULABLE) != (not run.misses):
        problems.append(f"verdict {res.verdict.value} but {len(run.misses)} simulated misses")
    if fp.analyse(tasks, scheduler, stop_at_miss=True).verdict is not res.verdict:
        problems.append("verdict-only mode disagrees with the full analysis")
    return problems


def check_edf(tasks: list[Task]) -> list[str]:
    res = edf.analyse(tasks)
    run = sim.simulate(tasks, Scheduler.EDF, until_idle=True)
    assert not run.refused, run.refused
    if (res.verdict is Verdict.SCHEDULABLE) != (not run.misses):
        return [f"EDF verdict {res.verdict.value} but {len(run.misses)} simulated misses"]
    if res.witness is not None:  # the witness is real: more work due by t than t
        w = res.witness
        if not w.demand_ns + w.blocking_ns > w.t_ns:
            return ["witness does not exceed its interval"]
    return []


@pytest.mark.parametrize("scheduler", [Scheduler.RM, Scheduler.DM])
def test_fixed_priority_response_times_equal_the_simulated_worst_case(scheduler: Scheduler) -> None:
    bad = []
    for tasks in cases(11, SETS):
        problems = check_fp(tasks, scheduler)
        if problems:
            bad.append((tasks, problems))
    assert not bad, bad[:3]


def test_edf_verdicts_equal_the_simulation() -> None:
    bad = []
    seen = {True: 0, False: 0}
    for tasks in cases(12, SETS):
        problems = check_edf(tasks)
        seen[edf.is_schedulable(tasks)] += 1
        if problems:
            bad.append((tasks, problems))
    assert not bad, bad[:3]
    assert min(seen.values()) > SETS // 10  # both outcomes are well represented


def test_explicit_priorities_from_audsley_are_confirmed_by_simulation() -> None:
    rng = random.Random(13)
    checked = 0
    for tasks in cases(13, SETS // 3):
        if fp.analyse(tasks, Scheduler.DM).verdict is Verdict.SCHEDULABLE:
            continue
        order = fp.audsley(tasks)
        if order is None:
            continue
        ranked = [Task(name=t.name, period_ns=t.period_ns, wcet_ns=t.wcet_ns, deadline_ns=t.deadline_ns,
                       jitter_ns=t.jitter_ns, priority=order.index(t) + 1) for t in tasks]
        rng.shuffle(ranked)
        run = sim.simulate(ranked, Scheduler.FP, until_idle=True)
        assert not run.misses, (tasks, [t.name for t in order])
        assert fp.analyse(ranked, Scheduler.FP).verdict is Verdict.SCHEDULABLE
        checked += 1
    assert checked > 5


def test_full_utilisation_sets_agree_over_several_hyperperiods() -> None:
    """U = 1 exactly: with jitter the busy period never ends, and the analysis relies on
    the schedule repeating every hyperperiod; the simulator checks that over 4H."""
    rng = random.Random(14)
    made = 0
    while made < SETS // 5:
        tasks = random_tasks(rng, deadlines=("implicit", "constrained", "arbitrary")[made % 3],
                             jitter=(0.0, 0.5, 1.0)[made % 3])
        last = tasks[-1]
        c = (1 - utilization(tasks[:-1])) * last.period_ns
        if c.denominator != 1 or c <= 0:
            continue
        tasks[-1] = Task(name=last.name, period_ns=last.period_ns, wcet_ns=int(c),
                         deadline_ns=max(last.deadline_ns, int(c)), jitter_ns=0)
        assert utilization(tasks) == 1
        made += 1
        for scheduler in (Scheduler.RM, Scheduler.DM):
            res = fp.analyse(tasks, scheduler)
            h = hyperperiod(tasks)
            longest = max(r.response_time_ns or 0 for r in res.tasks)
            horizon = 4 * h + 2 * longest + max(t.jitter_ns + t.deadline_ns for t in tasks)
            run = sim.simulate(tasks, scheduler, horizon_ns=horizon)
            for r in res.tasks:
                seen = [j.response_ns for j in run.jobs if j.task == r.name and j.release_ns <= 3 * h]
                assert r.response_time_ns == max(s for s in seen if s is not None), (tasks, r)
        res = edf.analyse(tasks)
        run = sim.simulate(tasks, Scheduler.EDF, horizon_ns=4 * hyperperiod(tasks) + 200)
        late = [j for j in run.jobs if j.release_ns <= 3 * hyperperiod(tasks) and j.missed]
        assert (res.verdict is Verdict.SCHEDULABLE) == (not late), tasks


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("SCHED_SLOW"), reason="set SCHED_SLOW=1 for 10x more random sets")
@pytest.mark.parametrize("seed", [21, 22, 23])
def test_many_more_random_sets(seed: int) -> None:
    for tasks in cases(seed, SETS * 10):
        for scheduler in (Scheduler.RM, Scheduler.DM):
            assert not check_fp(tasks, scheduler), tasks
        assert not check_edf(tasks), tasks


def test_utilisation_is_exact() -> None:
    tasks = [Task(name="a", period_ns=3, wcet_ns=1, deadline_ns=3), Task(name="b", period_ns=6, wcet_ns=4, deadline_ns=6)]
    assert utilization(tasks) == Fraction(1)
