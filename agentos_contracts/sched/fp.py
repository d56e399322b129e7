"""Uniprocessor fixed-priority scheduling: exact response-time analysis and Audsley's OPA.

The analysis is Tindell's level-i busy-period analysis with release jitter and blocking,
valid for arbitrary deadlines: job q of task i (arriving at qT - J, job 0 released at 0)
completes at the least fixed point of

    w(q) = B_i + (q + 1)·C_i + Σ_{j ∈ hp(i)} ⌈(w(q) + J_j) / T_j⌉·C_j

and its response time from arrival is R(q) = w(q) - qT_i + J_i. Jobs are examined until
the busy period ends (w(q) ≤ release of job q + 1); checking only the first job
under-estimates when D > T (Lehoczky's example: 114 instead of 118). Measuring from
arrival is what makes jitter count against the deadline (R = w + J).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from agentos_contracts.model.tasks import Scheduler, Task
from agentos_contracts.sched.result import CoreResult, Interference, TaskResponse, Verdict

MAX_JOBS = 20_000  # jobs of one task enumerated in a busy period before giving up (verdict unknown)


@dataclass(frozen=True, slots=True)
class BusyResult:
    """Outcome of one task's busy-period analysis (internal shape of ``response_time``)."""

    response_ns: int | None  # None: unbounded, or too long to enumerate
    schedulable: bool | None  # None: undecided within MAX_JOBS
    job: int = 0  # the worst job seen
    window_ns: int = 0  # its w(q)
    note: str = ""


def priority_order(tasks: Sequence[Task], scheduler: Scheduler) -> list[Task]:
    """Highest priority first; ties keep document order (earlier is higher)."""
    index = {id(t): n for n, t in enumerate(tasks)}
    if scheduler is Scheduler.RM:
        return sorted(tasks, key=lambda t: (t.period_ns, index[id(t)]))
    if scheduler is Scheduler.DM:
        return sorted(tasks, key=lambda t: (t.deadline_ns, index[id(t)]))
    if scheduler is Scheduler.FP:
        missing = [t.name for t in tasks if t.priority is None]
        if missing:
            raise ValueError(f"scheduler FP needs a priority on every task; {missing[0]} has none")
        return sorted(tasks, key=lambda t: (t.priority, index[id(t)]))
    raise ValueError(f"{scheduler} is not a fixed-priority scheduler")


def response_time(task: Task, hp: Sequence[Task], *, stop_at_miss: bool = False,
                  max_jobs: int = MAX_JOBS) -> BusyResult:
    """Exact worst-case response time of ``task`` below the higher-priority tasks ``hp``.

    With ``stop_at_miss`` the first deadline miss ends the search (a verdict, not the exact R).
    """
    c, t_i, d, j_i, b = task.wcet_ns, task.period_ns, task.deadline_ns, task.jitter_ns, task.blocking_ns
    u_hp = sum((h.utilization for h in hp), Fraction(0))
    u_hep = u_hp + task.utilization
    if u_hep > 1:
        return BusyResult(None, False, note="higher- and equal-priority utilisation exceeds 1: the busy period never ends")
    hp_t = [h.period_ns for h in hp]
    hp_c = [h.wcet_ns for h in hp]
    hp_j = [h.jitter_ns for h in hp]
    params = list(zip(hp_t, hp_c, hp_j))
    sum_c = sum(hp_c)
    ju = sum((Fraction(h.jitter_ns) * h.utilization for h in hp if h.jitter_ns), Fraction(0))
    # with U = 1 and jitter or blocking the busy period never ends, but from time 0 on the
    # releases repeat every hyperperiod and so do the response times: jobs released in
    # (0, H] cover every case (see docs/sched.md)
    periodic_limit: int | None = None
    if u_hep == 1 and (b or j_i or any(hp_j)):
        periodic_limit = math.lcm(t_i, *hp_t)
    worst_r: int | None = None
    worst_q, worst_w = 0, 0
    w = 0
    q = 0
    while True:
        if q >= max_jobs:
            missed = worst_r is not None and worst_r > d
            return BusyResult(None, False if missed else None, worst_q, worst_w,
                              note=f"busy period longer than {max_jobs} jobs of `{task.name}`; not enumerated")
        base = b + (q + 1) * c
        # start from lower bounds of the least fixed point (any w ≤ w* converges to w*)
        lb = (base + ju) / (1 - u_hp)
        w = max(w + c, base + sum_c, -(-lb.numerator // lb.denominator))
        while True:
            nxt = base
            for p, e, jj in params:
                nxt += -(-(w + jj) // p) * e
            if nxt == w:
                break
            w = nxt
        r = w - q * t_i + j_i
        if worst_r is None or r > worst_r:
            worst_r, worst_q, worst_w = r, q, w
        if stop_at_miss and r > d:
            return BusyResult(r, False, q, w, note="stopped at the first deadline miss")
        q += 1
        nxt_release = max(0, q * t_i - j_i)
        if w <= nxt_release:
            break
        if periodic_limit is not None and nxt_release > periodic_limit:
            break
    assert worst_r is not None
    return BusyResult(worst_r, worst_r <= d, worst_q, worst_w)


def explain(task: Task, hp: Sequence[Task], result: BusyResult, core: int) -> TaskResponse:
    """The task's outcome with the work inside its worst job's window, per higher-priority task."""
    interference: tuple[Interference, ...] = ()
    own = 0
    if result.response_ns is not None:
        w = result.window_ns
        interference = tuple(Interference(task=h.name, jobs=h.rbf(w) // h.wcet_ns, work_ns=h.rbf(w)) for h in hp)
        own = (result.job + 1) * task.wcet_ns
    return TaskResponse(name=task.name, core=core, deadline_ns=task.deadline_ns,
                        response_time_ns=result.response_ns, schedulable=result.schedulable,
                        job=result.job if result.response_ns is not None else None,
                        window_ns=result.window_ns if result.response_ns is not None else None,
                        blocking_ns=task.blocking_ns, own_ns=own, interference=interference, note=result.note)


def analyse_order(ordered: Sequence[Task], core: int = 0, *, stop_at_miss: bool = False,
                  max_jobs: int = MAX_JOBS) -> CoreResult:
    """Exact RTA of tasks given highest priority first."""
    out: list[TaskResponse] = []
    for n, task in enumerate(ordered):
        hp = ordered[:n]
        res = response_time(task, hp, stop_at_miss=stop_at_miss, max_jobs=max_jobs)
        out.append(explain(task, hp, res, core))
        if stop_at_miss and res.schedulable is False:
            break
    verdict = combine(r.schedulable for r in out)
    reason = ""
    if verdict is Verdict.UNSCHEDULABLE:
        bad = next(r for r in out if r.schedulable is False)
        reason = f"task `{bad.name}` misses its deadline"
    elif verdict is Verdict.UNKNOWN:
        bad = next(r for r in out if r.schedulable is None)
        reason = bad.note
    return CoreResult(core=core, verdict=verdict, tasks=tuple(out), reason=reason)


def combine(flags: object) -> Verdict:
    """All true → schedulable; any false → unschedulable; otherwise unknown."""
    seen = list(flags)  # type: ignore[call-overload]
    if any(f is False for f in seen):
        return Verdict.UNSCHEDULABLE
    if all(f is True for f in seen):
        return Verdict.SCHEDULABLE
    return Verdict.UNKNOWN


def analyse(tasks: Sequence[Task], scheduler: Scheduler, core: int = 0, *,
            stop_at_miss: bool = False) -> CoreResult:
    """The exact test for one core under RM, DM or explicit priorities."""
    return analyse_order(priority_order(tasks, scheduler), core, stop_at_miss=stop_at_miss)


def is_schedulable(tasks: Sequence[Task], scheduler: Scheduler) -> bool:
    """Exact verdict only (stops at the first miss); unknown counts as not schedulable."""
    return analyse(tasks, scheduler, stop_at_miss=True).verdict is Verdict.SCHEDULABLE


def audsley(tasks: Sequence[Task]) -> list[Task] | None:
    """Audsley's optimal priority assignment over the exact RTA (highest first), or None.

    RTA with jitter and blocking is OPA-compatible (a task's response time depends on the
    set of higher-priority tasks, not their order), so None means no fixed-priority order
    makes the set schedulable. At each level the candidate with the longest deadline is
    tried first, so the answer stays close to deadline-monotonic order.
    """
    index = {id(t): n for n, t in enumerate(tasks)}
    left = sorted(tasks, key=lambda t: (-t.deadline_ns, -t.period_ns, -index[id(t)]))
    lowest_first: list[Task] = []
    while left:
        for cand in left:
            others = [t for t in left if t is not cand]
            if response_time(cand, others, stop_at_miss=True).schedulable is True:
                lowest_first.append(cand)
                left = others
                break
        else:
            return None
    return lowest_first[::-1]
