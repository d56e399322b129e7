"""Greedy placement with exact checks: shrinking a fleet-sized MILP, and answers where it has none.

Two uses, both fail-closed:

- ``preplace``: above ``LARGE_OPTIONS`` node/core choices, HRT units are put on a core
  where the exact test passes, then SRT/DT units on their best-ranked node with room, each
  kind in command-line order; the MILP then keeps only model and tool
  choices for them. Node and core choices do not enter the cost or latency objective,
  and a unit placed on its best-ranked option has the best `prefer` rank it could have,
  so where every unit gets its first option nothing is lost. A unit that finds no room
  keeps all its options. Because the search was narrowed, a group the MILP then cannot
  admit is reported ``unknown`` (not proven impossible), never ``rejected``.
- ``place_groups``: when the MILP stops without any answer, each group (those with HRT
  units first, then command-line order) is placed greedily (cheapest model with tokens left, best-ranked tools that keep the turn
  bound, nodes and cores as above); a group all of whose units fit is admitted, the
  others stay ``unknown`` with their reason. Every capacity is checked in exact
  arithmetic on the ledger and every HRT core with the exact test, like a MILP answer.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from agentos_contracts.binding import hrt
from agentos_contracts.binding.explain import turn_problem
from agentos_contracts.binding.ledger import Ledger
from agentos_contracts.binding.options import Candidates, Choice, CoreOption, ModelOption, NodeOption

LARGE_OPTIONS = 10_000  # node + core choices over all units above which ``preplace`` narrows them
SPREAD_LEVEL = {"RM": Fraction(69, 100), "DM": Fraction(69, 100), "FP": Fraction(69, 100), "EDF": Fraction(9, 10)}


def option_count(live: list[Candidates]) -> int:
    return sum(len(c.nodes) + len(c.cores) for c in live)


def preplace(live: list[Candidates], reserved: Ledger) -> tuple[list[Candidates], set[str]]:
    """``live`` with node/core options narrowed to one where a greedy pass found room; the narrowed keys."""
    ledger = reserved.copy()
    out: list[Candidates] = []
    narrowed: set[str] = set()
    for c in sorted(live, key=_most_constrained_first):
        spot = _place(c, ledger)
        if spot is None:
            out.append(c)
            continue
        ledger.add_choice(c, Choice(model=None, tools=(), store=None, node=spot.node,
                                    core=spot.core if isinstance(spot, CoreOption) else None))
        narrowed.add(c.unit.key)
        out.append(replace(c, cores=(spot,)) if isinstance(spot, CoreOption) else replace(c, nodes=(spot,)))
    position = {c.unit.key: i for i, c in enumerate(live)}
    return sorted(out, key=lambda c: position[c.unit.key]), narrowed


def place_groups(live: list[Candidates], reserved: Ledger, objective: str) -> dict[str, Choice]:
    """Choices for every group that fits whole, greedily and in command-line order (checked exactly)."""
    ledger = reserved.copy()
    groups: dict[str, list[Candidates]] = {}
    hard = {c.unit.group for c in live if c.cores}
    for c in sorted(live, key=lambda c: (c.unit.group not in hard, c.unit.order)):
        groups.setdefault(c.unit.group, []).append(c)
    out: dict[str, Choice] = {}
    for units in groups.values():
        placed: list[tuple[Candidates, Choice]] = []
        for c in units:
            choice = _choose(c, ledger, objective)
            if choice is None:
                break
            ledger.add_choice(c, choice)
            placed.append((c, choice))
        if len(placed) == len(units):
            out.update((c.unit.key, ch) for c, ch in placed)
        else:
            for c, ch in placed:
                ledger.remove_choice(c, ch)
    return out


def _most_constrained_first(c: Candidates) -> tuple[bool, int]:
    """HRT units first (a core on a scheduler-declaring node, the scarcest thing), then command-line order:
    SRT/DT units placed first would fill those nodes' CPU with work that could run anywhere."""
    return (not c.cores, c.unit.order)


def _choose(c: Candidates, ledger: Ledger, objective: str) -> Choice | None:
    spot = _place(c, ledger)
    if spot is None:
        return None
    core = spot.core if isinstance(spot, CoreOption) else None
    tools = tuple(slot.options[0] for slot in c.tools)
    models: list[ModelOption | None] = sorted(c.models, key=lambda m: (_primary(m, objective), m.pref, m.rank)) \
        if c.models else [None]
    for m in models:
        if m is not None and c.tokens_per_min:
            free = ledger.free_tokens(m.model.ident)
            if free is not None and free < c.tokens_per_min:
                continue
        choice = Choice(model=m, tools=tools, store=c.store, node=spot.node, core=core)
        if turn_problem(c, choice) is None:
            return choice
    return None


def _primary(m: ModelOption, objective: str) -> Fraction:
    return Fraction(m.onset_ns) + m.output_ns if objective == "latency" else m.cost_per_min


def _place(c: Candidates, ledger: Ledger) -> NodeOption | CoreOption | None:
    """The best-ranked node with room, or for HRT a core that stays schedulable (spread first)."""
    if c.nodes:
        return next((o for o in c.nodes if _room(c, o.node.name, ledger)), None)
    if not c.cores or c.task is None:
        return None
    task = c.task
    roomy: dict[str, bool] = {}
    comfortable: list[CoreOption] = []
    loaded: list[CoreOption] = []
    for o in c.cores:
        node = o.node.name
        if node not in roomy:
            roomy[node] = _room(c, node, ledger)
        if not roomy[node]:
            continue
        u = _core_util(ledger, node, o.core) + task.utilization
        if u <= SPREAD_LEVEL.get(o.node.scheduler, Fraction(1)):
            comfortable.append(o)  # stays comfortably loaded, as the MILP's spreading stage prefers
        elif u <= 1:
            loaded.append(o)
    for o in comfortable + loaded:
        held = ledger.tasks.get((o.node.name, o.core), [])
        if hrt.is_schedulable(held + [task], o.node.scheduler):
            return o
    return None


def _core_util(ledger: Ledger, node: str, core: int) -> Fraction:
    return sum((t.utilization for t in ledger.tasks.get((node, core), ())), Fraction(0))


def _room(c: Candidates, node: str, ledger: Ledger) -> bool:
    mem = ledger.free_mem(node)
    return ledger.free_cpu(node) >= c.cpu_mc and (mem is None or mem >= c.mem_bytes)
