"""Liu–Layland and hyperbolic bounds: exact, and only where they apply."""

from __future__ import annotations

from agentos_contracts.model.tasks import Scheduler, Task
from agentos_contracts.sched import bounds


def task(t: int, c: int, d: int | None = None, j: int = 0) -> Task:
    return Task(name=f"t{t}-{c}", period_ns=t, wcet_ns=c, deadline_ns=t if d is None else d, jitter_ns=j)


def test_liu_layland_is_compared_exactly() -> None:
    # n = 2: bound 2(√2 - 1) = 0.828427...
    assert bounds.liu_layland([task(1000000, 414213), task(1000000, 414213)])  # U = 0.828426
    assert not bounds.liu_layland([task(1000000, 414214), task(1000000, 414214)])  # U = 0.828428


def test_hyperbolic_accepts_more_than_liu_layland() -> None:
    tasks = [task(10, 6), task(100, 20)]  # U = 0.8 < 0.828 but also Π = 1.6·1.2 = 1.92 ≤ 2
    assert bounds.hyperbolic(tasks) and bounds.liu_layland(tasks)
    tasks = [task(10, 7), task(100, 15)]  # U = 0.85 > LL bound; Π = 1.7·1.15 = 1.955 ≤ 2
    assert bounds.hyperbolic(tasks) and not bounds.liu_layland(tasks)


def test_bounds_apply_only_to_implicit_rate_monotonic_sets() -> None:
    checks = bounds.check_bounds([task(10, 1, d=5)], Scheduler.RM)
    assert all(not c.applicable and c.passed is None for c in checks)
    checks = bounds.check_bounds([task(10, 1)], Scheduler.FP)
    assert all(not c.applicable for c in checks)
    edf = {c.name: c for c in bounds.check_bounds([task(10, 1, d=5)], Scheduler.EDF)}
    assert not edf["utilization"].applicable and edf["density"].passed
