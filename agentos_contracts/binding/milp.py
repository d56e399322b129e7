"""The one MILP over every unit admitted together (PuLP; HiGHS by default, CBC as fallback).

Variables, all binary: ``a[g]`` admits group g (a contract, or a workflow with its
steps); ``y[u,i]`` binds unit u to model deployment i; ``t[u,s,j]`` picks deployment j
of tool s (only where there is a choice); ``x[u,n]`` places an SRT/DT unit on node n;
``h[u,n,k]`` pins an HRT unit to core k of node n. Constraints: one choice per slot
when admitted; model token capacity; node CPU and memory; utilisation ≤ 1 per core
(a relaxation: the exact test runs afterwards, see ``resolve``); an SRT turn bound
where tool deployments are a choice; and the no-good cuts found so far.

Objectives: ``admit`` maximises the admitted groups, earlier ones first (weights are
integers, so "optimal" is exact); ``cost``/``latency`` minimise the primary figure
plus a tie-break (preference rank, then catalog order) scaled below the smallest
difference between primary coefficients, so a tie never outweighs a real difference.

The solver's own status is read, never PuLP's summary: a time-limited incumbent is
``feasible``, not ``optimal``, and no solution at all is ``unknown`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Mapping

import pulp

from agentos_contracts.binding.options import Candidates, Capacity

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


def pick_solver(name: str, time_limit: float, abs_gap: float) -> tuple[str, pulp.LpSolver]:
    """HiGHS (highspy, single thread: deterministic) unless told otherwise; CBC when HiGHS is missing."""
    limit = max(float(time_limit), 0.0)
    if name in ("auto", "highs"):
        highs = pulp.HiGHS(msg=False, timeLimit=limit, threads=1, mip_rel_gap=0.0, mip_abs_gap=abs_gap, random_seed=0)
        if highs.available():
            return "highs", highs
        if name == "highs":
            raise SolverUnavailable("HiGHS (highspy) is not installed")
    cbc = pulp.PULP_CBC_CMD(msg=False, timeLimit=max(limit, 0.01), gapRel=0.0, gapAbs=abs_gap, threads=1)
    if cbc.available():
        return "cbc", cbc
    raise SolverUnavailable("neither HiGHS (highspy) nor CBC is installed")


def solve(cands: list[Candidates], capacity: Capacity, cuts: Iterable[frozenset[Atom]], *,
          objective: str, admit: Mapping[str, bool] | None = None, time_limit: float = 60.0,
          solver: str = "auto") -> Solution:
    """Build and solve; ``admit`` fixes groups in or out (``objective="admit"`` leaves them free)."""
    model = _Model(cands, capacity, objective, admit or {})
    for cut in cuts:
        model.add_cut(cut)
    abs_gap = 0.5 if objective == "admit" else model.tie_step / 4
    name, engine = pick_solver(solver, time_limit, abs_gap)
    model.prob.solve(engine)
    status, reason = _status(name, model.prob)
    if status not in ("optimal", "feasible"):
        return Solution(status=status, reason=reason, solver=name)
    return model.read(status, name)


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


class _Model:
    def __init__(self, cands: list[Candidates], capacity: Capacity, objective: str, admit: Mapping[str, bool]) -> None:
        self.cands = cands
        self.objective = objective
        self.prob = pulp.LpProblem("admission", pulp.LpMaximize if objective == "admit" else pulp.LpMinimize)
        self.groups: dict[str, pulp.LpVariable | int] = {}
        self.atoms: dict[Atom, pulp.LpVariable] = {}
        self.vars: dict[str, dict[str, object]] = {}
        order = sorted({(c.unit.order, c.unit.group) for c in cands})
        for gi, (_, g) in enumerate(order):
            fixed = admit.get(g)
            self.groups[g] = int(fixed) if fixed is not None else pulp.LpVariable(f"a_{gi}", cat="Binary")
        self.tie_step = self._tie_step()
        terms: list[tuple[pulp.LpVariable, float]] = []
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
                    if objective != "admit":
                        terms.append((y, _primary(c, objective, i) + self.tie_step * m.rank))
            ts: list[list[pulp.LpVariable]] = []
            for si, slot in enumerate(c.tools):
                if len(slot.options) > 1:
                    vs = [self._var(("tool", key, slot.name, str(j)), f"t_{ui}_{si}_{j}") for j in range(len(slot.options))]
                    self._one_of(vs, a)
                    ts.append(vs)
                    if objective != "admit":
                        for v, o in zip(vs, slot.options):
                            rtt = float(o.tool.rtt_ns_p95) / 1e6 if objective == "latency" else 0.0
                            terms.append((v, rtt + self.tie_step * o.rank))
                else:
                    ts.append([])
            self._turn(c, ys, ts, a)
            for i, n in enumerate(c.nodes):
                x = self._var(("node", key, n.node.name), f"x_{ui}_{i}")
                cpu.setdefault(n.node.name, []).append((x, float(c.cpu_mc)))
                mem.setdefault(n.node.name, []).append((x, float(c.mem_bytes)))
                if objective != "admit":
                    terms.append((x, self.tie_step * n.rank))
            if c.nodes:
                self._one_of([self.atoms[("node", key, n.node.name)] for n in c.nodes], a)
            assert c.task is not None or not c.cores
            for i, o in enumerate(c.cores):
                h = self._var(("core", key, o.node.name, str(o.core)), f"h_{ui}_{i}")
                cpu.setdefault(o.node.name, []).append((h, float(c.cpu_mc)))
                mem.setdefault(o.node.name, []).append((h, float(c.mem_bytes)))
                util.setdefault((o.node.name, o.core), []).append((h, float(c.task.utilization)))  # type: ignore[union-attr]
                if objective != "admit":
                    terms.append((h, self.tie_step * o.rank))
            if c.cores:
                self._one_of([self.atoms[("core", key, o.node.name, str(o.core))] for o in c.cores], a)
        for ident, uses in sorted(tokens.items()):
            free = capacity.tokens.get(ident)
            if free is not None:
                self.prob += pulp.LpAffineExpression(uses) <= free, f"tok_{len(self.prob.constraints)}"
        for node, uses in sorted(cpu.items()):
            self.prob += pulp.LpAffineExpression(uses) <= capacity.cpu_mc.get(node, 0), f"cpu_{len(self.prob.constraints)}"
        for node, uses in sorted(mem.items()):
            free_mem = capacity.mem_bytes.get(node)
            if free_mem is not None and any(w for _, w in uses):
                self.prob += pulp.LpAffineExpression(uses) <= free_mem, f"mem_{len(self.prob.constraints)}"
        for core, uses in sorted(util.items()):
            free_u = capacity.core_util.get(core, Fraction(1))
            self.prob += pulp.LpAffineExpression(uses) <= float(free_u), f"u_{len(self.prob.constraints)}"
        if objective == "admit":
            n = len(order)
            big = n * (n + 1) // 2 + 1
            weights = [(v, float(big + (n - gi))) for gi, (_, g) in enumerate(order)
                       if isinstance(v := self.groups[g], pulp.LpVariable)]
            self.prob += pulp.LpAffineExpression(weights)
        else:
            self.prob += pulp.LpAffineExpression([(v, w) for v, w in terms if w])

    def _var(self, atom: Atom, name: str) -> pulp.LpVariable:
        v = pulp.LpVariable(name, cat="Binary")
        self.atoms[atom] = v
        return v

    def _one_of(self, vs: list[pulp.LpVariable], a: pulp.LpVariable | int) -> None:
        expr = pulp.LpAffineExpression([(v, 1.0) for v in vs])
        if isinstance(a, int):
            self.prob += expr == a, f"one_{len(self.prob.constraints)}"
        else:
            self.prob += expr - a == 0, f"one_{len(self.prob.constraints)}"

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
            self.prob += expr <= limit * a, f"turn_{len(self.prob.constraints)}"
        else:
            self.prob += expr - limit * a <= 0, f"turn_{len(self.prob.constraints)}"

    def _tie_step(self) -> float:
        """Below the smallest gap between distinct primary coefficients, over the largest tie total."""
        if self.objective == "admit":
            return 0.0
        values = sorted({round(_primary(c, self.objective, i), 9) for c in self.cands for i in range(len(c.models))}
                        | ({round(float(o.tool.rtt_ns_p95) / 1e6, 9) for c in self.cands for s in c.tools for o in s.options}
                           if self.objective == "latency" else set()) | {0.0})
        gaps = [b - a for a, b in zip(values, values[1:]) if b - a > 1e-9]
        gap = min(gaps) if gaps else 1.0
        total = sum(max((m.rank for m in c.models), default=0) + sum(len(s.options) for s in c.tools)
                    + max((n.rank for n in c.nodes), default=0) + max((o.rank for o in c.cores), default=0)
                    for c in self.cands)
        return gap / (2 * (total + 1))

    def add_cut(self, atoms: frozenset[Atom]) -> None:
        vs = [self.atoms[a] for a in sorted(atoms) if a in self.atoms]
        if len(vs) == len(atoms) and vs:
            self.prob += pulp.LpAffineExpression([(v, 1.0) for v in vs]) <= len(vs) - 1, f"cut_{len(self.prob.constraints)}"

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
