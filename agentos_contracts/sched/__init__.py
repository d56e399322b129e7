"""ANALYSE: exact schedulability of task sets (pure functions over ``model.tasks``).

``TESTS`` maps each per-core scheduler to its exact uniprocessor test; ``analyse`` runs
it on one core, or partitions a multicore set first (``partition``, the only module that
loads PuLP, imported on demand). Verdicts are exact and never optimistic: where a limit
stops a test before it can decide, the verdict is ``unknown`` with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Protocol

from agentos_contracts.model.tasks import Scheduler, Task, TaskSet, size_problem
from agentos_contracts.model.units import ns_to_ms_text
from agentos_contracts.sched import edf, fp
from agentos_contracts.sched.bounds import check_bounds
from agentos_contracts.sched.result import (BoundCheck, CoreResult, DemandWitness, Interference, SchedReport,
                                            Sensitivity, TaskResponse, Verdict)

__all__ = ["TESTS", "analyse", "core_test", "is_schedulable", "SchedReport", "Verdict", "TaskResponse",
           "DemandWitness", "Interference", "Sensitivity", "BoundCheck", "CoreResult"]

SENSITIVITY_LIMIT = 64  # sensitivity runs ~30 exact tests per task; skipped above this many tasks unless asked


class CoreTest(Protocol):
    def __call__(self, tasks: Sequence[Task], core: int = 0) -> CoreResult: ...


def _edf(tasks: Sequence[Task], core: int = 0) -> CoreResult:
    return edf.analyse(tasks, core)


def _fixed(scheduler: Scheduler, *, stop_at_miss: bool = False) -> CoreTest:
    def test(tasks: Sequence[Task], core: int = 0) -> CoreResult:
        return fp.analyse(tasks, scheduler, core, stop_at_miss=stop_at_miss)

    return test


TESTS: dict[str, CoreTest] = {
    "RM": _fixed(Scheduler.RM),
    "DM": _fixed(Scheduler.DM),
    "FP": _fixed(Scheduler.FP),
    "EDF": _edf,
}


def core_test(scheduler: Scheduler, *, verdict_only: bool = False) -> CoreTest:
    """The exact per-core test; ``verdict_only`` stops at the first miss (no exact R for the rest)."""
    if scheduler is Scheduler.EDF:
        return _edf
    return _fixed(scheduler, stop_at_miss=True) if verdict_only else TESTS[scheduler.value]


def is_schedulable(tasks: Sequence[Task], scheduler: Scheduler) -> bool:
    """The exact verdict for one core; ``unknown`` counts as not schedulable (fail closed)."""
    if scheduler is Scheduler.EDF:
        return edf.is_schedulable(tasks)
    return fp.is_schedulable(tasks, scheduler)


def analyse(ts: TaskSet, *, sensitivity: bool | None = None, solver: str = "auto", time_limit_s: float = 10.0,
            audsley: bool = True, objective: str = "feasible") -> SchedReport:
    """The exact verdict for ``ts`` with response times, explanations and sensitivity.

    A set too large to analyse (``model.tasks.size_problem``: cores, tasks, hyperperiod) is
    refused before any work: verdict ``unknown`` with the reason; its utilisation is then
    a float estimate, since the exact one is itself work the limit is there to prevent.
    """
    scheduler = ts.scheduler
    too_large = size_problem(ts.cores, [t.period_ns for t in ts.tasks])
    if too_large:
        estimate = Fraction(math.fsum(t.wcet_ns / t.period_ns for t in ts.tasks if t.period_ns > 0))
        return _undecided(ts, Verdict.UNKNOWN, f"not analysed: {too_large}", "refused", estimate)
    test = TESTS[scheduler.value]
    method, reason = "uniprocessor", ""
    bounds: tuple[BoundCheck, ...] = ()
    suggested: tuple[str, ...] | None = None
    if ts.cores == 1:
        cores: list[list[Task]] | None = [list(ts.tasks)]
        bounds = check_bounds(ts.tasks, scheduler)
    elif all(t.core is not None for t in ts.tasks):
        # every task pinned: the one assignment is analysed core by core, so a set that misses
        # still gets its exact response times (a failed partition search would report none)
        method = "pinned"
        cores = [[t for t in ts.tasks if t.core == k] for k in range(ts.cores)]
    else:
        from agentos_contracts.sched.partition import partition

        part = partition(ts, core_test(scheduler, verdict_only=True),
                         verdict=lambda tasks: is_schedulable(tasks, scheduler), solver=solver,
                         time_limit_s=time_limit_s, objective=objective)
        method, reason = part.method, part.reason
        cores = None
        if part.assignment is not None:
            cores = [[t for t, c in zip(ts.tasks, part.assignment) if c == k] for k in range(ts.cores)]
    if cores is None:
        return _undecided(ts, part.verdict, reason, method, ts.utilization)
    results = [test(members, k) for k, members in enumerate(cores) if members]
    by_name = {r.name: r for res in results for r in res.tasks}
    verdict = fp.combine(res.verdict is Verdict.SCHEDULABLE if res.verdict is not Verdict.UNKNOWN else None
                         for res in results)
    failed = next((res for res in results if res.verdict is not Verdict.SCHEDULABLE), None)
    if failed is not None:
        reason = _reason(failed, {t.name: t for t in ts.tasks})
    if ts.cores == 1 and scheduler.is_fixed_priority and verdict is Verdict.UNSCHEDULABLE and audsley:
        order = fp.audsley(ts.tasks)
        suggested = tuple(t.name for t in order) if order is not None else None
    sens: Sensitivity | None = None
    want = sensitivity if sensitivity is not None else len(ts.tasks) <= SENSITIVITY_LIMIT
    if want and verdict is not Verdict.UNKNOWN:
        from agentos_contracts.sched.sensitivity import analyse_sensitivity

        sens = analyse_sensitivity([c for c in cores if c], scheduler)
    return SchedReport(name=ts.name, scheduler=scheduler.value, cores=ts.cores, verdict=verdict,
                       utilization=ts.utilization, tasks=tuple(by_name[t.name] for t in ts.tasks), reason=reason,
                       method=method, bounds=bounds, suggested_priorities=suggested,
                       witness=failed.witness if failed is not None else None, sensitivity=sens,
                       file=ts.file, span=ts.span)


def _undecided(ts: TaskSet, verdict: Verdict, reason: str, method: str, utilization: Fraction) -> SchedReport:
    """A report with no response times: the set was refused or no partition was found."""
    tasks = tuple(TaskResponse(name=t.name, core=t.core, deadline_ns=t.deadline_ns, period_ns=t.period_ns,
                               wcet_ns=t.wcet_ns, jitter_ns=t.jitter_ns, blocking_ns=t.blocking_ns)
                  for t in ts.tasks)
    return SchedReport(name=ts.name, scheduler=ts.scheduler.value, cores=ts.cores, verdict=verdict,
                       utilization=utilization, tasks=tasks, reason=reason, method=method,
                       file=ts.file, span=ts.span)


def _reason(res: CoreResult, tasks: dict[str, Task]) -> str:
    """One line naming the failure: R against D for fixed priority, the witness interval for EDF."""
    where = f" on core {res.core}" if res.core else ""
    if res.witness is not None:
        w = res.witness
        return (f"demand {ns_to_ms_text(w.demand_ns + w.blocking_ns)} ms exceeds the interval "
                f"[0, {ns_to_ms_text(w.t_ns)}] ms{where}")
    bad = next((r for r in res.tasks if r.schedulable is False), None)
    if bad is None:
        return res.reason
    if bad.response_time_ns is None:
        why = bad.note or res.reason
        return f"task `{bad.name}` misses its deadline{where}" + (f" ({why})" if why else "")
    return (f"task `{bad.name}` misses its deadline{where}: R = {ns_to_ms_text(bad.response_time_ns)} ms "
            f"> D = {ns_to_ms_text(tasks[bad.name].deadline_ns)} ms")
