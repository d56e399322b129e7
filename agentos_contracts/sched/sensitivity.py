"""Sensitivity: how far WCETs can grow (or must shrink) before the verdict flips.

The set's critical scaling factor α* (every WCET × α) is found exactly with Dinkelbach's
method over the exact tests: test at α (starting from 1/U, the most any set can take);
if it fails, the failing constraint gives the largest α at which *that* constraint holds,
which is strictly smaller; repeat until the test passes. The constraints are:

- FP: job q of task i misses unless B_i + α·((q + 1)·C_i + Σ_hp ⌈(t + J_j)/T_j⌉·C_j) ≤ t
  for some t ≤ qT_i + D_i - J_i; the largest such α is a maximum over the points
  t = kT_j - J_j and t = qT_i + D_i - J_i.
- EDF: α·h(t) + B(t) ≤ t at the witness t, so α ≤ (t - B(t)) / h(t).

Testing at a rational α = p/q stays in integers by scaling time by q and WCETs by p.
Per task, the largest integer WCET (ns) is a binary search over the exact test, which is
monotone in any one WCET (the tests are sustainable).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction

from agentos_contracts.model.tasks import Scheduler, Task, utilization
from agentos_contracts.sched import edf, fp
from agentos_contracts.sched.result import Sensitivity, Verdict

MAX_ROUNDS = 1_000
MAX_POINTS = 200_000
NUDGE = Fraction(1, 2**20)  # when a test gives up at α, retry just below it (result then a lower bound)


def scaled(tasks: Sequence[Task], alpha: Fraction) -> list[Task]:
    """The set with every WCET × α, as integers: time × denominator, WCET × numerator."""
    p, q = alpha.numerator, alpha.denominator
    return [replace(t, period_ns=t.period_ns * q, wcet_ns=t.wcet_ns * p, deadline_ns=t.deadline_ns * q,
                    jitter_ns=t.jitter_ns * q, blocking_ns=t.blocking_ns * q) for t in tasks]


def is_schedulable(tasks: Sequence[Task], scheduler: Scheduler) -> bool | None:
    """The exact verdict (None when a limit was hit)."""
    if scheduler is Scheduler.EDF:
        return edf.qpa(tasks)[0]
    v = fp.analyse(tasks, scheduler, stop_at_miss=True).verdict
    return None if v is Verdict.UNKNOWN else v is Verdict.SCHEDULABLE


def _fp_job_bound(tasks: Sequence[Task], scheduler: Scheduler, name: str, q: int) -> Fraction | None:
    """Largest α at which job q of task ``name`` (as the busy-period recurrence models it) meets its deadline."""
    order = fp.priority_order(tasks, scheduler)
    i = next(n for n, t in enumerate(order) if t.name == name)
    task, hp = order[i], order[:i]
    x = q * task.period_ns + task.deadline_ns - task.jitter_ns
    if x <= 0:
        return Fraction(0)
    if sum(max(0, (x - h.period_ns + h.jitter_ns) // h.period_ns + 1) for h in hp) > MAX_POINTS:
        return None
    points = {x}
    for h in hp:
        points.update(t for t in range(h.period_ns - h.jitter_ns, x, h.period_ns) if t > 0)
    own = (q + 1) * task.wcet_ns
    best = Fraction(-1)
    for t in points:
        work = own + sum(h.rbf(t) for h in hp)
        ratio = Fraction(t - task.blocking_ns, work)
        if ratio > best:
            best = ratio
    return best


def _edf_bound(tasks: Sequence[Task], t: Fraction | int) -> Fraction:
    h = edf.demand(tasks, t)
    return Fraction(t - edf.blocking_at(tasks, t)) / h


def scaling_factor(tasks: Sequence[Task], scheduler: Scheduler) -> tuple[Fraction | None, bool, str]:
    """(α*, exact, note): α* is None when no positive scaling makes the set schedulable."""
    u = utilization(tasks)
    alpha = 1 / u
    exact = True
    for _ in range(MAX_ROUNDS):
        if alpha <= 0:
            return None, True, "no WCET scaling helps: a deadline is not beyond jitter plus blocking"
        if scheduler is Scheduler.EDF:
            ok, t, _ = edf.qpa(tasks, scale=alpha)
            if ok is True:
                return alpha, exact, ""
            if ok is False and t is not None:
                alpha = _edf_bound(tasks, t)
                continue
        else:
            res = fp.analyse(scaled(tasks, alpha), scheduler, stop_at_miss=True)
            if res.verdict is Verdict.SCHEDULABLE:
                return alpha, exact, ""
            bad = next((r for r in res.tasks if r.schedulable is False), None)
            if bad is not None and bad.job is not None:
                bound = _fp_job_bound(tasks, scheduler, bad.name, bad.job)
                if bound is not None and bound < alpha:
                    alpha = bound
                    continue
        exact = False  # a limit was hit: step below and settle for a verified lower bound
        alpha *= 1 - NUDGE
    return None, False, f"no answer in {MAX_ROUNDS} rounds"


def max_wcet(tasks: Sequence[Task], scheduler: Scheduler, name: str) -> int | None:
    """Largest integer WCET of ``name`` (others unchanged) keeping the set schedulable, or None."""
    idx = next(n for n, t in enumerate(tasks) if t.name == name)
    task = tasks[idx]
    others = utilization(tasks) - task.utilization
    if others >= 1:
        return None
    hi = math.floor((1 - others) * task.period_ns)
    room = task.deadline_ns - task.jitter_ns - (task.blocking_ns if scheduler.is_fixed_priority else 0)
    hi = min(hi, room)
    if hi < 1:
        return None

    def ok(c: int) -> bool:
        trial = list(tasks)
        trial[idx] = replace(task, wcet_ns=c)
        return is_schedulable(trial, scheduler) is True

    if ok(hi):
        return hi
    if not ok(1):
        return None
    lo = 1  # ok(lo) holds, ok(hi) fails
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo


def analyse_sensitivity(cores: Sequence[Sequence[Task]], scheduler: Scheduler) -> Sensitivity:
    """Scaling factor (minimum over cores) and per-task maximum WCETs, each on its own core."""
    factors: list[Fraction | None] = []
    exact, notes = True, []
    per_task: list[tuple[str, int | None]] = []
    for tasks in cores:
        if not tasks:
            continue
        a, ex, note = scaling_factor(tasks, scheduler)
        factors.append(a)
        exact = exact and ex
        if note:
            notes.append(note)
        per_task.extend((t.name, max_wcet(tasks, scheduler, t.name)) for t in tasks)
    factor = None if not factors or any(f is None for f in factors) else min(f for f in factors if f is not None)
    return Sensitivity(scaling_factor=factor, exact=exact, max_wcet_ns=tuple(per_task), note="; ".join(notes))
