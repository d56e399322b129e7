"""Quick sufficient tests, reported beside the exact verdict and never deciding it.

Liu–Layland (U ≤ n(2^{1/n} - 1)) and the hyperbolic bound (Π(U_i + 1) ≤ 2, Bini et al.)
hold for rate-monotonic priorities with implicit deadlines and no jitter or blocking;
elsewhere they are marked not applicable. Both are compared exactly: the Liu–Layland
bound is irrational, so U ≤ n(2^{1/n} - 1) is checked as (U/n + 1)^n ≤ 2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from agentos_contracts.model.tasks import Scheduler, Task, utilization
from agentos_contracts.sched.result import BoundCheck


def liu_layland(tasks: Sequence[Task]) -> bool:
    """(U/n + 1)^n <= 2, exactly. The exact power of a Fraction grows with n (3,000 tasks took
    over a minute), so a float estimate decides whenever it is clearly on one side; only a
    value within 1e-9 of the bound is raised to the power exactly."""
    n = len(tasks)
    if n == 0:
        return True
    u = utilization(tasks)
    estimate = n * math.log1p(float(u) / n) - math.log(2)
    if abs(estimate) > 1e-9:
        return estimate < 0
    return (u / n + 1) ** n <= 2


def hyperbolic(tasks: Sequence[Task]) -> bool:
    prod = Fraction(1)
    for t in tasks:
        prod *= t.utilization + 1
        if prod > 2:
            return False
    return True


def density(tasks: Sequence[Task]) -> bool:
    """Σ C/(min(D - J, T)) ≤ 1: sufficient for EDF without blocking."""
    total = Fraction(0)
    for t in tasks:
        d = min(t.effective_deadline_ns, t.period_ns)
        if d <= 0:
            return False
        total += Fraction(t.wcet_ns, d)
    return total <= 1


def check_bounds(tasks: Sequence[Task], scheduler: Scheduler) -> tuple[BoundCheck, ...]:
    """The sufficient tests that make sense for this scheduler, each marked applicable or not."""
    implicit = all(t.is_implicit for t in tasks)
    if scheduler is Scheduler.EDF:
        exact_u = all(t.effective_deadline_ns >= t.period_ns and not t.blocking_ns for t in tasks)
        u = utilization(tasks)
        no_blocking = not any(t.blocking_ns for t in tasks)
        return (
            BoundCheck(name="utilization", applicable=exact_u, passed=(u <= 1) if exact_u else None,
                       detail="U <= 1, exact when every D - J >= T and there is no blocking"),
            BoundCheck(name="density", applicable=no_blocking, passed=density(tasks) if no_blocking else None,
                       detail="sum of C / min(D - J, T) <= 1"),
        )
    rm_like = scheduler in (Scheduler.RM, Scheduler.DM) and implicit
    note = "" if rm_like else "needs rate-monotonic priorities, D = T, no jitter or blocking"
    return (
        BoundCheck(name="liu-layland", applicable=rm_like, passed=liu_layland(tasks) if rm_like else None,
                   detail=note or "U <= n(2^(1/n) - 1)"),
        BoundCheck(name="hyperbolic", applicable=rm_like, passed=hyperbolic(tasks) if rm_like else None,
                   detail=note or "product of (U_i + 1) <= 2"),
    )
