"""Fixed-priority response-time analysis: textbook examples with hand-derived answers."""

from __future__ import annotations

from agentos_contracts.model.tasks import Scheduler, Task
from agentos_contracts.sched import fp, sim
from agentos_contracts.sched.result import Verdict


def task(name: str, t: int, c: int, d: int | None = None, j: int = 0, b: int = 0, p: int | None = None) -> Task:
    return Task(name=name, period_ns=t, wcet_ns=c, deadline_ns=t if d is None else d, jitter_ns=j, blocking_ns=b,
                priority=p)


def rt(result, name: str) -> int | None:  # type: ignore[no-untyped-def]
    return next(r.response_time_ns for r in result.tasks if r.name == name)


def test_classic_response_times() -> None:
    # Buttazzo's example: R = 1, 3, 10 (τ3: 4 + 1·⌈10/4⌉... converges at 10)
    tasks = [task("t1", 4, 1), task("t2", 6, 2), task("t3", 12, 3)]
    res = fp.analyse(tasks, Scheduler.RM)
    assert [rt(res, n) for n in ("t1", "t2", "t3")] == [1, 3, 10]
    assert res.verdict is Verdict.SCHEDULABLE


def test_lehoczky_arbitrary_deadline_needs_later_jobs() -> None:
    """T1 = 70, C1 = 26; T2 = 100, C2 = 62, D2 = 120: the first job takes 114, job 4 takes 118."""
    tasks = [task("fast", 70, 26), task("slow", 100, 62, d=120)]
    res = fp.analyse(tasks, Scheduler.RM)
    slow = next(r for r in res.tasks if r.name == "slow")
    assert slow.response_time_ns == 118
    assert slow.job == 4 and slow.window_ns == 518  # w(4) = 518, released at 400
    first = fp.response_time(tasks[1], tasks[:1], max_jobs=1)  # only job 0: the classic mistake
    assert first.schedulable is None  # ... is not allowed to decide
    run = sim.simulate(tasks, Scheduler.RM, until_idle=True)
    assert [j.response_ns for j in run.jobs if j.task == "slow"] == [114, 102, 116, 104, 118, 106, 94]
    assert run.end_ns == 694  # the level-2 busy period
    assert res.verdict is Verdict.SCHEDULABLE


def test_jitter_counts_against_the_deadline() -> None:
    """{(C=1, T=4), (C=2, T=10, J=9)}: w = 3, R = w + J = 12 > D = 10."""
    tasks = [task("a", 4, 1), task("b", 10, 2, j=9)]
    res = fp.analyse(tasks, Scheduler.RM)
    b = next(r for r in res.tasks if r.name == "b")
    assert (b.response_time_ns, b.window_ns, b.schedulable) == (12, 3, False)
    assert res.verdict is Verdict.UNSCHEDULABLE
    assert [(i.task, i.jobs, i.work_ns) for i in b.interference] == [("a", 1, 1)]
    assert sim.simulate(tasks, Scheduler.RM, until_idle=True).max_response("b") == 12


def test_jitter_of_higher_priority_tasks_adds_interference() -> None:
    # hp task with J = 3 releases twice in a window of 4: ⌈(w + 3)/5⌉ = 2
    tasks = [task("hp", 5, 1, j=3), task("lp", 20, 2)]
    res = fp.analyse(tasks, Scheduler.RM)
    assert rt(res, "lp") == 4
    assert rt(res, "hp") == 4  # measured from arrival: w = 1, R = 1 + 3
    assert sim.simulate(tasks, Scheduler.RM, until_idle=True).max_response("lp") == 4


def test_blocking_is_added_to_the_window() -> None:
    tasks = [task("hi", 10, 2, b=3), task("lo", 20, 5)]
    res = fp.analyse(tasks, Scheduler.RM)
    assert rt(res, "hi") == 5 and rt(res, "lo") == 7


def test_rm_fails_where_deadline_monotonic_succeeds() -> None:
    tasks = [task("long", 10, 3), task("urgent", 12, 1, d=3)]
    rm = fp.analyse(tasks, Scheduler.RM)
    assert rm.verdict is Verdict.UNSCHEDULABLE and rt(rm, "urgent") == 4
    dm = fp.analyse(tasks, Scheduler.DM)
    assert dm.verdict is Verdict.SCHEDULABLE and rt(dm, "urgent") == 1 and rt(dm, "long") == 4
    assert [t.name for t in fp.audsley(tasks) or []] == ["urgent", "long"]


def test_audsley_succeeds_where_deadline_monotonic_fails() -> None:
    """With D > T deadline-monotonic order is no longer optimal; Audsley's assignment is."""
    tasks = [task("a", 8, 2, d=7), task("b", 4, 2, d=6), task("c", 15, 2, d=7)]
    assert fp.analyse(tasks, Scheduler.DM).verdict is Verdict.UNSCHEDULABLE
    order = fp.audsley(tasks)
    assert order is not None and [t.name for t in order] == ["a", "c", "b"]
    assert fp.analyse_order(order).verdict is Verdict.SCHEDULABLE
    ranked = [task(t.name, t.period_ns, t.wcet_ns, t.deadline_ns, p=order.index(t) + 1) for t in tasks]
    assert not sim.simulate(ranked, Scheduler.FP, until_idle=True).misses


def test_audsley_reports_none_when_no_order_works() -> None:
    tasks = [task("a", 4, 2, d=2), task("b", 4, 2, d=2)]
    assert fp.audsley(tasks) is None


def test_explicit_priorities_and_ties_in_document_order() -> None:
    tasks = [task("x", 10, 2, p=2), task("y", 5, 1, p=1), task("z", 20, 3, p=2)]
    order = [t.name for t in fp.priority_order(tasks, Scheduler.FP)]
    assert order == ["y", "x", "z"]  # x and z share 2: x comes first in the document
    rm = [t.name for t in fp.priority_order([task("a", 10, 1), task("b", 10, 1)], Scheduler.RM)]
    assert rm == ["a", "b"]


def test_overload_has_no_bounded_response_time() -> None:
    tasks = [task("a", 2, 1), task("b", 3, 2)]
    res = fp.analyse(tasks, Scheduler.RM)
    b = next(r for r in res.tasks if r.name == "b")
    assert b.response_time_ns is None and b.schedulable is False
    assert "utilisation exceeds 1" in b.note


def test_response_time_beyond_the_deadline_is_exact() -> None:
    # constrained deadline missed: R is still reported exactly (busy period walked to its end)
    tasks = [task("a", 5, 3), task("b", 10, 3, d=5)]
    res = fp.analyse(tasks, Scheduler.RM)
    run = sim.simulate(tasks, Scheduler.RM, until_idle=True)
    assert rt(res, "b") == run.max_response("b") == 9


def test_busy_period_limit_gives_unknown_not_a_guess() -> None:
    tasks = [task("fast", 70, 26), task("slow", 100, 62, d=120)]
    res = fp.response_time(tasks[1], tasks[:1], max_jobs=3)
    assert res.schedulable is None and res.response_ns is None
    assert fp.analyse_order(tasks[:1] + tasks[1:], max_jobs=3).verdict is Verdict.UNKNOWN


def test_verdict_mode_agrees_and_may_skip_response_times() -> None:
    tasks = [task("t1", 4, 1), task("t2", 6, 2), task("t3", 12, 3)]
    quick = fp.analyse(tasks, Scheduler.RM, stop_at_miss=True)
    assert quick.verdict is Verdict.SCHEDULABLE
    assert fp.is_schedulable(tasks, Scheduler.RM)
    assert not fp.is_schedulable([task("a", 4, 1), task("b", 10, 2, j=9)], Scheduler.RM)


def test_level_lets_one_set_of_higher_priority_tasks_serve_many_queries() -> None:
    hp = [task("t1", 4, 1), task("t2", 6, 2)]
    lvl = fp.Level.of(hp)
    assert fp.response_time(task("t3", 12, 3), lvl).response_ns == 10
    assert fp.response_time(task("t4", 24, 1), lvl).response_ns == 4
