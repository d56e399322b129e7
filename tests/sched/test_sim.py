"""The simulator: the worst-case release pattern, preemption, refusals."""

from __future__ import annotations

from agentos_contracts.model.tasks import Scheduler, Task
from agentos_contracts.sched import sim


def task(name: str, t: int, c: int, d: int | None = None, j: int = 0, p: int | None = None) -> Task:
    return Task(name=name, period_ns=t, wcet_ns=c, deadline_ns=t if d is None else d, jitter_ns=j, priority=p)


def test_jitter_release_pattern_first_job_late_then_periodic() -> None:
    run = sim.simulate([task("a", 10, 1, j=4)], Scheduler.RM, horizon_ns=30)
    assert [(j.arrival_ns, j.release_ns, j.deadline_ns) for j in run.jobs] == [(-4, 0, 6), (6, 6, 16), (16, 16, 26),
                                                                               (26, 26, 36)]
    assert run.jobs[0].response_ns == 5  # measured from arrival


def test_jitter_longer_than_the_period_releases_several_jobs_at_zero() -> None:
    run = sim.simulate([task("a", 4, 1, d=12, j=9)], Scheduler.RM, horizon_ns=8)
    assert [j.release_ns for j in run.jobs] == [0, 0, 0, 3, 7]


def test_preemption_by_higher_priority() -> None:
    run = sim.simulate([task("hi", 5, 2), task("lo", 20, 6)], Scheduler.RM, horizon_ns=20)
    lo = [(s.start_ns, s.end_ns) for s in run.segments if s.task == "lo"]
    assert lo == [(2, 5), (7, 10)]
    assert run.max_response("lo") == 10 and not run.misses


def test_edf_runs_the_earliest_deadline() -> None:
    run = sim.simulate([task("long", 10, 3), task("short", 20, 2, d=4)], Scheduler.EDF, horizon_ns=10)
    assert run.segments[0].task == "short"


def test_misses_are_reported() -> None:
    run = sim.simulate([task("a", 4, 3), task("b", 4, 2)], Scheduler.RM, horizon_ns=8)
    assert {j.task for j in run.misses} == {"b"}


def test_stops_at_the_first_idle_instant() -> None:
    run = sim.simulate([task("a", 10, 2), task("b", 15, 3)], Scheduler.RM, until_idle=True)
    assert run.idle_reached and run.end_ns == 5


def test_refuses_huge_hyperperiods_with_a_message() -> None:
    tasks = [task("a", 1_000_003, 1), task("b", 999_983, 1)]
    run = sim.simulate(tasks, Scheduler.RM, max_jobs=1000)
    assert run.refused and "limit is 1000" in run.refused and not run.jobs


def test_explicit_priorities_drive_the_fp_simulation() -> None:
    run = sim.simulate([task("x", 10, 2, p=2), task("y", 10, 2, p=1)], Scheduler.FP, horizon_ns=10)
    assert run.tasks == ("y", "x") and run.segments[0].task == "y"
