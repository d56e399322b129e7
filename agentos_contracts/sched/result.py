"""What the analyses return: plain frozen values that reports render and admission reads.

Kept apart from the analyses so ``report/`` and ``cli/`` can import the result types
without pulling in the tests themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction

from agentos_contracts.diagnostics import Span


class Verdict(str, Enum):
    SCHEDULABLE = "schedulable"
    UNSCHEDULABLE = "unschedulable"
    UNKNOWN = "unknown"  # a limit was reached before the exact test could decide; never a guess


@dataclass(frozen=True, slots=True, kw_only=True)
class Interference:
    """Work of one task inside a window: ``jobs`` jobs of ``wcet`` each."""

    task: str
    jobs: int
    work_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskResponse:
    """One task's outcome on its core.

    ``response_time_ns`` is the exact worst case from arrival (None under EDF, for an
    unbounded busy period, or when the busy period was too long to enumerate);
    ``job``/``window_ns``/``interference`` describe the worst job of the busy period
    (job 0 arrives at -J and is released at 0) for explanations.
    """

    name: str
    core: int | None  # None: not placed (no partition found)
    deadline_ns: int
    period_ns: int = 0
    wcet_ns: int = 0
    jitter_ns: int = 0
    response_time_ns: int | None = None
    schedulable: bool | None = None
    job: int | None = None
    window_ns: int | None = None
    blocking_ns: int = 0
    own_ns: int = 0
    interference: tuple[Interference, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DemandWitness:
    """EDF failure: at ``t_ns`` the demand h(t) (+ blocking) exceeds t; ``jobs`` are those in h(t)."""

    core: int
    t_ns: Fraction
    demand_ns: Fraction
    blocking_ns: int
    jobs: tuple[Interference, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CoreResult:
    """The exact uniprocessor test on one core; ``tasks`` in priority order (EDF: input order)."""

    core: int
    verdict: Verdict
    tasks: tuple[TaskResponse, ...]
    witness: DemandWitness | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class BoundCheck:
    """A quick sufficient test, reported beside the exact verdict, never instead of it."""

    name: str
    applicable: bool
    passed: bool | None
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Sensitivity:
    """How far WCETs can grow (or must shrink): the set's critical scaling factor and per-task maxima.

    ``scaling_factor`` is the largest α such that multiplying every WCET by α keeps the set
    schedulable (exact when ``exact``; otherwise a verified lower bound); ``max_wcet_ns``
    gives, per task, the largest integer WCET with all other tasks unchanged (None when no
    positive WCET makes the set schedulable).
    """

    scaling_factor: Fraction | None
    exact: bool
    max_wcet_ns: tuple[tuple[str, int | None], ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SchedReport:
    """The result of ``sched.analyse`` for one task set."""

    name: str
    scheduler: str
    cores: int
    verdict: Verdict
    utilization: Fraction
    tasks: tuple[TaskResponse, ...]  # document order
    reason: str = ""
    method: str = ""
    bounds: tuple[BoundCheck, ...] = ()
    suggested_priorities: tuple[str, ...] | None = None  # highest first
    witness: DemandWitness | None = None
    sensitivity: Sensitivity | None = None
    file: str = field(default="", compare=False)
    span: Span | None = field(default=None, compare=False)

    @property
    def schedulable(self) -> bool:
        return self.verdict is Verdict.SCHEDULABLE

    def task(self, name: str) -> TaskResponse:
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(name)
