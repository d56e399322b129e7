"""TaskSet checks before analysis: unique names, exact durations, cores and priorities that fit."""

from __future__ import annotations

import math
from typing import Iterator

from agentos_contracts.diagnostics import Diagnostic
from agentos_contracts.documents.loader import Document
from agentos_contracts.model import units
from agentos_contracts.validate.contract import fmt_ms, is_number

DURATIONS = ("period_ms", "wcet_ms", "deadline_ms", "jitter_ms", "blocking_ms")


def _int(v: object) -> object:
    """`2.0` is an integer to JSON Schema, so these checks must see it as one too."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


def check_taskset(doc: Document) -> list[Diagnostic]:
    found = list(_tasks(doc))
    return found + ([] if any(d.is_error for d in found) else _size(doc))


def _size(doc: Document) -> list[Diagnostic]:
    """The sizes that drive an analysis's work, bounded before any starts (AC408, AC409).

    The hyperperiod is not one of them: response-time and demand analysis never walk it, and
    unrelated periods (a few hundred tasks on a 1 µs grid) are ordinary task sets. Only the
    simulator walks it, and it bounds its own window (``sched.sim``, ``--gantt``).
    """
    from agentos_contracts.model.tasks import MAX_CORES, MAX_TASKS

    cores, tasks = _int(doc.data.get("cores", 1)), doc.data.get("tasks")
    if isinstance(cores, int) and cores > MAX_CORES:
        return [doc.diag("AC408", "/cores", cores=cores, limit=MAX_CORES)]
    if not isinstance(tasks, list):
        return []
    if len(tasks) > MAX_TASKS:
        return [doc.diag("AC409", "/tasks", at_key=True, count=len(tasks), limit=MAX_TASKS)]
    return []


def _tasks(doc: Document) -> Iterator[Diagnostic]:
    tasks = doc.data.get("tasks")
    if not isinstance(tasks, list):
        return
    cores = _int(doc.data.get("cores", 1))
    scheduler = doc.data.get("scheduler", "RM")
    seen: set[str] = set()
    for i, task in enumerate(tasks):
        if not isinstance(task, dict):
            continue
        base = f"/tasks/{i}"
        name = task.get("name")
        if isinstance(name, str):
            if name in seen:
                yield doc.diag("AC230", f"{base}/name", name=name)
            seen.add(name)
        for key in DURATIONS:
            v = task.get(key)
            if not is_number(v):
                continue
            try:
                units.ms_to_ns(v)
            except units.UnitError:
                yield doc.diag("AC125", f"{base}/{key}", field=key,
                               message=None if math.isfinite(v) else f"`{key}` is not a finite number")
                continue
            if key in ("period_ms", "wcet_ms", "deadline_ms") and v <= 0:
                yield doc.diag("AC117", f"{base}/{key}", field=key, value=fmt_ms(v))
            elif v < 0:
                yield doc.diag("AC130", f"{base}/{key}", field=key, value=fmt_ms(v))
        if "period_ms" not in task and "deadline_ms" not in task:
            # like HRT contracts: each defaults to the other, so one of them is enough
            yield doc.diag("AC102", base, at_key=True, message="missing required key `period_ms`",
                           hint="give `period_ms` or `deadline_ms` (each defaults to the other)")
        core = _int(task.get("core"))
        if isinstance(core, int) and not isinstance(core, bool) and isinstance(cores, int):
            if not 0 <= core < cores:
                yield doc.diag("AC231", f"{base}/core", task=name, core=core, cores=cores)
        if scheduler == "FP" and "priority" not in task:
            yield doc.diag("AC232", base, task=name)
        prio = _int(task.get("priority"))
        if isinstance(prio, int) and not isinstance(prio, bool) and prio < 1:
            yield doc.diag("AC117", f"{base}/priority", field="priority", value=prio)
    if isinstance(cores, int) and not isinstance(cores, bool) and cores < 1:
        yield doc.diag("AC117", "/cores", field="cores", value=cores)
