"""Random task sets for tests and benchmarks: UUniFast utilisations and named period distributions.

Generation may use floats (it only proposes sets); every verdict on them is exact.
Periods are rounded to a ``granularity_ns`` grid (1 µs by default) so that log-uniform
periods keep hyperperiods and busy-period arithmetic manageable while staying exact.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from agentos_contracts.model.tasks import Scheduler, Task, TaskSet

NS_PER_MS = 1_000_000
NS_PER_US = 1_000

# harmonic-ish sets: every member divides the LCM, so hyperperiods stay small
NAMED_PERIODS: dict[str, tuple[int, ...]] = {
    # divisors of 120 (ms): hyperperiod ≤ 120 ms
    "harmonic-ish": (2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 24, 30, 40, 60, 120),
    # powers of two (ms): fully harmonic
    "harmonic": (4, 8, 16, 32, 64, 128),
    # automotive-style rates (ms)
    "automotive": (1, 2, 5, 10, 20, 50, 100, 200, 1000),
}


def uunifast(n: int, total: float, rng: random.Random) -> list[float]:
    """Bini & Buttazzo's UUniFast: n utilisations summing to ``total``, uniformly distributed."""
    out: list[float] = []
    rest = total
    for i in range(1, n):
        nxt = rest * rng.random() ** (1.0 / (n - i))
        out.append(rest - nxt)
        rest = nxt
    out.append(rest)
    return out


def uunifast_discard(n: int, total: float, rng: random.Random, cap: float = 1.0, tries: int = 1000) -> list[float]:
    """UUniFast, redrawn until every utilisation is at most ``cap`` (for totals above 1)."""
    for _ in range(tries):
        us = uunifast(n, total, rng)
        if max(us) <= cap:
            return us
    raise ValueError(f"no UUniFast draw with every utilisation <= {cap} in {tries} tries")


def log_uniform_periods(n: int, rng: random.Random, lo_ms: float = 10, hi_ms: float = 1000,
                        granularity_ns: int = NS_PER_US) -> list[int]:
    """Periods log-uniform in [lo, hi] ms, rounded to the grid (the usual benchmark choice)."""
    out = []
    for _ in range(n):
        ms = math.exp(rng.uniform(math.log(lo_ms), math.log(hi_ms)))
        out.append(max(granularity_ns, round(ms * NS_PER_MS / granularity_ns) * granularity_ns))
    return out


def choice_periods(n: int, rng: random.Random, name: str = "harmonic-ish", unit_ns: int = NS_PER_MS) -> list[int]:
    """Periods drawn from a named set (``NAMED_PERIODS``), in units of ``unit_ns``."""
    pool = NAMED_PERIODS[name]
    return [rng.choice(pool) * unit_ns for _ in range(n)]


def make_tasks(utils: list[float], periods: list[int], rng: random.Random, *,
               deadlines: str = "implicit", jitter: float = 0.0, prefix: str = "t",
               deadline_min: float = 0.0) -> list[Task]:
    """Tasks with C = max(1, ⌊u·T⌋) ns.

    ``deadlines``: ``implicit`` (D = T), ``constrained`` (D uniform in
    [C + deadline_min·(T - C), T]) or ``arbitrary`` (D uniform in [C, 2T]); ``jitter`` is
    the largest share of the slack D - C given to release jitter (J uniform in
    [0, jitter·(D - C)]).
    """
    out = []
    for n, (u, p) in enumerate(zip(utils, periods)):
        c = max(1, math.floor(u * p))
        if deadlines == "implicit":
            d = p
        elif deadlines == "constrained":
            low = min(c, p)
            d = rng.randint(low + int(deadline_min * (p - low)), p)
        elif deadlines == "arbitrary":
            d = rng.randint(min(c, 2 * p), 2 * p)
        else:
            raise ValueError(f"unknown deadline model {deadlines!r}")
        j = rng.randint(0, int(jitter * (d - c))) if jitter and d > c else 0
        out.append(Task(name=f"{prefix}{n}", period_ns=p, wcet_ns=c, deadline_ns=d, jitter_ns=j))
    return out


def random_taskset(n: int, total: float, rng: random.Random, *, scheduler: Scheduler = Scheduler.RM,
                   cores: int = 1, periods: Callable[[int, random.Random], list[int]] | None = None,
                   deadlines: str = "implicit", jitter: float = 0.0, name: str = "random",
                   deadline_min: float = 0.0) -> TaskSet:
    """One random set: UUniFast(-discard for totals above 1) utilisations, log-uniform periods by default."""
    utils = uunifast(n, total, rng) if total <= 1 else uunifast_discard(n, total, rng)
    ps = periods(n, rng) if periods else log_uniform_periods(n, rng)
    tasks = make_tasks(utils, ps, rng, deadlines=deadlines, jitter=jitter, deadline_min=deadline_min)
    return TaskSet(name=name, scheduler=scheduler, cores=cores, tasks=tuple(tasks))
