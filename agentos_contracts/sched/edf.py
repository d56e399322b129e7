"""Uniprocessor EDF: the processor-demand criterion, checked with QPA (Zhang & Burns 2009).

With release jitter a job arriving at a is released by a + J and due at a + D, so in the
worst case (job 0 released at 0 having arrived at -J, later jobs at kT - J) task j's jobs
due by t bring the demand dbf_j(t) = (⌊(t - (D_j - J_j))/T_j⌋ + 1)·C_j. The set is
schedulable iff U ≤ 1 and h(t) + B(t) ≤ t at every absolute deadline t below the testing
bound L, where h = Σ dbf_j and B(t) = max{B_j : D_j - J_j ≤ t} (the blocking a job due by
t can suffer under SRP). L = min(La, Lb) for U < 1 with

    La = max(max_j(D_j - J_j), (Σ_j (T_j - D_j + J_j)·U_j + max B) / (1 - U))

and Lb the synchronous busy period; for U = 1, h(t) - t repeats every hyperperiod H, so
L = max(D_j - J_j) + H. QPA walks down from L and visits few points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from agentos_contracts.model.tasks import Task
from agentos_contracts.sched.result import CoreResult, DemandWitness, Interference, TaskResponse, Verdict

MAX_STEPS = 500_000  # QPA steps before giving up (verdict unknown)
LB_STEPS = 16  # the busy-period bound only shortens the interval; La is used when it converges slowly
ONE = Fraction(1)


def demand(tasks: Sequence[Task], t: Fraction | int) -> int:
    """h(t): work of all jobs released at or after 0 and due by t."""
    return sum(task.dbf(t) for task in tasks)


def blocking_at(tasks: Sequence[Task], t: Fraction | int) -> int:
    """B(t): the longest blocking of any task whose first job is due by t."""
    return max((task.blocking_ns for task in tasks if task.effective_deadline_ns <= t), default=0)


def last_deadline_before(tasks: Sequence[Task], t: Fraction | int) -> Fraction | int | None:
    """The largest absolute deadline strictly below t, or None."""
    best: int | None = None
    for task in tasks:
        d = task.effective_deadline_ns
        if t <= d:
            continue
        k = -(-(t - d) // task.period_ns) - 1
        cand = int(k) * task.period_ns + d
        if best is None or cand > best:
            best = cand
    return best


def last_deadline_at_or_before(tasks: Sequence[Task], t: Fraction | int) -> Fraction | int | None:
    best: int | None = None
    for task in tasks:
        d = task.effective_deadline_ns
        if t < d:
            continue
        cand = int((t - d) // task.period_ns) * task.period_ns + d
        if best is None or cand > best:
            best = cand
    return best


def testing_bound(tasks: Sequence[Task], scale: Fraction = ONE, max_steps: int = MAX_STEPS) -> Fraction | int | None:
    """L such that any violation h(t) + B(t) > t has t ≤ L; None if too long to compute."""
    u = scale * sum((t.utilization for t in tasks), Fraction(0))
    max_d = max(t.effective_deadline_ns for t in tasks)
    b_max = max(t.blocking_ns for t in tasks)
    jitter = any(t.jitter_ns for t in tasks)
    if u == 1:
        # h(t) - t repeats every hyperperiod H once t ≥ max(D - J); without jitter or
        # blocking the synchronous busy period (≤ H) is shorter still
        h = math.lcm(*(t.period_ns for t in tasks))
        if h > max_steps * min(t.period_ns for t in tasks):
            return None
        return h if not jitter and not b_max and h >= max_d else max_d + h
    slack = scale * sum((Fraction(t.period_ns - t.effective_deadline_ns) * t.utilization for t in tasks), Fraction(0))
    la = max(Fraction(max_d), (slack + b_max) / (1 - u))
    # for U < 1 too, h(t + H) + B(t + H) - (t + H) = h(t) + B(t) - t - (1 - U)·H once t ≥ max(D - J),
    # so a violation beyond max(D - J) + H implies one a hyperperiod earlier; near U = 1 this is
    # far shorter than La, which grows like 1 / (1 - U) (sensitivity's WCET searches live there)
    la = min(la, Fraction(max_d + math.lcm(*(t.period_ns for t in tasks))))
    if b_max:
        return la
    # the synchronous busy period (jobs released at 0, then kT - J) when it is shorter
    unit = scale == 1
    w: Fraction | int = sum(t.wcet_ns for t in tasks) if unit else scale * sum(t.wcet_ns for t in tasks)
    for _ in range(LB_STEPS):
        if w >= la:
            return la
        total = sum(t.rbf(w) for t in tasks)
        nxt = total if unit else scale * total
        if nxt == w:
            return w
        w = nxt
    return la


def witness_at(tasks: Sequence[Task], t: Fraction | int, core: int, scale: Fraction = ONE) -> DemandWitness:
    jobs = tuple(Interference(task=x.name, jobs=x.dbf(t) // x.wcet_ns, work_ns=x.dbf(t)) for x in tasks if x.dbf(t))
    return DemandWitness(core=core, t_ns=Fraction(t), demand_ns=scale * demand(tasks, t),
                         blocking_ns=blocking_at(tasks, t), jobs=jobs)


def qpa(tasks: Sequence[Task], scale: Fraction = ONE,
        max_steps: int = MAX_STEPS) -> tuple[bool | None, Fraction | int | None, str]:
    """(schedulable, witness t, note) for the demand scaled by ``scale`` (sensitivity uses α ≠ 1)."""
    for task in tasks:
        if task.effective_deadline_ns <= 0:
            return False, 0, f"`{task.name}` has jitter ≥ deadline: a job may be released at its deadline"
    u = scale * sum((t.utilization for t in tasks), Fraction(0))
    if u > 1:
        return False, None, f"utilisation {float(u):.6f} exceeds 1"
    if all(t.effective_deadline_ns >= t.period_ns and not t.blocking_ns for t in tasks):
        return True, None, ""  # dbf_j(t) ≤ U_j·t for every t: U ≤ 1 is exact
    bound = testing_bound(tasks, scale, max_steps)
    if bound is None:
        return None, None, "testing interval too long (utilisation 1 with a huge hyperperiod)"
    params = sorted((t.effective_deadline_ns, t.period_ns, t.wcet_ns) for t in tasks)
    blocks = _blocking_steps(tasks)
    d_min = params[0][0]
    unit = scale == 1
    t: Fraction | int | None = last_deadline_at_or_before(tasks, bound)
    steps = 0
    while t is not None:
        steps += 1
        if steps > max_steps:
            return None, None, f"QPA did not finish in {max_steps} steps"
        h_raw = sum([((t - d) // p + 1) * c for d, p, c in params if d <= t])
        h = (h_raw if unit else scale * h_raw) + _blocking(blocks, t)
        if h > t:
            return False, t, ""
        if h <= d_min:
            return True, None, ""
        if h < t:
            t = h
        else:
            best = None
            for d, p, _ in params:
                if d >= t:
                    break  # sorted by D - J: no later task has a deadline below t
                cand = (-(-(t - d) // p) - 1) * p + d
                if best is None or cand > best:
                    best = cand
            t = best
    return True, None, ""


def _blocking_steps(tasks: Sequence[Task]) -> list[tuple[int, int]]:
    """B(t) as (from t, value) steps, ascending."""
    steps: list[tuple[int, int]] = []
    top = 0
    for d, b in sorted((t.effective_deadline_ns, t.blocking_ns) for t in tasks):
        if b > top:
            top = b
            steps.append((d, b))
    return steps


def _blocking(steps: list[tuple[int, int]], t: Fraction | int) -> int:
    value = 0
    for d, b in steps:
        if d > t:
            break
        value = b
    return value


def analyse(tasks: Sequence[Task], core: int = 0, *, max_steps: int = MAX_STEPS) -> CoreResult:
    """The exact EDF test for one core, with the witness interval when it fails."""
    ok, t, note = qpa(tasks, max_steps=max_steps)
    witness = witness_at(tasks, t, core) if ok is False and t is not None and t > 0 else None
    involved = {j.task for j in witness.jobs} if witness else set()
    involved |= {x.name for x in tasks if x.effective_deadline_ns <= 0}
    flag: dict[bool | None, bool | None] = {True: True, None: None, False: None}
    out = tuple(TaskResponse(name=x.name, core=core, deadline_ns=x.deadline_ns, period_ns=x.period_ns,
                             wcet_ns=x.wcet_ns, jitter_ns=x.jitter_ns, blocking_ns=x.blocking_ns,
                             schedulable=False if x.name in involved else flag[ok]) for x in tasks)
    if ok is True:
        return CoreResult(core=core, verdict=Verdict.SCHEDULABLE, tasks=out)
    if ok is None:
        return CoreResult(core=core, verdict=Verdict.UNKNOWN, tasks=out, reason=note)
    if witness is not None:
        note = f"demand {witness.demand_ns + witness.blocking_ns} ns exceeds the interval {witness.t_ns} ns"
    return CoreResult(core=core, verdict=Verdict.UNSCHEDULABLE, tasks=out, witness=witness, reason=note)


def is_schedulable(tasks: Sequence[Task]) -> bool:
    return qpa(tasks)[0] is True
