"""The one MILP over every unit admitted together (PuLP; HiGHS by default, CBC as fallback).

Variables, all binary: ``a[g]`` admits group g (a contract, or a workflow with its
steps); ``y[u,i]`` binds unit u to model deployment i; ``t[u,s,j]`` picks deployment j
of tool s (only where there is a choice); ``x[u,n]`` places an SRT/DT unit on node n;
``h[u,n,k]`` pins an HRT unit to core k of node n. Constraints: one choice per slot
when admitted; model token capacity; node CPU and memory; utilisation ≤ 1 per core
(a relaxation: the exact test runs afterwards, see ``resolve``); an SRT turn bound
where tool deployments are a choice; and the no-good cuts found so far.

Objectives: ``admit`` maximises the admitted groups, earlier ones first (weights are
integers, so "optimal" is exact); ``cost``/``latency`` are lexicographic: the primary
figure first, then, with it held at its optimum, the sum of `prefer` ranks (integers).
Catalog-order ties are left to ``settle``, outside the MILP.

The solver's own status is read, never PuLP's summary: a time-limited incumbent is
``feasible``, not ``optimal``, and no solution at all is ``unknown`` with the reason.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Mapping

import pulp

from agentos_contracts.binding.options import Candidates, Capacity
from agentos_contracts.native_output import contained

SPREAD_LEVEL = {"RM": 0.69, "DM": 0.69, "FP": 0.69, "EDF": 0.9}  # utilisation a core is "comfortably" below
SPREAD_TIME_SHARE = 0.1  # of the time limit, at most, for the spreading stage
Atom = tuple[str, ...]  # ("model", unit, ident) | ("tool", unit, name, index) | ("node", unit, node) | ("core", unit, node, core)


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignment:
    model: int | None  # index into Candidates.models
    tools: tuple[int, ...]  # index per tool slot
    node: int | None  # index into Candidates.nodes
    core: int | None  # index into Candidates.cores


@dataclass(frozen=True, slots=True, kw_only=True)
class Solution:
    status: str  # optimal | feasible | infeasible | unknown
    reason: str = ""
    solver: str = ""
    admitted: frozenset[str] = frozenset()  # groups
    assignments: Mapping[str, Assignment] = field(default_factory=dict)

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")


class SolverUnavailable(RuntimeError):
    """Neither HiGHS nor CBC can be used; admission reports it and decides nothing."""


class BulkHiGHS(pulp.HiGHS):
    """``pulp.HiGHS`` handing the model to highspy in one ``passModel`` call.

    PuLP's adapter adds columns and sets integrality one call at a time (about 45 µs
    each: seconds for a fleet); the model, the options and the status are the same.
    """

    def __init__(self, columns: list[pulp.LpVariable], **options: object) -> None:
        super().__init__(**options)
        self.columns = columns

    def buildSolverModel(self, lp: pulp.LpProblem) -> None:
        import highspy
        import numpy as np

        cols = self.columns
        for i, v in enumerate(cols):
            v.index = i
        sign = -1.0 if lp.sense == pulp.LpMaximize else 1.0
        model = highspy.HighsLp()
        model.num_col_ = len(cols)
        model.col_cost_ = np.array([sign * lp.objective.get(v, 0.0) for v in cols], dtype=float)
        model.col_lower_ = np.array([0.0 if v.lowBound is None else v.lowBound for v in cols], dtype=float)
        model.col_upper_ = np.array([highspy.kHighsInf if v.upBound is None else v.upBound for v in cols], dtype=float)
        starts, index, value, lower, upper = [0], [], [], [], []
        for i, con in enumerate(lp._constraints.values()):
            con.index = i
            for v, a in con.items():
                if a:
                    index.append(v.index)
                    value.append(a)
            starts.append(len(index))
            lb, ub = con.getLb(), con.getUb()
            lower.append(-highspy.kHighsInf if lb is None else lb)
            upper.append(highspy.kHighsInf if ub is None else ub)
        model.num_row_ = len(lower)
        model.row_lower_ = np.array(lower, dtype=float)
        model.row_upper_ = np.array(upper, dtype=float)
        model.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        model.a_matrix_.num_col_ = len(cols)
        model.a_matrix_.num_row_ = len(lower)
        model.a_matrix_.start_ = np.array(starts, dtype=np.int32)
        model.a_matrix_.index_ = np.array(index, dtype=np.int32)
        model.a_matrix_.value_ = np.array(value, dtype=float)
        model.integrality_ = [highspy.HighsVarType.kInteger if v.cat == pulp.LpInteger else highspy.HighsVarType.kContinuous
                              for v in cols]
        lp.solverModel.passModel(model)

    def actualSolve(self, lp: pulp.LpProblem) -> int:  # the parent's, without its per-variable bookkeeping
        self.createAndConfigureSolver(lp)
        self.buildSolverModel(lp)
        self.callSolver(lp)
        status, sol_status = self.findSolutionValues(lp)
        lp.assignStatus(status, sol_status)
        return status

    def findSolutionValues(self, lp: pulp.LpProblem) -> tuple[int, int]:
        h = lp.solverModel
        values = list(h.getSolution().col_value)
        for v in self.columns:
            v.varValue = values[v.index] if v.index < len(values) else None
        status, has = h.getModelStatus(), h.getInfo().primal_solution_status == 2
        import highspy

        if status == highspy.HighsModelStatus.kOptimal:
            return pulp.LpStatusOptimal, pulp.LpSolutionOptimal
        if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return pulp.LpStatusInfeasible, pulp.LpSolutionInfeasible
        if has:
            return pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible  # PuLP's own convention; read _status
        return pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound


def pick_solver(name: str, time_limit: float, abs_gap: float, rel_gap: float = 0.0,
                columns: list[pulp.LpVariable] | None = None) -> tuple[str, pulp.LpSolver]:
    """HiGHS (highspy, single thread: deterministic) unless told otherwise; CBC when HiGHS is missing."""
    limit = max(float(time_limit), 0.0)
    if name in ("auto", "highs"):
        options = dict(msg=False, timeLimit=limit, threads=1, mip_rel_gap=rel_gap, mip_abs_gap=abs_gap, random_seed=0)
        highs = BulkHiGHS(columns, **options) if columns is not None else pulp.HiGHS(**options)
        if highs.available():
            return "highs", highs
        if name == "highs":
            raise SolverUnavailable("HiGHS (highspy) is not installed")
    with warnings.catch_warnings():  # PuLP 3 deprecates its bundled CBC in favour of `pulp[cbc]`'s COIN_CMD
        warnings.simplefilter("ignore", DeprecationWarning)
        for make in (pulp.COIN_CMD, pulp.PULP_CBC_CMD):
            cbc = make(msg=False, timeLimit=max(limit, 0.01), gapRel=rel_gap, gapAbs=abs_gap, threads=1)
            if cbc.available():
                return "cbc", cbc
    raise SolverUnavailable("neither HiGHS (highspy) nor CBC is installed")


def solve(cands: list[Candidates], capacity: Capacity, cuts: Iterable[frozenset[Atom]], *,
          objective: str, admit: Mapping[str, bool] | None = None, time_limit: float = 60.0,
          solver: str = "auto") -> Solution:
    """Build a ``Problem`` and solve it once (``resolve`` keeps problems to add cuts between rounds)."""
    problem = Problem(cands, capacity, objective, admit or {})
    for cut in cuts:
        problem.add_cut(cut)
    return problem.solve(solver, time_limit)


def _status(name: str, prob: pulp.LpProblem) -> tuple[str, str]:
    """(status, reason) from the solver itself: PuLP calls a time-limited incumbent optimal."""
    if name == "highs":
        import highspy

        h = prob.solverModel
        ms = h.getModelStatus()
        has = h.getInfo().primal_solution_status == 2  # kSolutionStatusFeasible
        text = h.modelStatusToString(ms).lower()
        if ms == highspy.HighsModelStatus.kOptimal:
            return "optimal", ""
        if ms in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return "infeasible", "no assignment satisfies every constraint"
        if has and ms in (highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kIterationLimit,
                          highspy.HighsModelStatus.kInterrupt, highspy.HighsModelStatus.kSolutionLimit):
            return "feasible", f"HiGHS: {text}"
        return "unknown", f"HiGHS stopped without a solution ({text})"
    if prob.sol_status == pulp.LpSolutionOptimal:
        return "optimal", ""
    if prob.sol_status == pulp.LpSolutionIntegerFeasible:
        return "feasible", "CBC: stopped before proving optimality"
    if prob.sol_status == pulp.LpSolutionInfeasible or prob.status == pulp.LpStatusInfeasible:
        return "infeasible", "no assignment satisfies every constraint"
    return "unknown", f"CBC stopped without a solution ({pulp.LpStatus.get(prob.status, prob.status)})"


def _primary(c: Candidates, objective: str, i: int) -> float:
    m = c.models[i]
    if objective == "latency":
        return float(m.onset_ns + m.output_ns) / 1e6 if c.task is None and c.unit.contract.latency.value == "SRT" else 0.0
    return float(m.cost_per_min)


class Problem:
    """The MILP for one objective and one admission pattern; cuts accumulate across solves.

    ``cost``/``latency`` solve a lexicographic chain of stages (``solve``): the primary
    figure, HRT spreading, the `prefer` ranks (an integer sum, proven exactly). Small
    exact problems in turn beat one objective with tiny tie-break weights, which would
    need a near-zero gap to mean anything.
    """

    def __init__(self, cands: list[Candidates], capacity: Capacity, objective: str, admit: Mapping[str, bool]) -> None:
        self.cands = cands
        self.objective = objective
        self.prob = pulp.LpProblem("admission", pulp.LpMaximize if objective == "admit" else pulp.LpMinimize)
        self.rows = 0
        self.groups: dict[str, pulp.LpVariable | int] = {}
        self.atoms: dict[Atom, pulp.LpVariable] = {}
        order = sorted({(c.unit.order, c.unit.group) for c in cands})
        for gi, (_, g) in enumerate(order):
            fixed = admit.get(g)
            self.groups[g] = int(fixed) if fixed is not None else self.prob.add_variable(f"a_{gi}", 0, 1, cat="Integer")
        self.primary: list[tuple[pulp.LpVariable, float]] = []  # cost per minute, or latency in ms
        self.ties: list[tuple[pulp.LpVariable, float]] = []  # preference ranks (integers)
        self.weights = pulp.LpAffineExpression()
        self.spread_vars: list[pulp.LpVariable] = []
        self.schedulers = {o.node.name: o.node.scheduler for c in cands for o in c.cores}
        tokens: dict[str, list[tuple[pulp.LpVariable, float]]] = {}
        cpu: dict[str, list[tuple[pulp.LpVariable, float]]] = {}
        mem: dict[str, list[tuple[pulp.LpVariable, float]]] = {}
        util: dict[tuple[str, int], list[tuple[pulp.LpVariable, float]]] = {}
        for ui, c in enumerate(cands):
            a = self.groups[c.unit.group]
            key = c.unit.key
            ys = [self._var(("model", key, m.model.ident), f"y_{ui}_{i}") for i, m in enumerate(c.models)]
            if ys:
                self._one_of(ys, a)
                for i, (y, m) in enumerate(zip(ys, c.models)):
                    if c.tokens_per_min:
                        tokens.setdefault(m.model.ident, []).append((y, float(c.tokens_per_min)))
                    self._cost(y, _primary(c, objective, i), m.pref)
            ts: list[list[pulp.LpVariable]] = []
            for si, slot in enumerate(c.tools):
                if len(slot.options) > 1:
                    vs = [self._var(("tool", key, slot.name, str(j)), f"t_{ui}_{si}_{j}") for j in range(len(slot.options))]
                    self._one_of(vs, a)
                    ts.append(vs)
                    for v, o in zip(vs, slot.options):
                        self._cost(v, float(o.tool.rtt_ns_p95) / 1e6 if objective == "latency" else 0.0, o.pref)
                else:
                    ts.append([])
            self._turn(c, ys, ts, a)
            for i, n in enumerate(c.nodes):
                x = self._var(("node", key, n.node.name), f"x_{ui}_{i}")
                cpu.setdefault(n.node.name, []).append((x, float(c.cpu_mc)))
                mem.setdefault(n.node.name, []).append((x, float(c.mem_bytes)))
                self._cost(x, 0.0, n.pref)
            if c.nodes:
                self._one_of([self.atoms[("node", key, n.node.name)] for n in c.nodes], a)
            assert c.task is not None or not c.cores
            for i, o in enumerate(c.cores):
                h = self._var(("core", key, o.node.name, str(o.core)), f"h_{ui}_{i}")
                cpu.setdefault(o.node.name, []).append((h, float(c.cpu_mc)))
                mem.setdefault(o.node.name, []).append((h, float(c.mem_bytes)))
                util.setdefault((o.node.name, o.core), []).append((h, float(c.task.utilization)))  # type: ignore[union-attr]
                self._cost(h, 0.0, o.pref)
            if c.cores:
                self._one_of([self.atoms[("core", key, o.node.name, str(o.core))] for o in c.cores], a)
        for ident, uses in sorted(tokens.items()):
            free = capacity.tokens.get(ident)
            if free is not None:
                self.prob += pulp.LpAffineExpression(uses) <= float(free), self._row("tok")
        for node, uses in sorted(cpu.items()):
            self.prob += pulp.LpAffineExpression(uses) <= float(capacity.cpu_mc.get(node, 0)), self._row("cpu")
        for node, uses in sorted(mem.items()):
            free_mem = capacity.mem_bytes.get(node)
            if free_mem is not None and any(w for _, w in uses):
                self.prob += pulp.LpAffineExpression(uses) <= free_mem, self._row("mem")
        spread: list[tuple[pulp.LpVariable, float]] = []
        for (node, k), uses in sorted(util.items()):
            free_u = capacity.core_util.get((node, k), Fraction(1))
            self.prob += pulp.LpAffineExpression(uses) <= float(free_u), self._row("u")
            if objective != "admit" and (len(uses) > 1 or free_u < 1):
                excess = self.prob.add_variable(f"e_{self.rows}", 0, None, cat="Continuous")
                self.spread_vars.append(excess)
                level = SPREAD_LEVEL.get(self.schedulers.get(node, "EDF"), 1.0) - (1 - float(free_u))
                self.prob += pulp.LpAffineExpression(uses) - excess <= level, self._row("spread")
                spread.append((excess, 1.0))
        self.stages: list[tuple[str, pulp.LpVariable, float, float]] = []  # (name, value, abs gap, rel gap)
        self.best: dict[str, float] = {}  # each stage's optimum under the current cuts
        self.kept = False  # the primary optimum was kept across new cuts (to be confirmed)
        self._stage("primary", self.primary, 1e-9, 1e-9)
        self._stage("spread", spread, 0.01, 0.05)
        self._stage("ties", self.ties, 0.5, 0.0)
        if objective == "admit":
            n = len(order)
            big = n * (n + 1) // 2 + 1  # one more admitted group outweighs any preference between groups
            self.weights = pulp.LpAffineExpression(
                [(v, float(big + (n - gi))) for gi, (_, g) in enumerate(order) if isinstance(v := self.groups[g], pulp.LpVariable)])

    def _stage(self, name: str, terms: list[tuple[pulp.LpVariable, float]], abs_gap: float, rel_gap: float) -> None:
        """One objective of the lexicographic chain; its value variable is bounded once it is optimal."""
        if not terms or self.objective == "admit":
            return
        value = self.prob.add_variable(f"obj_{name}", None, None, cat="Continuous")
        self.prob += pulp.LpAffineExpression(terms) - value == 0, f"obj_{name}"
        self.stages.append((name, value, abs_gap, rel_gap))

    def _cost(self, v: pulp.LpVariable, primary: float, rank: int) -> None:
        if self.objective == "admit":
            return
        if primary:
            self.primary.append((v, primary))
        if rank:
            self.ties.append((v, float(rank)))

    def _row(self, kind: str) -> str:
        self.rows += 1
        return f"{kind}_{self.rows}"

    def _var(self, atom: Atom, name: str) -> pulp.LpVariable:
        v = self.prob.add_variable(name, 0, 1, cat="Integer")
        self.atoms[atom] = v
        return v

    def _one_of(self, vs: list[pulp.LpVariable], a: pulp.LpVariable | int) -> None:
        expr = pulp.LpAffineExpression([(v, 1.0) for v in vs])
        if isinstance(a, int):
            self.prob += expr == a, self._row("one")
        else:
            self.prob += expr - a == 0, self._row("one")

    def _turn(self, c: Candidates, ys: list[pulp.LpVariable], ts: list[list[pulp.LpVariable]], a: pulp.LpVariable | int) -> None:
        """SRT turn bound, needed only where tool deployments are a choice (else checked statically)."""
        slo = c.unit.contract.slo
        turn = getattr(slo, "turn_ns", None)
        if turn is None or c.task is not None or not any(ts):
            return
        parts: list[tuple[pulp.LpVariable, float]] = []
        fixed = 0.0
        for y, m in zip(ys, c.models):
            parts.append((y, float(m.onset_ns + m.output_ns) / 1e6))
        for vs, slot in zip(ts, c.tools):
            if vs:
                parts += [(v, float(o.tool.rtt_ns_p95) / 1e6) for v, o in zip(vs, slot.options)]
            else:
                fixed += float(slot.options[0].tool.rtt_ns_p95) / 1e6
        limit = float(turn) / 1e6 - fixed
        expr = pulp.LpAffineExpression(parts)
        if isinstance(a, int):
            self.prob += expr <= limit * a, self._row("turn")
        else:
            self.prob += expr - limit * a <= 0, self._row("turn")

    def add_cut(self, atoms: frozenset[Atom]) -> None:
        vs = [self.atoms[a] for a in sorted(atoms) if a in self.atoms]
        if len(vs) == len(atoms) and vs:
            # cuts only remove answers, so the primary optimum can only rise: keep it as a bound and
            # re-solve only the later stages; if that is infeasible, ``solve`` starts over
            self.best = {k: v for k, v in self.best.items() if k == "primary"}
            self.kept = bool(self.best)
            self.prob += pulp.LpAffineExpression([(v, 1.0) for v in vs]) <= len(vs) - 1, self._row("cut")

    def solve(self, solver: str = "auto", time_limit: float = 60.0, *, ties: bool = True) -> Solution:
        """Solve the lexicographic chain: primary, then spread, then (with ``ties``) the `prefer` ranks.

        Each stage is solved with the earlier ones held at their optimum; optima found
        under the current cuts are reused. ``spread`` keeps HRT cores below a comfortable
        utilisation where that costs nothing, so the exact re-check rarely fails; it is
        an objective, never a constraint, so no feasible answer is lost. A stage that
        stops without an answer leaves the previous stage's answer standing.
        """
        deadline = time.monotonic() + time_limit
        if self.objective == "admit":
            return self.run(self.weights, solver, deadline, abs_gap=0.5)
        chain = [st for st in self.stages if st[0] != "ties" or ties]
        sol = self._chain(chain, solver, deadline, time_limit)
        if sol.status == "infeasible" and self.kept:
            self.best.clear()  # the cuts did raise the primary optimum after all: solve it again
            self.kept = False
            sol = self._chain(chain, solver, deadline, time_limit)
        self.kept = False
        return sol

    def _chain(self, chain: list[tuple[str, pulp.LpVariable, float, float]], solver: str, deadline: float,
               time_limit: float) -> Solution:
        last: Solution | None = None
        for i, (name, value, abs_gap, rel_gap) in enumerate(chain):
            if name in self.best and (i < len(chain) - 1 or last is not None):
                value.upBound = self.best[name] + 1e-7 * max(1.0, abs(self.best[name]))
                continue
            value.upBound = None
            stop = deadline
            if name == "spread":  # a heuristic aid, not a goal: a good answer soon beats the best one late
                stop = min(deadline, time.monotonic() + max(1.0, SPREAD_TIME_SHARE * time_limit))
            sol = self.run(pulp.LpAffineExpression([(value, 1.0)]), solver, stop, abs_gap=abs_gap, rel_gap=rel_gap)
            if name == "spread" and sol.status == "feasible":
                sol = Solution(status="optimal", solver=sol.solver, admitted=sol.admitted, assignments=sol.assignments)
            if name == "spread" and sol.status == "unknown":
                value.upBound = None  # no spread in time: go on without it
                continue
            if sol.status != "optimal":
                return sol if last is None or sol.status == "feasible" else last
            last = sol
            self.best[name] = value.varValue or 0.0
            value.upBound = self.best[name] + 1e-7 * max(1.0, abs(self.best[name]))
        return last if last is not None else self.run(pulp.LpAffineExpression(), solver, deadline, abs_gap=0.5)

    def run(self, objective: pulp.LpAffineExpression, solver: str, deadline: float, *, abs_gap: float,
            rel_gap: float = 0.0) -> Solution:
        self.prob.setObjective(objective)
        columns = [v for v in self.groups.values() if isinstance(v, pulp.LpVariable)] + list(self.atoms.values())
        columns += self.spread_vars + [value for _, value, _, _ in self.stages]
        name, engine = pick_solver(solver, max(deadline - time.monotonic(), 0.0), abs_gap, rel_gap, columns)
        with contained():  # HiGHS prints its banner on descriptor 1
            self.prob.solve(engine)
        status, reason = _status(name, self.prob)
        if status not in ("optimal", "feasible"):
            return Solution(status=status, reason=reason, solver=name)
        return self.read(status, name)

    def read(self, status: str, solver: str) -> Solution:
        admitted = frozenset(g for g, v in self.groups.items() if (v if isinstance(v, int) else _on(v)))
        out: dict[str, Assignment] = {}
        for c in self.cands:
            if c.unit.group not in admitted:
                continue
            key = c.unit.key
            model = next((i for i, m in enumerate(c.models) if _on(self.atoms[("model", key, m.model.ident)])), None)
            tools = tuple(
                0 if len(s.options) == 1 else next(j for j in range(len(s.options)) if _on(self.atoms[("tool", key, s.name, str(j))]))
                for s in c.tools)
            node = next((i for i, n in enumerate(c.nodes) if _on(self.atoms[("node", key, n.node.name)])), None)
            core = next((i for i, o in enumerate(c.cores) if _on(self.atoms[("core", key, o.node.name, str(o.core))])), None)
            out[key] = Assignment(model=model, tools=tools, node=node, core=core)
        return Solution(status=status, solver=solver, admitted=admitted, assignments=out)


def _on(v: pulp.LpVariable) -> bool:
    return v.varValue is not None and v.varValue > 0.5
