"""The exact per-core test the MILP's answer must pass (contracts become tasks in ``validate.build``).

The MILP only knows utilisation (≤ 1 per core, a relaxation); this module runs the
schedulability library's exact uniprocessor test (response-time analysis for RM,
processor demand for EDF) on each core as assigned, and shrinks a failing core to a
minimal failing set of new tasks so the cut it yields is as strong as possible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from agentos_contracts.binding.options import Reason, Unit, fmt_ms
from agentos_contracts.codes import CODES
from agentos_contracts.model.tasks import Scheduler, Task, utilization
from agentos_contracts.model.units import fraction_text
from agentos_contracts.sched import edf, fp
from agentos_contracts.sched.sensitivity import max_wcet
from agentos_contracts.sched.result import CoreResult, Verdict


def scheduler_of(name: str) -> Scheduler:
    return Scheduler(name)


def check_core(tasks: Sequence[Task], scheduler: str, core: int = 0, *, full: bool = False) -> CoreResult:
    """The exact test for one core; ``full`` computes every response time (for evidence)."""
    sched = scheduler_of(scheduler)
    if sched is Scheduler.EDF:
        return edf.analyse(list(tasks), core)
    return fp.analyse(list(tasks), sched, core, stop_at_miss=not full)


def is_schedulable(tasks: Sequence[Task], scheduler: str) -> bool:
    return check_core(tasks, scheduler).verdict is Verdict.SCHEDULABLE


def minimal_failing(new: Sequence[Task], existing: Sequence[Task], scheduler: str) -> list[Task]:
    """A subset of ``new`` that fails together with ``existing`` and passes once any one is removed.

    Adding a task never makes a core schedulable again (both tests are monotone in the
    task set), so a cut forbidding this subset on this core is valid on any core of the
    same scheduler whose reserved load includes ``existing``.
    """
    keep = list(new)
    for task in list(new):
        trial = [t for t in keep if t is not task]
        if trial and not is_schedulable(list(existing) + trial, scheduler):
            keep = trial
    return keep


def alone_problem(unit: Unit, task: Task, scheduler: str) -> Reason | None:
    """A task that misses its deadline even alone on an empty core can never be admitted."""
    result = check_core([task], scheduler, full=True)
    if result.verdict is Verdict.SCHEDULABLE:
        return None
    return Reason(code="AC511", pointer="/class/slo", message=CODES["AC511"].message.format(
        name=unit.label, detail=f"misses its deadline even alone on an empty {scheduler} core: "
                                + core_failure(task, [task], result)))


def core_failure(task: Task, tasks: Sequence[Task], result: CoreResult) -> str:
    """What the exact test found for ``task`` on a core of ``tasks``, with the numbers."""
    if result.verdict is Verdict.UNKNOWN:
        return f"the exact test could not decide ({result.reason})"
    mine = next((r for r in result.tasks if r.name == task.name), None)
    if mine is not None and mine.response_time_ns is not None and mine.response_time_ns > task.deadline_ns:
        return f"response time {fmt_ms(mine.response_time_ns)} ms > deadline {fmt_ms(task.deadline_ns)} ms"
    u = utilization(list(tasks))
    if u > 1:
        return f"core utilisation {float(u):.3f} > 1"
    if result.witness is not None:
        w = result.witness
        return f"processor demand {fmt_ms(w.demand_ns + w.blocking_ns)} ms > the {fmt_ms(w.t_ns)} ms interval"
    other = next((r for r in result.tasks if r.schedulable is False and r.name != task.name), None)
    if other is not None and other.response_time_ns is not None:
        return (f"it makes `{other.name}` miss its deadline (response time {fmt_ms(other.response_time_ns)} ms > "
                f"{fmt_ms(other.deadline_ns)} ms)")
    return result.reason or f"deadline {fmt_ms(task.deadline_ns)} ms missed"


@dataclass(frozen=True, slots=True, kw_only=True)
class CoreEvidence:
    """What the manifest records for an admitted HRT unit."""

    scheduler: str
    response_time_ns: int | None
    deadline_ns: int
    utilization_exact: str
    utilization: float
    slack_ns: int | None


def evidence(task: Task, tasks: Sequence[Task], scheduler: str, core: int) -> CoreEvidence | None:
    """Response time, utilisation and slack of ``task`` on its core; None if the core fails."""
    result = check_core(tasks, scheduler, core, full=True)
    if result.verdict is not Verdict.SCHEDULABLE:
        return None
    mine = next(r for r in result.tasks if r.name == task.name)
    u = utilization(list(tasks))
    rt = mine.response_time_ns
    return CoreEvidence(scheduler=scheduler, response_time_ns=rt, deadline_ns=task.deadline_ns,
                        utilization_exact=fraction_text(u), utilization=round(float(u), 6),
                        slack_ns=None if rt is None else task.deadline_ns - rt)


def max_wcet_ns(task: Task, others: Sequence[Task], scheduler: str) -> int | None:
    """The largest WCET with which ``task`` fits beside ``others``: the library's sensitivity analysis."""
    return max_wcet(list(others) + [task], scheduler_of(scheduler), task.name)
