"""First-fit and worst-fit decreasing: the fast path of partitioning.

Generic over the fit test (the exact per-core test is passed in), as SchedCAT's
``mapping/binpack.py``. Pinned tasks (``core`` set) are placed first, the rest by
decreasing utilisation (first-fit, worst-fit) or by period phase (first-fit over tasks
sorted by frac(log2 T), for fixed priorities), ties in document order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction

from agentos_contracts.model.tasks import Task

Fits = Callable[[list[Task]], bool]


def _phase(task: Task) -> float:
    """Position of the period within its octave, frac(log2 T): tasks with close phases are
    nearly harmonic, and a core of nearly harmonic tasks stays RM-schedulable at high load
    (the idea behind RMGT, Burchard et al. 1995). Only orders candidates; the exact test decides."""
    return math.log2(task.period_ns) % 1.0


def _order(tasks: Sequence[Task], strategy: str) -> list[int]:
    idx = range(len(tasks))
    pinned = [i for i in idx if tasks[i].core is not None]
    if strategy == "period-phase":
        free = sorted((i for i in idx if tasks[i].core is None), key=lambda i: (_phase(tasks[i]), i))
    else:
        free = sorted((i for i in idx if tasks[i].core is None), key=lambda i: (-tasks[i].utilization, i))
    return pinned + free


def pack(tasks: Sequence[Task], cores: int, fits: Fits, strategy: str = "first-fit",
         placed: Sequence[int] | None = None) -> tuple[list[int] | None, str]:
    """(core per task in input order, "") or (None, the task that fit nowhere).

    ``placed`` (core per task, -1 for none) pre-fills the cores: only the others are packed.
    """
    bins: list[list[Task]] = [[] for _ in range(cores)]
    load = [Fraction(0)] * cores
    where = [-1] * len(tasks)
    for i, c in enumerate(placed or ()):
        if c >= 0:
            bins[c].append(tasks[i])
            load[c] += tasks[i].utilization
            where[i] = c
    for i in _order(tasks, strategy):
        if where[i] >= 0:
            continue
        task = tasks[i]
        if task.core is not None:
            candidates = [task.core]
        elif strategy == "worst-fit":
            candidates = sorted(range(cores), key=lambda c: (load[c], c))
        elif strategy in ("first-fit", "period-phase"):
            candidates = list(range(cores))
        else:
            raise ValueError(f"unknown strategy {strategy!r}")
        for c in candidates:
            if load[c] + task.utilization <= 1 and fits(bins[c] + [task]):
                bins[c].append(task)
                load[c] += task.utilization
                where[i] = c
                break
        else:
            return None, task.name
    return where, ""
