"""``agentos sched PATHS...``: exact schedulability of task sets and HRT contracts.

Every ``TaskSet`` document is one set; all HRT contracts of a run form one more set
(``hrt-contracts``) on one core under EDF unless ``--scheduler``/``--cores`` say
otherwise (docs/sched.md). Documents are validated first; other kinds are skipped.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, List, Optional

import typer

from agentos_contracts.cli.options import (CI_FORMATS, IGNORE, OUTPUT, PATHS, QUIET, REPORT_FORMAT, STDIN_FILENAME, VERBOSE,
                                          ValidateFormat, drop_ignored, guarded, print_json, render_ci, say, settings,
                                          start)

GANTT_MAX_JOBS = 5_000
OUTPUT_CODES = frozenset({"AC001", "AC007", "AC901", "AC905", "AC405", "AC406", "AC014", "AC403"})  # nothing read or written


class SchedulerChoice(str, Enum):
    RM = "RM"
    DM = "DM"
    FP = "FP"
    EDF = "EDF"


class SolverChoice(str, Enum):
    auto = "auto"
    highs = "highs"
    cbc = "cbc"


def command(
    paths: List[str] = PATHS,
    format: Optional[ValidateFormat] = REPORT_FORMAT,
    gantt: Optional[str] = typer.Option(None, "--gantt", metavar="FILE",
                                        help="Write an SVG Gantt chart of the simulated schedule."),
    horizon: Optional[float] = typer.Option(None, "--horizon", metavar="MS",
                                            help="Window to simulate for --gantt (default: one hyperperiod)."),
    scheduler: Optional[SchedulerChoice] = typer.Option(None, "--scheduler",
                                                        help="Analyse under this scheduler instead of the documents'."),
    cores: Optional[int] = typer.Option(None, "--cores", min=1, help="Cores for the set of HRT contracts (default 1)."),
    solver: SolverChoice = typer.Option(SolverChoice.auto, "--solver", help="MILP solver for partitioning."),
    time_limit: float = typer.Option(60.0, "--time-limit", min=0.1,
                                     help="Wall-clock seconds for the whole command; sets not decided by then are `unknown`."),
    sensitivity: Optional[bool] = typer.Option(None, "--sensitivity/--no-sensitivity",
                                               help="WCET headroom (default: for sets of up to 64 tasks)."),
    ignore: List[str] = IGNORE,
    output: Optional[str] = OUTPUT,
    stdin_filename: Optional[str] = STDIN_FILENAME,
    quiet: bool = QUIET,
    verbose: bool = VERBOSE,
) -> None:
    """Schedulability analysis of task sets or the HRT contracts in the paths."""
    guarded(lambda: _run(paths, start(format, stdin_filename=stdin_filename, verbose=verbose, quiet=quiet,
                                      choices=ValidateFormat),
                         gantt, horizon, scheduler, cores, solver, time_limit, sensitivity, ignore, output))


def _run(paths: list[str], format: ValidateFormat, gantt: str | None, horizon: float | None,
         scheduler: SchedulerChoice | None, cores: int | None, solver: SolverChoice, time_limit: float,
         sensitivity: bool | None, ignore: list[str], output: str | None = None) -> int:
    from agentos_contracts.model.tasks import Scheduler
    from agentos_contracts.report import schedule
    from agentos_contracts.report import text as text_report
    from agentos_contracts.sched import analyse

    from agentos_contracts.cli.options import usage_error
    from agentos_contracts.model.units import UnitError, ms_to_ns

    if horizon is not None:
        try:
            if ms_to_ns(horizon) <= 0:
                raise UnitError("not positive")
        except UnitError:
            usage_error(f"`--horizon {horizon}` is not a positive number of ms with at most 6 decimals",
                        "give the simulated window in milliseconds, e.g. `--horizon 100`",
                        json_doc={"reports": []} if format is ValidateFormat.json else None)
    from agentos_contracts.model.tasks import MAX_CORES

    if cores is not None and cores > MAX_CORES:
        usage_error(f"`--cores {cores}` is over the limit of {MAX_CORES}", "analyse the cores the set really uses",
                    json_doc={"reports": []} if format is ValidateFormat.json else None)
    override = Scheduler(scheduler.value) if scheduler else None
    reports: list[tuple[Any, Any, list[str] | None]] = []
    diags: list[Any] = []
    inputs = Inputs()
    clock = WallClock(time_limit)
    try:
        with clock:
            inputs = collect(paths, override, cores or 1)
            diags.extend(inputs.diagnostics)
            for ts, files in inputs.sets:
                report = analyse(ts, sensitivity=sensitivity, solver=solver.value, time_limit_s=clock.remaining())
                reports.append((report, ts, files))
                diags.extend(_findings(report, ts))
            if gantt:
                diags.extend(_draw(gantt, [(r, ts) for r, ts, _ in reports if ts is not None], horizon))
    except OutOfTime:
        diags.extend(_out_of_time(time_limit, paths, inputs, reports, gantt is not None))
    reports.extend((r, None, files) for r, files in inputs.blocked)
    diags = drop_ignored(diags, ignore, texts=inputs.sources)
    from agentos_contracts.diagnostics import sort_diagnostics

    diags = sort_diagnostics(diags)
    errors = any(d.is_error for d in diags)
    all_ok = all(r.schedulable for r, _, _ in reports)
    if format.value in CI_FORMATS:
        render_ci(format.value, "sched", [f for _, _, files in reports for f in files or []]
                  + [d.file for d in diags if not d.file.startswith("<")], diags, output or settings.config.output,
                  inputs.sources)
    elif format is ValidateFormat.json:
        print_json({"ok": not errors and all_ok and bool(reports), "diagnostics": [d.to_json() for d in diags],
                    "reports": [schedule.report_json(r, files) for r, _, files in reports]})
    else:
        for r, _, _ in reports:
            if not settings.quiet:
                schedule.render_text(r, sys.stdout)
                sys.stdout.write("\n")
        text_report.render_diagnostics(diags, inputs.sources, sys.stdout)
        bad = sum(1 for r, _, _ in reports if not r.schedulable)
        say(sys.stdout, f"{len(reports)} task set{'s' if len(reports) != 1 else ''} analysed, "
                         f"{bad} not schedulable\n")
    if any(d.code in OUTPUT_CODES and d.is_error for d in diags):
        return 2
    return 1 if errors or not all_ok else 0


class OutOfTime(Exception):
    """Raised by the wall clock's alarm wherever the command happens to be."""


class WallClock:
    """``--time-limit`` over the whole command: an interval timer raises ``OutOfTime`` in the
    main thread when the time is up (the MILP solver also gets the time that is left).

    Outside the main thread no alarm can be set; the limit then only bounds the solver.
    """

    def __init__(self, seconds: float) -> None:
        import time

        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self._old: Any = None
        self._armed = False

    def remaining(self) -> float:
        import time

        return max(0.0, self.deadline - time.monotonic())

    def __enter__(self) -> "WallClock":
        import signal
        import threading

        if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGALRM, _alarm)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
            self._armed = True
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        if self._armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old)


def _alarm(signum: int, frame: Any) -> None:
    import signal

    from agentos_contracts import native_output

    if native_output.in_transition():  # never between two dup2 calls: try again in 1 ms
        signal.setitimer(signal.ITIMER_REAL, 0.001)
        return
    raise OutOfTime()


def _out_of_time(limit: float, paths: list[str], inputs: "Inputs",
                 reports: list[tuple[Any, Any, list[str] | None]], drawing: bool) -> list[Any]:
    """Fail closed when the time is up: every set not yet decided is ``unknown``, with the reason."""
    from agentos_contracts import diagnostics as dg
    from agentos_contracts.diagnostics import Span
    from agentos_contracts.sched import SchedReport, Verdict

    why = f"the wall-clock time limit of {limit:g} s (--time-limit) ran out before this set was decided"
    done = {id(ts) for _, ts, _ in reports}
    out: list[Any] = []
    for ts, files in inputs.sets:
        if id(ts) in done:
            continue
        report = SchedReport(name=ts.name, scheduler=ts.scheduler.value, cores=ts.cores, verdict=Verdict.UNKNOWN,
                             utilization=ts.utilization, tasks=(), reason=why, method="time limit",
                             file=ts.file, span=ts.span)
        reports.append((report, ts, files))
        out.extend(_findings(report, ts))
    if not inputs.sets and not inputs.blocked:
        where = "while reading and checking the inputs"
        out.append(dg.make("AC411", Span.file_start(paths[0] if paths else "<command line>"), limit=f"{limit:g}",
                           where=where))
    elif drawing and len(done) == len(inputs.sets):
        out.append(dg.make("AC411", Span("<command line>"), limit=f"{limit:g}", where="while drawing the schedule"))
    return out


@dataclass
class Inputs:
    sets: list[tuple[Any, list[str] | None]] = field(default_factory=list)  # (TaskSet, files of a contract set)
    blocked: list[tuple[Any, list[str] | None]] = field(default_factory=list)  # reports of sets not analysed
    diagnostics: list[Any] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)


def collect(paths: list[str], scheduler: Any, cores: int) -> Inputs:
    """Load and validate; every valid TaskSet is a set, all HRT contracts together are one more.

    Only task sets and HRT contracts are checked beyond their header (other documents are
    `agentos validate`'s business); a set with an invalid member is not analysed (fail closed).
    """
    from agentos_contracts import diagnostics as dg
    from agentos_contracts.diagnostics import Span
    from agentos_contracts.sched import SchedReport, Verdict
    from agentos_contracts.validate import build
    from agentos_contracts.validate.contract import check_contract
    from agentos_contracts.validate.header import check_header
    from agentos_contracts.validate.pipeline import load_documents
    from agentos_contracts.validate.schema import check_schema_view
    from agentos_contracts.validate.taskset import check_taskset

    _, docs, sources, diags = load_documents(paths)
    out = Inputs(diagnostics=list(diags), sources=sources)
    hrt: list[Any] = []
    broken: list[tuple[str, Any]] = []  # (name, document) of HRT contracts with errors
    for doc in docs:
        head = check_header(doc)
        out.diagnostics.extend(head)
        is_set = doc.kind == "TaskSet"
        if head or not (is_set or build.is_hrt_contract(doc.data)):
            continue
        found, view = check_schema_view(doc)
        if view is not None:  # the checks read only what the schema accepted
            found = found + (check_taskset(view) if is_set else check_contract(view))
        out.diagnostics.extend(found)
        if any(d.is_error for d in found):
            if not is_set:
                broken.append((str(doc.data.get("name", "?")), doc))
            continue
        if not is_set:
            hrt.append(doc)
        elif not doc.data.get("tasks"):
            out.diagnostics.append(doc.diag("AC407", "/tasks", name=doc.name))
        else:
            _add(out, build.build_taskset(doc.data, doc.file, span_of=doc.key_span, scheduler=scheduler), None)
    if hrt or broken:
        files = sorted({doc.file for doc in hrt})
        seen: dict[str, Any] = {}
        tasks = []
        for doc in hrt:
            task = build.build_task(doc.data, span_of=doc.key_span)
            assert task is not None  # only HRT contracts are collected
            if task.name in seen:
                out.diagnostics.append(doc.diag("AC230", "/name", name=task.name))
                broken.append((task.name, doc))
                continue
            seen[task.name] = doc
            tasks.append(task)
        ts = build.build_contracts_taskset(tasks, scheduler=scheduler, cores=cores, file=files[0] if files else "")
        if broken or not tasks:
            names = ", ".join(f"`{n}`" for n, _ in broken)
            first = broken[0][1] if broken else None
            span = first.key_span("/name") if first is not None and "name" in first.data else \
                Span.file_start(first.file if first is not None else (paths[0] if paths else "-"))
            out.diagnostics.append(dg.make("AC404", span, path="/name", names=names))
            out.blocked.append((SchedReport(name=ts.name, scheduler=ts.scheduler.value, cores=ts.cores,
                                            verdict=Verdict.UNKNOWN, utilization=ts.utilization, tasks=(),
                                            reason=f"contracts with errors: {names}", file=ts.file), files))
        else:
            _add(out, ts, files)
    if not out.sets and not out.blocked and not any(d.is_error for d in out.diagnostics):
        out.diagnostics.append(dg.make("AC403", Span.file_start(paths[0] if paths else "<command line>")))
    return out


def _add(out: Inputs, ts: Any, files: list[str] | None) -> None:
    """Queue a set for analysis; under `--scheduler FP` every task needs a priority first."""
    from agentos_contracts import diagnostics as dg
    from agentos_contracts.diagnostics import Span

    missing = [t for t in ts.tasks if t.priority is None] if ts.scheduler.value == "FP" else []
    for t in missing:
        out.diagnostics.append(dg.make("AC232", t.span or Span.file_start(ts.file or "-"), path=t.path, task=t.name))
    if not missing:
        out.sets.append((ts, files))


def _findings(report: Any, ts: Any) -> list[Any]:
    """Located diagnostics for a set that is not schedulable (or undecided)."""
    from agentos_contracts import diagnostics as dg
    from agentos_contracts.diagnostics import Span
    from agentos_contracts.model.units import ns_to_ms_text
    from agentos_contracts.report.schedule import explain_task
    from agentos_contracts.sched import Verdict

    if report.verdict is Verdict.SCHEDULABLE:
        return []
    tasks = {t.name: t for t in ts.tasks}
    first = next((t.span for t in ts.tasks if t.span is not None), None)
    where = ts.span or first or Span.file_start(ts.file or "-")
    path = "" if ts.span else next((t.path for t in ts.tasks if t.span is not None), "")
    headroom = dict(report.sensitivity.max_wcet_ns) if report.sensitivity else {}
    if report.verdict is Verdict.UNKNOWN:
        return [dg.make("AC402", where, path=path, name=ts.name, reason=report.reason or "a limit was reached",
                        hint="raise `--time-limit`, or simplify the set (fewer cores, shorter hyperperiod)")]
    out = []
    if ts.scheduler.value != "EDF":
        for r in report.tasks:
            if r.schedulable is not False:
                continue
            task = tasks[r.name]
            detail = (f"R = {ns_to_ms_text(r.response_time_ns)} ms > D = {ns_to_ms_text(task.deadline_ns)} ms"
                      if r.response_time_ns is not None else (r.note or "no bounded response time"))
            hint = explain_task(r, task.period_ns, task.jitter_ns) if r.window_ns is not None else ""
            fit = headroom.get(r.name)
            if fit is not None and fit < task.wcet_ns:
                hint += f"; it would fit with `wcet_ms` <= {ns_to_ms_text(fit)}"
            if report.suggested_priorities:
                hint += "; priorities " + ", ".join(report.suggested_priorities) + " (highest first) would work"
            out.append(dg.make("AC400", task.span or where, path=task.path, task=r.name, detail=detail,
                               hint=hint.lstrip("; ") or "lower its WCET or jitter, or those of higher-priority tasks"))
    if not out:
        hint = "lower the WCETs"
        sens = report.sensitivity
        if sens is not None and sens.scaling_factor is not None and sens.scaling_factor < 1:
            hint = f"every WCET scaled by {float(sens.scaling_factor):.6f} or less would fit"
        out.append(dg.make("AC401", where, path=path, name=ts.name, reason=report.reason or "a deadline is missed",
                           hint=hint))
    return out


def _draw(target: str, sets: list[tuple[Any, Any]], horizon: float | None) -> list[Any]:
    """One SVG per task set: FILE for the first, FILE-<name>.svg for the others."""
    from agentos_contracts import diagnostics as dg
    from agentos_contracts.diagnostics import Span
    from agentos_contracts.model.units import ms_to_ns
    from agentos_contracts.report import gantt
    from agentos_contracts.sched import sim

    out = []
    here = Span("<command line>")
    for n, (report, ts) in enumerate(sets):
        path = Path(target) if n == 0 else Path(target).with_name(f"{Path(target).stem}-{ts.name}{Path(target).suffix}")
        if any(t.core is None for t in report.tasks):
            out.append(dg.make("AC405", here, name=ts.name, reason="no partition onto cores was found"))
            continue
        lanes = []
        refused = ""
        for core in range(ts.cores):
            members = [t for t, r in zip(ts.tasks, report.tasks) if r.core == core]
            if not members:
                continue
            result = sim.simulate(members, ts.scheduler, max_jobs=GANTT_MAX_JOBS,
                                  horizon_ns=None if horizon is None else ms_to_ns(horizon))
            refused = refused or result.refused
            lanes.append((core, result))
        if refused:
            out.append(dg.make("AC405", here, name=ts.name, reason=refused))
            continue
        title = f"{ts.name}: {ts.scheduler.value}, {report.verdict.value}"
        try:
            with open(path, "w", encoding="utf-8") as fh:
                gantt.render(title, lanes, fh)
        except OSError as exc:
            out.append(dg.make("AC406", here, file=str(path), reason=exc.strerror or str(exc)))
    return out
