"""Schedulability reports for people (text) and machines (the ``sched`` JSON shape of interfaces.md).

Render only: every number comes from ``sched.SchedReport``; times are exact decimal
milliseconds (``ns_to_ms_text``), never float noise.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from typing import Any, TextIO

from agentos_contracts.model.units import fraction_text, ns_to_ms_number, ns_to_ms_text
from agentos_contracts.sched.result import DemandWitness, SchedReport, TaskResponse, Verdict


def rounded(value: Fraction, places: int = 6) -> float:
    """Exact rounding of a fraction to ``places`` decimals (half to even), as a JSON number."""
    with localcontext() as ctx:
        ctx.prec = 60
        d = Decimal(value.numerator) / Decimal(value.denominator)
        return float(d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))


def _ms(ns: int | Fraction | None) -> int | float | None:
    return None if ns is None else ns_to_ms_number(ns)


def _witness(w: DemandWitness | None) -> dict[str, Any] | None:
    if w is None:
        return None
    return {"core": w.core, "t_ms": _ms(w.t_ns), "demand_ms": _ms(w.demand_ns), "blocking_ms": _ms(w.blocking_ns),
            "jobs": [{"task": j.task, "jobs": j.jobs, "work_ms": _ms(j.work_ns)} for j in w.jobs]}


def task_json(t: TaskResponse, max_wcet: dict[str, int | None]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": t.name, "core": t.core, "response_time_ms": _ms(t.response_time_ns),
                           "deadline_ms": _ms(t.deadline_ns), "period_ms": _ms(t.period_ns),
                           "wcet_ms": _ms(t.wcet_ns), "jitter_ms": _ms(t.jitter_ns),
                           "blocking_ms": _ms(t.blocking_ns), "schedulable": t.schedulable}
    if t.name in max_wcet:
        out["max_wcet_ms"] = _ms(max_wcet[t.name])
    if t.interference or t.schedulable is False:
        out["explanation"] = {"job": t.job, "window_ms": _ms(t.window_ns), "own_ms": _ms(t.own_ns),
                              "blocking_ms": _ms(t.blocking_ns), "note": t.note,
                              "interference": [{"task": i.task, "jobs": i.jobs, "work_ms": _ms(i.work_ns)}
                                               for i in t.interference]}
    return out


def report_json(r: SchedReport, files: list[str] | None = None) -> dict[str, Any]:
    """One entry of ``reports`` (interfaces.md; more keys may be added, none renamed)."""
    u = r.utilization
    sens = r.sensitivity
    max_wcet = dict(sens.max_wcet_ns) if sens else {}
    out: dict[str, Any] = {
        "file": r.file, "name": r.name, "scheduler": r.scheduler, "cores": r.cores,
        "verdict": r.verdict.value, "schedulable": r.verdict is Verdict.SCHEDULABLE,
        "utilization": rounded(u), "utilization_exact": fraction_text(u),
        "reason": r.reason, "method": r.method,
        "tasks": [task_json(t, max_wcet) for t in r.tasks],
        "suggested_priorities": None if r.suggested_priorities is None else
        [{"name": n, "priority": k} for k, n in enumerate(r.suggested_priorities, 1)],
        "bounds": [{"name": b.name, "applicable": b.applicable, "passed": b.passed, "detail": b.detail}
                   for b in r.bounds],
        "witness": _witness(r.witness),
        "sensitivity": None if sens is None else {
            "scaling_factor": None if sens.scaling_factor is None else
            f"{sens.scaling_factor.numerator}/{sens.scaling_factor.denominator}",
            "scaling_factor_value": None if sens.scaling_factor is None else rounded(sens.scaling_factor),
            "exact": sens.exact, "note": sens.note},
    }
    if files is not None:
        out["files"] = files
    return out


def _pad(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def explain_task(t: TaskResponse, period_ns: int | None = None, jitter_ns: int = 0) -> str:
    """Why a fixed-priority task misses: its worst job's window w, piece by piece, and R from w."""
    if t.window_ns is None or t.job is None:
        return f"`{t.name}`: {t.note or 'misses its deadline'}"
    parts = [f"own {ns_to_ms_text(t.own_ns)} ms" + (f" ({t.job + 1} jobs)" if t.job else "")]
    if t.blocking_ns:
        parts.append(f"blocking {ns_to_ms_text(t.blocking_ns)} ms")
    parts += [f"`{i.task}` {i.jobs}×{ns_to_ms_text(i.work_ns // i.jobs)} ms" for i in t.interference if i.jobs]
    text = f"`{t.name}` job {t.job}: w = {ns_to_ms_text(t.window_ns)} ms = " + " + ".join(parts)
    if t.response_time_ns is not None and (t.job or jitter_ns):
        offset = f" - {t.job}×{ns_to_ms_text(period_ns)}" if t.job and period_ns else ""
        text += f"; R = w{offset} + J {ns_to_ms_text(jitter_ns)} ms = {ns_to_ms_text(t.response_time_ns)} ms"
    return text


def render_text(r: SchedReport, stream: TextIO) -> None:
    u = r.utilization
    where = f"  ({r.file})" if r.file else ""
    cores = f"{r.cores} core" + ("s" if r.cores != 1 else "")
    stream.write(f"{r.name}{where}: {r.scheduler} on {cores}" + (f", {r.method}" if r.cores > 1 else "") + "\n")
    stream.write(f"  verdict: {r.verdict.value}   U = {rounded(u)} ({u.numerator}/{u.denominator})\n")
    if r.reason:
        stream.write(f"  reason: {r.reason}\n")
    max_wcet = dict(r.sensitivity.max_wcet_ns) if r.sensitivity else {}
    rows = [["task", "core", "R ms", "D ms", "max C ms", ""]]
    for t in r.tasks:
        status = {True: "ok", False: "MISS", None: "?" if r.verdict is not Verdict.SCHEDULABLE else "ok"}[t.schedulable]
        rt = "-" if t.response_time_ns is None else ns_to_ms_text(t.response_time_ns)
        mw = max_wcet.get(t.name)
        rows.append([t.name, "-" if t.core is None else str(t.core), rt, ns_to_ms_text(t.deadline_ns),
                     "-" if mw is None else ns_to_ms_text(mw), status])
    stream.write("\n".join(_pad(rows)) + "\n")
    for t in r.tasks:
        if t.schedulable is False and r.scheduler != "EDF":
            stream.write("  why: " + explain_task(t, t.period_ns, t.jitter_ns) + "\n")
    if r.witness is not None:
        w = r.witness
        jobs = ", ".join(f"`{j.task}` ×{j.jobs} ({ns_to_ms_text(j.work_ns)} ms)" for j in w.jobs)
        stream.write(f"  why: jobs due by {ns_to_ms_text(w.t_ns)} ms need {ns_to_ms_text(w.demand_ns)} ms"
                     + (f" + blocking {ns_to_ms_text(w.blocking_ns)} ms" if w.blocking_ns else "") + f": {jobs}\n")
    if r.suggested_priorities:
        order = ", ".join(f"{n}={k}" for k, n in enumerate(r.suggested_priorities, 1))
        stream.write(f"  suggested priorities (Audsley; schedulable with scheduler FP): {order}\n")
    if r.bounds:
        shown = [f"{b.name} {'pass' if b.passed else 'fail'}" for b in r.bounds if b.applicable]
        if shown:
            stream.write("  sufficient tests: " + ", ".join(shown) + "\n")
    if r.sensitivity and r.sensitivity.scaling_factor is not None:
        a = r.sensitivity.scaling_factor
        kind = "exact" if r.sensitivity.exact else "lower bound"
        verb = "may grow" if a >= 1 else "must shrink"
        stream.write(f"  headroom: every WCET {verb} to ×{rounded(a)} ({kind})\n")
