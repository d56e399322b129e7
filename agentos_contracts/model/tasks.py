"""The one task model every schedulability analysis reads.

Time is exact: integer nanoseconds. A task is sporadic with release jitter: job k
*arrives* at some a_k ≥ a_{k-1} + T, is *released* within [a_k, a_k + J], and must
finish by a_k + D, so the response time counts from arrival (R = w + J ≤ D,
documents.md, "HRT"). Utilisations are ``Fraction``s, so no float rounding ever
turns an unschedulable set into a schedulable one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction

from agentos_contracts.diagnostics import Span


class Scheduler(str, Enum):
    """Per-core scheduling policy: rate-/deadline-monotonic, explicit fixed priorities, or EDF."""

    RM = "RM"
    DM = "DM"
    FP = "FP"
    EDF = "EDF"

    @property
    def is_fixed_priority(self) -> bool:
        return self is not Scheduler.EDF


@dataclass(frozen=True, slots=True, kw_only=True)
class Task:
    """A sporadic task; ``priority`` 1 is the highest, ``core`` counts from 0 (affinity)."""

    name: str
    period_ns: int
    wcet_ns: int
    deadline_ns: int
    jitter_ns: int = 0
    blocking_ns: int = 0
    priority: int | None = None
    core: int | None = None
    span: Span | None = field(default=None, compare=False)
    path: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        # converters check documents and report diagnostics; reaching here with bad values is a bug
        for label, value, low in (("period_ns", self.period_ns, 1), ("wcet_ns", self.wcet_ns, 1),
                                  ("deadline_ns", self.deadline_ns, 1), ("jitter_ns", self.jitter_ns, 0),
                                  ("blocking_ns", self.blocking_ns, 0)):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(f"task `{self.name}`: {label} must be an int >= {low}, got {value!r}")

    @property
    def utilization(self) -> Fraction:
        return Fraction(self.wcet_ns, self.period_ns)

    @property
    def effective_deadline_ns(self) -> int:
        """Deadline counted from the latest release (D - J); may be ≤ 0 for a hopeless task."""
        return self.deadline_ns - self.jitter_ns

    @property
    def is_implicit(self) -> bool:
        return self.deadline_ns == self.period_ns and self.jitter_ns == 0 and self.blocking_ns == 0

    def release_ns(self, k: int) -> int:
        """Release of job k in the worst-case pattern: arrivals at kT - J, releases no earlier than 0."""
        return max(0, k * self.period_ns - self.jitter_ns)

    def rbf(self, t: int | Fraction) -> int:
        """Work of the jobs released in [0, t) in the worst-case pattern: ⌈(t + J)/T⌉·C."""
        if t <= 0:
            return 0
        return -(-(t + self.jitter_ns) // self.period_ns) * self.wcet_ns

    def dbf(self, t: int | Fraction) -> int:
        """Work of the jobs released at or after 0 whose deadlines are ≤ t (processor demand)."""
        d = self.effective_deadline_ns
        if t < d:
            return 0
        return (int((t - d) // self.period_ns) + 1) * self.wcet_ns


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskSet:
    """Tasks sharing ``cores`` identical cores under one per-core ``scheduler`` (partitioned)."""

    name: str
    scheduler: Scheduler
    cores: int
    tasks: tuple[Task, ...]
    file: str = field(default="", compare=False)
    span: Span | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.cores < 1:
            raise ValueError(f"task set `{self.name}`: cores must be >= 1, got {self.cores}")

    @property
    def utilization(self) -> Fraction:
        return utilization(self.tasks)

    @property
    def hyperperiod_ns(self) -> int:
        return hyperperiod(self.tasks)

    def task(self, name: str) -> Task:
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(name)


def utilization(tasks: Sequence[Task]) -> Fraction:
    """Exact total utilisation ΣC/T.

    Summed per distinct period first, then pairwise: adding fractions one by one to a running
    total makes every step pay a gcd on the total's ever longer denominator (seconds for
    10,000 distinct periods); pairwise sums keep operands of similar size, so the big
    operations happen only near the top of the tree.
    """
    per_period: dict[int, int] = {}
    for t in tasks:
        per_period[t.period_ns] = per_period.get(t.period_ns, 0) + t.wcet_ns
    terms = [Fraction(c, p) for p, c in per_period.items()]
    if not terms:
        return Fraction(0)
    while len(terms) > 1:
        terms = [a + b for a, b in zip(terms[::2], terms[1::2])] + ([terms[-1]] if len(terms) % 2 else [])
    return terms[0]


# Sizes that drive the work of every analysis, checked before any starts (docs/sched.md,
# "Limits"): cores and tasks bound the partitioning and per-task tests; the simulator
# bounds its own window (the hyperperiod drives no analysis).
MAX_CORES = 4096
MAX_TASKS = 10_000


def size_problem(cores: int, periods_ns: Sequence[int]) -> str:
    """Why a set is too large to analyse (empty when it is not): checked before any work."""
    if cores > MAX_CORES:
        return f"{cores} cores is over the limit of {MAX_CORES}"
    if len(periods_ns) > MAX_TASKS:
        return f"{len(periods_ns)} tasks is over the limit of {MAX_TASKS}"
    return ""


def hyperperiod(tasks: Sequence[Task]) -> int:
    """LCM of the periods (1 for no tasks); can be astronomically large for ns periods."""
    return math.lcm(*(t.period_ns for t in tasks)) if tasks else 1
