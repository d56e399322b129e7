"""Partitioning: heuristics, the ILP with exact re-checks and cuts, solver statuses, the 200 × 16 goal."""

from __future__ import annotations

import random
import time

import pytest

from agentos_contracts.model.tasks import Scheduler, Task, TaskSet
from agentos_contracts.sched import analyse, binpack, core_test, edf, fp, generate, is_schedulable
from agentos_contracts.sched.partition import partition, solver_names
from agentos_contracts.sched.result import Verdict


def task(name: str, t: int, c: int, d: int | None = None, core: int | None = None) -> Task:
    return Task(name=name, period_ns=t, wcet_ns=c, deadline_ns=t if d is None else d, core=core)


def run(ts: TaskSet, **kw):  # type: ignore[no-untyped-def]
    return partition(ts, core_test(ts.scheduler, verdict_only=True), verdict=lambda m: is_schedulable(m, ts.scheduler), **kw)


def verified(ts: TaskSet, assignment: tuple[int, ...]) -> bool:
    """Independent re-check of an answer with the exact test, core by core."""
    for c in range(ts.cores):
        members = [t for t, a in zip(ts.tasks, assignment) if a == c]
        if members and not is_schedulable(members, ts.scheduler):
            return False
    return all(t.core is None or t.core == a for t, a in zip(ts.tasks, assignment))


def test_both_solvers_are_available() -> None:
    assert solver_names() == ["highs", "cbc"]


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_ilp_finds_what_both_heuristics_miss(solver: str) -> None:
    items = [12, 32, 39, 10, 22, 29, 54]  # sums to 198: 2 cores, first- and worst-fit both fail
    ts = TaskSet(name="tight", scheduler=Scheduler.EDF, cores=2,
                 tasks=tuple(task(f"t{i}", 100, c) for i, c in enumerate(items)))
    fits = edf.is_schedulable
    assert binpack.pack(ts.tasks, 2, fits, "first-fit")[0] is None
    assert binpack.pack(ts.tasks, 2, fits, "worst-fit")[0] is None
    res = run(ts, solver=solver)
    assert res.verdict is Verdict.SCHEDULABLE and res.method.startswith("ilp")
    assert res.assignment is not None and verified(ts, res.assignment)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_infeasible_ilp_proves_no_partition(solver: str) -> None:
    ts = TaskSet(name="three-halves", scheduler=Scheduler.EDF, cores=2,
                 tasks=tuple(task(f"t{i}", 10, 6) for i in range(3)))
    res = run(ts, solver=solver)
    assert res.verdict is Verdict.UNSCHEDULABLE and res.assignment is None and "infeasible" in res.reason


def test_pinned_tasks_stay_on_their_core() -> None:
    ts = TaskSet(name="pinned", scheduler=Scheduler.RM, cores=3,
                 tasks=(task("a", 10, 5, core=2), task("b", 10, 5, core=2), task("c", 10, 9), task("d", 10, 2)))
    res = run(ts)
    assert res.verdict is Verdict.SCHEDULABLE and res.assignment is not None
    assert res.assignment[0] == res.assignment[1] == 2 and verified(ts, res.assignment)


def test_rm_cores_are_rechecked_and_cut_until_exact() -> None:
    # utilisation fits 2 cores, but RM on non-harmonic periods needs the exact test per core
    tasks = (task("a", 10, 5), task("b", 14, 7), task("c", 10, 5), task("d", 14, 7))
    ts = TaskSet(name="rm", scheduler=Scheduler.RM, cores=2, tasks=tasks)
    assert not fp.is_schedulable([tasks[0], tasks[1]], Scheduler.RM)  # U = 1 but RM misses
    res = run(ts, heuristics=False)
    assert res.verdict is Verdict.SCHEDULABLE and res.assignment is not None and verified(ts, res.assignment)
    assert res.assignment[0] == res.assignment[2]  # the only RM-feasible pairing: equal periods together


def test_edf_demand_cuts_for_constrained_deadlines() -> None:
    tasks = (task("x", 8, 2, d=3), task("y", 8, 2, d=3), task("z", 8, 2, d=3), task("w", 8, 1))
    ts = TaskSet(name="edf-cuts", scheduler=Scheduler.EDF, cores=2, tasks=tasks)
    res = run(ts, heuristics=False)
    assert res.verdict is Verdict.UNSCHEDULABLE  # three jobs due by 3 need two cores' worth... for 2 of them
    ts3 = TaskSet(name="edf-cuts3", scheduler=Scheduler.EDF, cores=3, tasks=tasks)
    res3 = run(ts3, heuristics=False)
    assert res3.verdict is Verdict.SCHEDULABLE and res3.assignment is not None and verified(ts3, res3.assignment)


def test_time_limit_gives_unknown_never_a_guess() -> None:
    rng = random.Random(8)
    ts = generate.random_taskset(200, 16 * 0.9875, rng, scheduler=Scheduler.RM, cores=16)
    res = run(ts, heuristics=False, time_limit_s=0.3)
    assert res.verdict is Verdict.UNKNOWN and res.assignment is None and res.reason


def test_balance_objective_reports_optimality_from_the_solver() -> None:
    ts = TaskSet(name="bal", scheduler=Scheduler.EDF, cores=2,
                 tasks=tuple(task(f"t{i}", 100, c) for i, c in enumerate([30, 30, 20, 20])))
    res = run(ts, objective="balance")
    assert res.verdict is Verdict.SCHEDULABLE and res.optimal is True and res.assignment is not None
    loads = [sum(t.wcet_ns for t, a in zip(ts.tasks, res.assignment) if a == c) for c in range(2)]
    assert loads == [50, 50]


@pytest.mark.parametrize("scheduler,load,heuristics", [(Scheduler.EDF, 0.9875, False), (Scheduler.RM, 0.95, True)])
def test_200_tasks_on_16_cores_verified_within_10_seconds(scheduler: Scheduler, load: float, heuristics: bool) -> None:
    rng = random.Random(3)
    ts = generate.random_taskset(200, 16 * load, rng, scheduler=scheduler, cores=16)
    start = time.monotonic()
    res = run(ts, solver="highs", heuristics=heuristics, time_limit_s=10)
    took = time.monotonic() - start
    assert res.verdict is Verdict.SCHEDULABLE and res.assignment is not None, res.reason
    assert verified(ts, res.assignment)
    assert took <= 10


def test_analyse_reports_cores_and_per_core_response_times() -> None:
    ts = TaskSet(name="two", scheduler=Scheduler.RM, cores=2,
                 tasks=(task("a", 10, 6), task("b", 10, 6), task("c", 20, 4)))
    rep = analyse(ts)
    assert rep.verdict is Verdict.SCHEDULABLE
    cores = {t.name: t.core for t in rep.tasks}
    assert cores["a"] != cores["b"]
    assert all(t.response_time_ns is not None and t.response_time_ns <= t.deadline_ns for t in rep.tasks)
    assert edf.is_schedulable([task("a", 10, 6)])


def test_hopeless_task_is_rejected_without_looping() -> None:
    ts = TaskSet(name="hopeless", scheduler=Scheduler.EDF, cores=2,
                 tasks=(Task(name="a", period_ns=10, wcet_ns=1, deadline_ns=4, jitter_ns=4), task("b", 10, 1)))
    res = run(ts, heuristics=False)
    assert res.verdict is Verdict.UNSCHEDULABLE and res.rounds <= 2


@pytest.mark.parametrize("scheduler", [Scheduler.RM, Scheduler.EDF])
def test_ilp_verdicts_match_brute_force(scheduler: Scheduler) -> None:
    """On small instances every assignment can be tried: the ILP (without heuristics) must find
    one exactly when one exists."""
    import itertools

    rng = random.Random({"RM": 31, "EDF": 32}[scheduler.value])
    outcomes = {True: 0, False: 0}
    for _ in range(25):
        n, m = rng.randint(3, 6), rng.choice([2, 3])
        tasks = generate.make_tasks(generate.uunifast_discard(n, rng.uniform(0.6, 1.0) * m, rng),
                                    generate.choice_periods(n, rng, unit_ns=10), rng,
                                    deadlines=rng.choice(["implicit", "constrained", "constrained"]))
        ts = TaskSet(name="small", scheduler=scheduler, cores=m, tasks=tuple(tasks))
        exists = any(verified(ts, a) for a in itertools.product(range(m), repeat=n))
        res = run(ts, heuristics=False, time_limit_s=20)
        assert res.verdict is not Verdict.UNKNOWN, res.reason
        assert (res.verdict is Verdict.SCHEDULABLE) == exists, (tasks, m, res)
        if res.assignment is not None:
            assert verified(ts, res.assignment)
        outcomes[exists] += 1
    assert min(outcomes.values()) >= 3
