"""Resolution: one MILP for everything admitted together, every answer re-checked exactly.

1. Units whose static checks failed are rejected with their reasons (``candidates``).
2. The MILP binds every other group at once, minimising cost (or latency).
3. The answer is re-checked in exact arithmetic: each HRT core with the library's
   exact test (RM response times, EDF demand), token, CPU and memory sums, SRT turns.
   A failure becomes a no-good cut (shrunk to a minimal failing set and copied to
   every core where it is equally invalid) and the MILP is solved again, until the
   answer passes or is proven infeasible.
4. If not everything fits, a first MILP maximises the admitted groups (earlier on the
   command line first), then step 2-3 run for that set; the others get explained
   rejections against the capacity left.

A solver that stops without a solution yields verdict ``unknown`` for every group it
was deciding, never a guess.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable

from agentos_contracts.binding import explain, greedy, hrt, milp
from agentos_contracts.binding.ledger import Ledger
from agentos_contracts.binding.milp import Atom, Solution
from agentos_contracts.binding.options import Candidates, Choice, Reason, Unit
from agentos_contracts.binding.settle import settle
from agentos_contracts.sched.result import Verdict

MAX_ROUNDS = 60
GREEDY_MESSAGE = ("the solver found no answer in time: the contracts admitted were placed greedily (every constraint "
                  "re-checked exactly); the others are `unknown`, not proven impossible")


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    unit: Unit
    candidates: Candidates
    verdict: str  # admitted | rejected | unknown
    choice: Choice | None = None
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    outcomes: tuple[Outcome, ...]
    ledger: Ledger  # reservations plus everything admitted here
    status: str = "none"  # the final MILP's status: optimal | feasible | infeasible | unknown | none
    reason: str = ""
    solver: str = ""
    rounds: int = 0
    cuts: int = 0
    warnings: tuple[Reason, ...] = field(default=())

    def outcome(self, key: str) -> Outcome:
        return next(o for o in self.outcomes if o.unit.key == key)


def resolve(cands: list[Candidates], reserved: Ledger, *, optimize: str = "cost", time_limit: float = 60.0,
            solver: str = "auto", max_rounds: int = MAX_ROUNDS) -> Resolution:
    """Bind every unit in ``cands`` against what ``reserved`` leaves free."""
    bad_groups = {c.unit.group for c in cands if not c.ok}
    live = [c for c in cands if c.unit.group not in bad_groups]
    narrowed: set[str] = set()
    if greedy.option_count(live) > greedy.LARGE_OPTIONS:
        live, narrowed = greedy.preplace(live, reserved)
    run = _Run(live, reserved, time_limit, solver, max_rounds)
    groups = sorted({c.unit.group for c in live})
    sol = Solution(status="none")
    warnings: list[Reason] = []
    greedy_choices: dict[str, Choice] | None = None
    if live:
        sol = run.loop(optimize, {g: True for g in groups})
        if sol.status == "infeasible" and narrowed:
            # fleet-sized and not everything fits: the groups left out are `unknown` either way (the
            # search was narrowed), so the greedy pass picks them instead of a second, larger MILP
            greedy_choices = greedy.place_groups(live, reserved, optimize)
            warnings.append(Reason(code="AC531", message="not every contract fits: " + GREEDY_MESSAGE.split(": ", 1)[1]))
            sol = Solution(status="feasible", solver=sol.solver, reason="not every contract fits",
                           admitted=frozenset(c.unit.group for c in live if c.unit.key in greedy_choices))
        elif sol.status == "infeasible":
            first = run.loop("admit", {})
            if first.status == "feasible":
                warnings.append(Reason(code="AC531", message="the solver stopped at the time limit while choosing which "
                                       "contracts to admit: the admitted set may not be the largest possible"))
            sol = run.loop(optimize, {g: g in first.admitted for g in groups}) if first.has_solution else first
        if sol.status == "feasible" and greedy_choices is None:
            warnings.append(Reason(code="AC531", message=explain.not_optimal_message(optimize)))
    ledger = reserved.copy()
    choices: dict[str, Choice] = {}
    fallback = not sol.has_solution and sol.status != "infeasible" and bool(live)
    if greedy_choices is not None:
        choices = greedy_choices
    elif sol.has_solution:
        for c in live:
            if c.unit.group in sol.admitted:
                choices[c.unit.key] = to_choice(c, sol.assignments[c.unit.key])
    elif fallback:  # the MILP found nothing in time: admit what a greedy placement proves
        choices = greedy.place_groups(live, reserved, optimize)
        if choices:
            warnings.append(Reason(code="AC531", message=GREEDY_MESSAGE))
    if choices:
        for c in live:
            if c.unit.key in choices:
                ledger.add_choice(c, choices[c.unit.key])
        choices = settle(live, choices, ledger, optimize)
    outcomes = []
    for c in cands:
        if c.unit.group in bad_groups:
            own = c.reasons or (explain.group_reason(c),)
            outcomes.append(Outcome(unit=c.unit, candidates=c, verdict="rejected", reasons=tuple(own)))
        elif c.unit.key in choices:
            outcomes.append(Outcome(unit=c.unit, candidates=c, verdict="admitted", choice=choices[c.unit.key]))
        elif fallback:
            why = sol.reason + "; a greedy placement found no room for it, which does not prove there is none" \
                if choices else sol.reason
            outcomes.append(Outcome(unit=c.unit, candidates=c, verdict="unknown",
                                    reasons=(explain.unknown_reason(c, why),)))
        elif narrowed:
            outcomes.append(Outcome(unit=c.unit, candidates=c, verdict="unknown", reasons=(explain.unknown_reason(
                c, "not admitted after the fleet-sized search placed units on nodes and cores greedily; "
                   "that narrowing does not prove it cannot fit"),)))
        else:
            outcomes.append(Outcome(unit=c.unit, candidates=c, verdict="rejected",
                                    reasons=tuple(explain.explain_unit(c, ledger, run.undecided))))
    outcomes = _blame_within_groups(outcomes)
    return Resolution(outcomes=tuple(outcomes), ledger=ledger, status=sol.status, reason=sol.reason,
                      solver=sol.solver or run.solver_name, rounds=run.rounds, cuts=len(run.cuts),
                      warnings=tuple(warnings))


def _blame_within_groups(outcomes: list[Outcome]) -> list[Outcome]:
    """A workflow step that would fit by itself is rejected only because another step does not: say so."""
    specific = {o.unit.group for o in outcomes
                if o.verdict == "rejected" and any(r.code != "AC519" for r in o.reasons)}
    out = []
    for o in outcomes:
        if o.verdict == "rejected" and o.unit.group in specific and all(r.code == "AC519" for r in o.reasons):
            o = Outcome(unit=o.unit, candidates=o.candidates, verdict="rejected",
                        reasons=(explain.group_reason(o.candidates),))
        out.append(o)
    return out


def to_choice(c: Candidates, a: milp.Assignment) -> Choice:
    model = c.models[a.model] if a.model is not None else None
    tools = tuple(slot.options[j] for slot, j in zip(c.tools, a.tools))
    if a.core is not None:
        o = c.cores[a.core]
        return Choice(model=model, tools=tools, store=c.store, node=o.node, core=o.core)
    assert a.node is not None
    return Choice(model=model, tools=tools, store=c.store, node=c.nodes[a.node].node)


class _Run:
    """The solve → exact re-check → cut loop, sharing cuts and the time budget across phases."""

    def __init__(self, live: list[Candidates], reserved: Ledger, time_limit: float, solver: str, max_rounds: int) -> None:
        self.live = live
        self.reserved = reserved
        self.capacity = reserved.capacity()
        self.deadline = time.monotonic() + time_limit
        self.solver = solver
        self.solver_name = ""
        self.max_rounds = max_rounds
        self.rounds = 0
        self.cuts: list[frozenset[Atom]] = []
        self.undecided: set[str] = set()  # units whose core the exact test could not decide
        self.problems: dict[tuple[str, tuple[tuple[str, bool], ...]], tuple[milp.Problem, int]] = {}

    def loop(self, objective: str, admit: dict[str, bool]) -> Solution:
        """Solve, re-check, cut; preferences are settled once an exact answer exists (then checked again)."""
        ties = False
        settled: Solution | None = None  # an answer that passed the exact re-checks, before the ties stage
        for round_ in range(self.max_rounds):
            remaining = max(self.deadline - time.monotonic(), 0.0)
            if remaining <= 0 and round_:  # the first solve always runs: its own status says why it stopped
                return Solution(status="unknown", reason="time limit reached before the exact re-checks passed",
                                solver=self.solver_name)
            key = (objective, tuple(sorted(admit.items())))
            problem, known = self.problems.get(key) or (milp.Problem(self.live, self.capacity, objective, admit), 0)
            for cut in self.cuts[known:]:
                problem.add_cut(cut)
            self.problems[key] = (problem, len(self.cuts))
            sol = problem.solve(self.solver, remaining, ties=ties)
            self.rounds += 1
            self.solver_name = sol.solver
            if not sol.has_solution:
                if settled is not None:  # no time left to settle `prefer` ranks: keep the checked answer
                    return Solution(status="feasible", reason=sol.reason, solver=settled.solver,
                                    admitted=settled.admitted, assignments=settled.assignments)
                return sol
            found = self.verify(sol)
            if not found:
                if ties or not problem.ties or sol.status != "optimal":
                    return sol
                ties = True
                settled = sol
                continue
            self.cuts.extend(c for c in found if c not in self.cuts)
        return Solution(status="unknown", solver=self.solver_name,
                        reason=f"the exact re-check still failed after {self.max_rounds} rounds of cuts")

    def verify(self, sol: Solution) -> list[frozenset[Atom]]:
        """Exact checks of the MILP's answer; each failure becomes a cut."""
        ledger = self.reserved.copy()
        on_core: dict[tuple[str, int], list[Candidates]] = {}
        placed: dict[str, list[tuple[Candidates, Choice]]] = {}
        cuts: list[frozenset[Atom]] = []
        for c in self.live:
            if c.unit.group not in sol.admitted:
                continue
            choice = to_choice(c, sol.assignments[c.unit.key])
            ledger.add_choice(c, choice)
            placed.setdefault(choice.node.name, []).append((c, choice))
            if choice.core is not None:
                on_core.setdefault((choice.node.name, choice.core), []).append(c)
            turn = explain.turn_problem(c, choice)
            if turn is not None:
                cuts.append(_choice_atoms(c, choice))
        for (node, core), units in sorted(on_core.items()):
            cuts += self._core_cuts(node, core, units)
        for node, items in sorted(placed.items()):
            mem = ledger.free_mem(node)
            if ledger.free_cpu(node) < 0 or (mem is not None and mem < 0):
                cuts.append(frozenset(a for c, ch in items for a in _placement_atoms(c, ch)))
        tokens: dict[str, list[Candidates]] = {}
        for c in self.live:
            if c.unit.group in sol.admitted and c.tokens_per_min and sol.assignments[c.unit.key].model is not None:
                ident = c.models[sol.assignments[c.unit.key].model].model.ident  # type: ignore[index]
                tokens.setdefault(ident, []).append(c)
        for ident, users in sorted(tokens.items()):
            free = ledger.free_tokens(ident)
            if free is not None and free < 0:
                cuts.append(frozenset(("model", c.unit.key, ident) for c in users))
        return cuts

    def _core_cuts(self, node: str, core: int, units: list[Candidates]) -> list[frozenset[Atom]]:
        scheduler = self.reserved.platform.node(node).scheduler  # type: ignore[union-attr]
        existing = self.reserved.tasks.get((node, core), [])
        new = [c.task for c in units if c.task is not None]
        result = hrt.check_core(existing + new, scheduler, core)
        if result.verdict is Verdict.SCHEDULABLE:
            return []
        if result.verdict is Verdict.UNKNOWN:
            self.undecided.update(c.unit.key for c in units)
        failing = {t.name for t in hrt.minimal_failing(new, existing, scheduler)}
        keys = sorted(c.unit.key for c in units if c.task is not None and c.task.name in failing)
        held = {t.name for t in existing}
        cuts = []
        for n in self.reserved.platform.nodes:
            if n.scheduler != scheduler:
                continue
            for k in range(n.cores):
                if held <= {t.name for t in self.reserved.tasks.get((n.name, k), [])}:
                    cuts.append(frozenset(("core", key, n.name, str(k)) for key in keys))
        return cuts


def _choice_atoms(c: Candidates, choice: Choice) -> frozenset[Atom]:
    atoms: set[Atom] = set()
    if choice.model is not None:
        atoms.add(("model", c.unit.key, choice.model.model.ident))
    for slot, opt in zip(c.tools, choice.tools):
        if len(slot.options) > 1:
            atoms.add(("tool", c.unit.key, slot.name, str(slot.options.index(opt))))
    return frozenset(atoms)


def _placement_atoms(c: Candidates, choice: Choice) -> Iterable[Atom]:
    if choice.core is not None:
        yield ("core", c.unit.key, choice.node.name, str(choice.core))
    else:
        yield ("node", c.unit.key, choice.node.name)
