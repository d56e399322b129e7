"""Quick sufficient tests, reported beside the exact verdict and never deciding it.

Liu–Layland (U ≤ n(2^{1/n} - 1)) and the hyperbolic bound (Π(U_i + 1) ≤ 2, Bini et al.)
hold for rate-monotonic priorities with implicit deadlines and no jitter or blocking;
elsewhere they are marked not applicable. Both are compared exactly: the Liu–Layland
bound is irrational, so U ≤ n(2^{1/n} - 1) is checked as (U/n + 1)^n ≤ 2.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from fractions import Fraction

from agentos_contracts.model.tasks import Scheduler, Task, utilization
from agentos_contracts.sched.result import BoundCheck

LL_MARGIN = Fraction(1, 10**40)  # far above the 50-digit bracket's rounding error


def liu_layland(tasks: Sequence[Task]) -> bool:
    """U ≤ n(2^{1/n} - 1), decided exactly.

    The bound is bracketed by 50-digit decimals (``decimal`` rounds ln and exp correctly,
    so the bracket's error is far below 10⁻⁴⁰); only a U inside that bracket pays for the
    exact (U/n + 1)ⁿ ≤ 2, whose numbers grow with n times the digits of U's denominator.
    """
    n = len(tasks)
    if n == 0:
        return True
    u = utilization(tasks)
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        bound = Fraction(n * ((decimal.Decimal(2).ln() / n).exp() - 1))
    if u < bound - LL_MARGIN:
        return True
    if u > bound + LL_MARGIN:
        return False
    return (u / n + 1) ** n <= 2


def hyperbolic(tasks: Sequence[Task]) -> bool:
    """Π(U_i + 1) ≤ 2, as Π(C_i + T_i) ≤ 2·ΠT_i over integers (products by halves stay balanced)."""
    return _product([t.wcet_ns + t.period_ns for t in tasks]) <= 2 * _product([t.period_ns for t in tasks])


def _product(xs: list[int]) -> int:
    """Π xs multiplied pairwise, so big factors meet big factors (Karatsuba) instead of small ones."""
    if not xs:
        return 1
    while len(xs) > 1:
        xs = [xs[i] * xs[i + 1] for i in range(0, len(xs) - 1, 2)] + ([xs[-1]] if len(xs) % 2 else [])
    return xs[0]


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
