"""The last tie-break: among equally good options, the one earliest in the catalog.

The MILP decides cost (or latency) and `prefer`; between options equal in both
(two nodes, two cores, two deployments at the same price) any answer is optimal, and
which one a solver returns is its own business. Here each admitted unit, in
command-line order, moves to the earliest such option that still fits, every move
checked exactly (capacity sums in integers, HRT cores with the exact test), so users
see the catalog order they wrote respected and results do not depend on the solver.
"""

from __future__ import annotations

from fractions import Fraction

from agentos_contracts.binding import hrt
from agentos_contracts.binding.explain import turn_problem
from agentos_contracts.binding.ledger import Ledger
from agentos_contracts.binding.options import Candidates, Choice, ModelOption


def settle(live: list[Candidates], choices: dict[str, Choice], ledger: Ledger, objective: str) -> dict[str, Choice]:
    """``ledger`` already holds ``choices``; both are updated and the settled choices returned."""
    out = dict(choices)
    for c in live:
        choice = out.get(c.unit.key)
        if choice is None:
            continue
        choice = _settle_model(c, choice, ledger, objective)
        choice = _settle_place(c, choice, ledger)
        out[c.unit.key] = choice
    return out


def _move(c: Candidates, old: Choice, new: Choice, ledger: Ledger) -> None:
    ledger.remove_choice(c, old)
    ledger.add_choice(c, new)


def _primary(m: ModelOption, objective: str) -> Fraction:
    return Fraction(m.onset_ns) + m.output_ns if objective == "latency" else m.cost_per_min


def _settle_model(c: Candidates, choice: Choice, ledger: Ledger, objective: str) -> Choice:
    cur = choice.model
    if cur is None:
        return choice
    for m in c.models:
        if m.rank >= cur.rank:
            break
        if m.pref != cur.pref or _primary(m, objective) != _primary(cur, objective):
            continue
        free = ledger.free_tokens(m.model.ident)
        if free is not None and free < c.tokens_per_min:
            continue
        new = Choice(model=m, tools=choice.tools, store=choice.store, node=choice.node, core=choice.core)
        if turn_problem(c, new) is None:
            _move(c, choice, new, ledger)
            return new
    return choice


def _settle_place(c: Candidates, choice: Choice, ledger: Ledger) -> Choice:
    if c.cores:
        cur = next(o for o in c.cores if o.node.name == choice.node.name and o.core == choice.core)
        for o in c.cores:
            if o.rank >= cur.rank:
                break
            if o.pref != cur.pref or not _room(c, choice, o.node.name, ledger):
                continue
            assert c.task is not None
            if hrt.is_schedulable(ledger.tasks.get((o.node.name, o.core), []) + [c.task], o.node.scheduler):
                new = Choice(model=choice.model, tools=choice.tools, store=choice.store, node=o.node, core=o.core)
                _move(c, choice, new, ledger)
                return new
        return choice
    cur_n = next(n for n in c.nodes if n.node.name == choice.node.name)
    for n in c.nodes:
        if n.rank >= cur_n.rank:
            break
        if n.pref == cur_n.pref and _room(c, choice, n.node.name, ledger):
            new = Choice(model=choice.model, tools=choice.tools, store=choice.store, node=n.node)
            _move(c, choice, new, ledger)
            return new
    return choice


def _room(c: Candidates, choice: Choice, node: str, ledger: Ledger) -> bool:
    if node == choice.node.name:
        return True
    mem = ledger.free_mem(node)
    return ledger.free_cpu(node) >= c.cpu_mc and (mem is None or mem >= c.mem_bytes)
