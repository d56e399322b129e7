"""``sched.analyse``: one report per set with verdict, bounds, suggestions, sensitivity; deterministic."""

from __future__ import annotations

from fractions import Fraction
from io import StringIO

from agentos_contracts.model.tasks import Scheduler, Task, TaskSet
from agentos_contracts.report import gantt, schedule
from agentos_contracts.sched import TESTS, Verdict, analyse, sim


def task(name: str, t: int, c: int, d: int | None = None, j: int = 0) -> Task:
    return Task(name=name, period_ns=t, wcet_ns=c, deadline_ns=t if d is None else d, jitter_ns=j)


def test_registry_covers_every_scheduler() -> None:
    assert set(TESTS) == {s.value for s in Scheduler}


def test_liu_layland_rejects_what_the_exact_test_accepts() -> None:
    # U = 0.9 > 0.7798 (n = 3): the bound fails, exact RTA (harmonic periods) accepts
    ts = TaskSet(name="h", scheduler=Scheduler.RM, cores=1,
                 tasks=(task("a", 10, 3), task("b", 20, 6), task("c", 40, 12)))
    rep = analyse(ts)
    assert rep.verdict is Verdict.SCHEDULABLE
    bounds = {b.name: b.passed for b in rep.bounds}
    assert bounds == {"liu-layland": False, "hyperbolic": False}
    assert rep.sensitivity is not None and rep.sensitivity.scaling_factor == Fraction(10, 9)


def test_unschedulable_report_explains_and_suggests() -> None:
    ts = TaskSet(name="x", scheduler=Scheduler.RM, cores=1, tasks=(task("long", 10, 3), task("urgent", 12, 1, d=3)))
    rep = analyse(ts)
    assert rep.verdict is Verdict.UNSCHEDULABLE and rep.suggested_priorities == ("urgent", "long")
    assert rep.reason == "task `urgent` misses its deadline: R = 0.000004 ms > D = 0.000003 ms"
    assert rep.task("urgent").interference[0].task == "long"


def test_no_sensitivity_for_big_sets_unless_asked() -> None:
    tasks = tuple(task(f"t{i}", 1000, 1) for i in range(70))
    assert analyse(TaskSet(name="big", scheduler=Scheduler.EDF, cores=1, tasks=tasks)).sensitivity is None
    assert analyse(TaskSet(name="big", scheduler=Scheduler.EDF, cores=1, tasks=tasks), sensitivity=True).sensitivity


def test_reports_render_deterministically() -> None:
    ts = TaskSet(name="d", scheduler=Scheduler.EDF, cores=1, tasks=(task("x", 8, 2, d=3), task("y", 8, 2, d=3)))
    rep = analyse(ts)
    assert schedule.report_json(rep) == schedule.report_json(analyse(ts))
    out1, out2 = StringIO(), StringIO()
    run = sim.simulate(list(ts.tasks), Scheduler.EDF)
    gantt.render("d", [(0, run)], out1)
    gantt.render("d", [(0, run)], out2)
    assert out1.getvalue() == out2.getvalue() and out1.getvalue().startswith("<svg")


def test_utilisation_rounding_is_exact() -> None:
    assert schedule.rounded(Fraction(1, 3)) == 0.333333
    assert schedule.rounded(Fraction(2_000_001, 4_000_000)) == 0.5  # 0.50000025 → half-even at 6 places
    assert schedule.rounded(Fraction(347, 350)) == 0.991429
