"""Partitioned multicore scheduling: heuristics first, then an ILP, every core re-checked exactly.

The ILP (PuLP; HiGHS by default, CBC as the fallback) has x[i, c] = 1 when task i runs on
core c, one core per task, pinned tasks fixed, and only *necessary* conditions as rows:
per-core utilisation ≤ 1 plus cuts learnt from the exact test. An answer is accepted
only when every core passes the exact test; otherwise the failing core yields a cut
valid for every core and the ILP is solved again:

- fixed priority: the failing task with a minimal subset of its higher-priority tasks
  already misses, so "not all of them on one core" (a no-good cut);
- EDF: the witness t bounds the demand, Σ dbf_i(t)·x[i, c] (+ blocking) ≤ t on every core.

An infeasible ILP therefore proves that no partition exists. Solver statuses are read
from the solver itself (PuLP labels a time-limited incumbent "Optimal"); running out of
time gives the verdict unknown, never a guess.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from agentos_contracts.model.tasks import Scheduler, Task, TaskSet
from agentos_contracts.native_output import contained
from agentos_contracts.sched import binpack, fp
from agentos_contracts.sched.result import CoreResult, Verdict

REPAIR_ROUNDS = 3  # re-packing is cheap next to a solve early on, wasted once the ILP is far from an answer
SOLVER_FAILED = "the solver failed"
EPS = 1e-6  # rows are relaxed by this much so float rounding never cuts off a feasible partition

CoreTest = Callable[[Sequence[Task], int], CoreResult]


@dataclass(frozen=True, slots=True, kw_only=True)
class PartitionResult:
    verdict: Verdict
    assignment: tuple[int, ...] | None  # core per task, in input order
    method: str
    reason: str = ""
    solver: str = ""
    optimal: bool | None = None  # for the balance objective: proven optimal by the solver
    rounds: int = 0
    seconds: float = 0.0


def solver_names() -> list[str]:
    """Available MILP solvers in preference order."""
    import pulp

    have = set(pulp.listSolvers(onlyAvailable=True))
    return [n for n, key in (("highs", "HiGHS"), ("cbc", "PULP_CBC_CMD")) if key in have]


def partition(ts: TaskSet, test: CoreTest, *, verdict: Callable[[list[Task]], bool] | None = None,
              solver: str = "auto", time_limit_s: float = 10.0, heuristics: bool = True,
              objective: str = "feasible", max_rounds: int = 500) -> PartitionResult:
    """Assign ``ts.tasks`` to ``ts.cores`` cores so that ``test`` passes on every core.

    ``verdict`` is the same exact test answering only yes/no (faster, for packing);
    ``test`` explains failures, which the ILP turns into cuts.
    """
    start = time.monotonic()
    tasks = ts.tasks
    pos = {t.name: n for n, t in enumerate(tasks)}

    def check(members: list[Task], core: int = 0) -> CoreResult:
        return test(sorted(members, key=lambda t: pos[t.name]), core)

    def fits(members: list[Task]) -> bool:
        ordered = sorted(members, key=lambda t: pos[t.name])
        if verdict is not None:
            return verdict(ordered)
        return test(ordered, 0).verdict is Verdict.SCHEDULABLE

    if heuristics and objective == "feasible":
        strategies = ["first-fit", "worst-fit"] + (["period-phase"] if ts.scheduler.is_fixed_priority else [])
        for strategy in strategies:
            where, _ = binpack.pack(tasks, ts.cores, fits, strategy)
            if where is not None:
                label = "first-fit by period phase" if strategy == "period-phase" else f"{strategy} decreasing"
                return PartitionResult(verdict=Verdict.SCHEDULABLE, assignment=tuple(where),
                                       method=label, seconds=time.monotonic() - start)
    names = solver_names()
    if solver != "auto":
        names = [n for n in names if n == solver]
    if not names:
        return PartitionResult(verdict=Verdict.UNKNOWN, assignment=None, method="ilp",
                               reason=f"no MILP solver available ({solver})", seconds=time.monotonic() - start)
    result = _ilp(ts, check, fits, names[0], start + time_limit_s, objective, max_rounds, start)
    if result.reason.endswith(SOLVER_FAILED) and len(names) > 1 and time.monotonic() < start + time_limit_s:
        return _ilp(ts, check, fits, names[1], start + time_limit_s, objective, max_rounds, start)  # the fallback
    return result


def _ilp(ts: TaskSet, check: Callable[[list[Task], int], CoreResult], fits: Callable[[list[Task]], bool],
         solver: str, deadline: float, objective: str, max_rounds: int, start: float) -> PartitionResult:
    import pulp

    tasks, m = ts.tasks, ts.cores
    n = len(tasks)
    prob = pulp.LpProblem("partition", pulp.LpMinimize)
    x = {(i, c): _variable(prob, f"x_{i}_{c}", 0, 1, "Binary") for i in range(n) for c in range(m)
         if tasks[i].core is None or tasks[i].core == c}
    if objective == "balance":
        z = _variable(prob, "max_load", 0, None, "Continuous")
        prob += z
    else:
        prob += pulp.lpSum([])
    for i in range(n):
        prob += pulp.lpSum(x[i, c] for c in range(m) if (i, c) in x) == 1
    for c in range(m):
        load = pulp.lpSum(float(tasks[i].utilization) * x[i, c] for i in range(n) if (i, c) in x)
        prob += load <= 1 + EPS
        if objective == "balance":
            prob += load <= z
    seen: set[tuple[object, ...]] = set()
    label = {"highs": "HiGHS", "cbc": "CBC"}[solver]
    for rnd in range(1, max_rounds + 1):
        left = deadline - time.monotonic()
        if left <= 0:
            return _stop(Verdict.UNKNOWN, f"time limit reached after {rnd - 1} ILP rounds", label, rnd - 1, start)
        status = _solve(prob, solver, left)
        if status == "infeasible":
            return _stop(Verdict.UNSCHEDULABLE, "no partition satisfies the necessary conditions (ILP infeasible)",
                         label, rnd, start)
        if status in ("none", "error"):
            why = "time limit reached without a solution" if status == "none" else SOLVER_FAILED
            return _stop(Verdict.UNKNOWN, f"{label}: {why}", label, rnd, start)
        where = [-1] * n
        for (i, c), var in x.items():
            if (var.value() or 0) > 0.5:
                where[i] = c if where[i] < 0 else -2
        if any(w < 0 for w in where):
            return _stop(Verdict.UNKNOWN, f"{label} returned an assignment that is not one core per task", label, rnd, start)
        cuts = 0
        undecided = ""
        failing: list[int] = []
        for c in range(m):
            members = [tasks[i] for i in range(n) if where[i] == c]
            if not members:
                continue
            res = check(members, c)
            if res.verdict is Verdict.SCHEDULABLE:
                continue
            failing.append(c)
            if res.verdict is Verdict.UNKNOWN:
                undecided = res.reason
                continue
            rows = [(k, r) for k, r in _cuts(res, members, tasks, x, m, ts.scheduler) if k not in seen]
            if not rows:  # the solver met a cut only within its tolerance: forbid this very core
                rows = [(k, r) for k, r in _nogood(members, tasks, x, m) if k not in seen]
            for key, row in rows:
                seen.add(key)
                prob += row
                cuts += 1
        if not failing:  # every core passed the exact test: the only way to "schedulable" from the ILP
            optimal = (status == "optimal") if objective == "balance" else None
            return PartitionResult(verdict=Verdict.SCHEDULABLE, assignment=tuple(where), method=f"ilp ({label})",
                                   solver=label, optimal=optimal, rounds=rnd, seconds=time.monotonic() - start)
        if objective == "feasible" and rnd <= REPAIR_ROUNDS:
            repaired = _repair(tasks, where, failing, m, fits, ts.scheduler)
            if repaired is not None:
                return PartitionResult(verdict=Verdict.SCHEDULABLE, assignment=tuple(repaired),
                                       method=f"ilp ({label}) + repair", solver=label, rounds=rnd,
                                       seconds=time.monotonic() - start)
        if not cuts:
            why = f"exact test undecided on a core: {undecided}" if undecided else "no new cut excludes a failing core"
            return _stop(Verdict.UNKNOWN, why, label, rnd, start)
    return _stop(Verdict.UNKNOWN, f"no verified partition after {max_rounds} ILP rounds", label, max_rounds, start)


def _repair(tasks: Sequence[Task], where: list[int], failing: list[int], m: int,
            fits: Callable[[list[Task]], bool], scheduler: Scheduler) -> list[int] | None:
    """Keep the ILP's passing cores and re-pack the tasks of failing ones by first fit.

    Every core is admitted by the exact test as it is filled, so the answer is as verified
    as any other; this only turns a nearly right ILP answer into a right one without
    another solve."""
    keep = [-1 if (w in failing and tasks[i].core is None) else w for i, w in enumerate(where)]
    strategy = "period-phase" if scheduler.is_fixed_priority else "first-fit"
    out, _ = binpack.pack(tasks, m, fits, strategy, placed=keep)
    return out


def _stop(verdict: Verdict, reason: str, label: str, rounds: int, start: float) -> PartitionResult:
    return PartitionResult(verdict=verdict, assignment=None, method=f"ilp ({label})", reason=reason, solver=label,
                           rounds=rounds, seconds=time.monotonic() - start)


def _cuts(res: CoreResult, members: list[Task], tasks: Sequence[Task], x: dict[tuple[int, int], Any], m: int,
          scheduler: Scheduler) -> list[tuple[tuple[object, ...], Any]]:
    """Rows excluding this failure on every core (each a necessary condition)."""
    import pulp

    index = {t.name: i for i, t in enumerate(tasks)}
    out: list[tuple[tuple[object, ...], Any]] = []
    if res.witness is not None:  # EDF: demand at the witness
        t = res.witness.t_ns
        coef = {index[s.name]: Fraction(s.dbf(t)) for s in members if s.dbf(t)}
        blocker = max((s for s in members if s.effective_deadline_ns <= t and s.blocking_ns),
                      key=lambda s: s.blocking_ns, default=None)
        for c in range(m):
            terms = [float(v / t) * x[i, c] for i, v in coef.items() if (i, c) in x]
            if blocker is not None and (index[blocker.name], c) in x:
                terms.append(float(blocker.blocking_ns / t) * x[index[blocker.name], c])
            out.append((("dbf", t, blocker.name if blocker else "", c), pulp.lpSum(terms) <= 1 + EPS))
        return out
    if scheduler is Scheduler.EDF:  # no witness: a hopeless task, or utilisation just above 1
        hopeless = [t for t in members if t.effective_deadline_ns <= 0]
        return _nogood(hopeless[:1] or members, tasks, x, m)
    out.extend(_window_rows(res, tasks, x, m, scheduler))
    out.extend(_nogood(_minimal_failing(res, members), tasks, x, m))
    return out


def _nogood(subset: Sequence[Task], tasks: Sequence[Task], x: dict[tuple[int, int], Any],
            m: int) -> list[tuple[tuple[object, ...], Any]]:
    """``subset`` fails together, so on no core may all of it run (a valid cut on every core)."""
    import pulp

    index = {t.name: i for i, t in enumerate(tasks)}
    ids = sorted(index[s.name] for s in subset)
    out: list[tuple[tuple[object, ...], Any]] = []
    for c in range(m):
        vars_ = [x[i, c] for i in ids if (i, c) in x]
        if len(vars_) == len(ids):  # only where all of them may run
            out.append((("nogood", tuple(ids), c), pulp.lpSum(vars_) <= len(ids) - 1))
    return out


def _window_rows(res: CoreResult, tasks: Sequence[Task], x: dict[tuple[int, int], Any], m: int,
                 scheduler: Scheduler) -> list[tuple[tuple[object, ...], Any]]:
    """For the failing task i: job 0 must fit its window D' = D - J, which needs
    B + C_i + Σ_{j ∈ hp(i) on c} max(C_j, (D' + J_j)·U_j) ≤ D' wherever i runs.

    Necessary because ⌈(t + J)/T⌉·C ≥ max(C, (t + J)·U) and W(t) - t does not increase
    with t while the core's utilisation is at most 1; written with big-M on x[i, c]."""
    import pulp

    bad = next((r for r in res.tasks if r.schedulable is False), None)
    if bad is None:
        return []
    i = next(n for n, t in enumerate(tasks) if t.name == bad.name)
    victim = tasks[i]
    window = victim.effective_deadline_ns
    if window <= 0:
        return [(("window", i, c), x[i, c] <= 0) for c in range(m) if (i, c) in x]
    rank = {t.name: n for n, t in enumerate(fp.priority_order(tasks, scheduler))}
    room = Fraction(window - victim.wcet_ns - victim.blocking_ns, window)
    coef = {j: max(Fraction(t.wcet_ns), (window + t.jitter_ns) * t.utilization) / window
            for j, t in enumerate(tasks) if rank[t.name] < rank[victim.name]}
    big = float(sum(coef.values())) + 1
    out: list[tuple[tuple[object, ...], Any]] = []
    for c in range(m):
        if (i, c) not in x:
            continue
        terms = [float(v) * x[j, c] for j, v in coef.items() if (j, c) in x]
        row = pulp.lpSum(terms) + big * x[i, c] <= float(room) + big + EPS
        out.append((("window", i, c), row))
    return out


def _minimal_failing(res: CoreResult, members: list[Task]) -> list[Task]:
    """A small subset of the core that already fails: the failing fixed-priority task with as
    few of its higher-priority tasks as still make it miss (the whole core if none is named)."""
    bad = next((r for r in res.tasks if r.schedulable is False), None)
    if bad is None:
        return members
    order = [r.name for r in res.tasks]  # priority order
    by_name = {t.name: t for t in members}
    if bad.name not in order or bad.name not in by_name:
        return members
    victim = by_name[bad.name]
    hp = [by_name[nm] for nm in order[: order.index(bad.name)]]
    for h in sorted(hp, key=lambda t: (t.utilization, t.name)):
        trial = [t for t in hp if t is not h]
        if fp.response_time(victim, trial, stop_at_miss=True).schedulable is False:
            hp = trial
    return hp + [victim]


def _variable(prob: Any, name: str, low: float | None, high: float | None, cat: str) -> Any:
    """PuLP 3 adds variables through the problem; older PuLP constructs them directly."""
    import pulp

    add = getattr(prob, "add_variable", None)
    if add is not None:
        return add(name, low, high, cat=cat)
    return pulp.LpVariable(name, lowBound=low, upBound=high, cat=cat)


def _solve(prob: Any, solver: str, time_limit: float) -> str:
    """'optimal' | 'feasible' | 'infeasible' | 'none' (no solution within the limit) | 'error'."""
    import pulp

    if solver == "highs":
        import highspy

        cmd = pulp.HiGHS(msg=False, timeLimit=max(time_limit, 0.01), threads=1)
        with contained():  # HiGHS prints its banner on descriptor 1
            prob.solve(cmd)
        model = prob.solverModel
        status = model.getModelStatus()
        has_solution = model.getInfo().primal_solution_status == 2  # kSolutionStatusFeasible
        if status == highspy.HighsModelStatus.kOptimal:
            return "optimal"
        if status == highspy.HighsModelStatus.kInfeasible:
            return "infeasible"
        return "feasible" if has_solution else "none"
    with warnings.catch_warnings():  # PuLP 3 deprecates its bundled CBC in favour of `pulp[cbc]`
        warnings.simplefilter("ignore", DeprecationWarning)
        cmd = pulp.PULP_CBC_CMD(msg=False, timeLimit=max(time_limit, 0.01), threads=1)
        with contained():  # CBC's output, like HiGHS's, stays off descriptor 1
            prob.solve(cmd)
    status, sol = prob.status, prob.sol_status
    if sol == pulp.LpSolutionOptimal:
        return "optimal"
    if sol == pulp.LpSolutionIntegerFeasible:
        return "feasible"
    if status == pulp.LpStatusInfeasible:
        return "infeasible"
    return "none" if status == pulp.LpStatusNotSolved else "error"

