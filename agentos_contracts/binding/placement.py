"""Where a unit may run and what it may call: tools, embedding stores, nodes and cores.

Every resource the agent runs on or sends data to must satisfy its `must` placement
and tags (an undeclared placement fails closed); `prefer` ranks what is left, then
catalog order. Exact-version checks for strict refs live here too, shared with models.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from agentos_contracts.binding import hrt
from agentos_contracts.binding.options import CoreOption, NodeOption, Reason, ToolOption, ToolSlot, Unit, fmt_list, fmt_num, mem_text, reason
from agentos_contracts.model.contract import AgentContract, BindingMode
from agentos_contracts.model.platform import EmbedStore, Node, Platform, Tool
from agentos_contracts.model.tasks import Task
from agentos_contracts.model.units import Ref, version_text


def placement_ok(must: tuple[str, ...], placement: str | None) -> bool:
    """An unknown placement cannot be shown to satisfy a placement `must` (fail closed)."""
    return not must or placement in must


def tags_ok(must: tuple[str, ...], tags: tuple[str, ...]) -> bool:
    return not must or any(t in tags for t in must)


def rank_of(items: Sequence[object], key: object) -> dict[int, int]:
    order = sorted(range(len(items)), key=key)  # type: ignore[arg-type]
    return {i: r for r, i in enumerate(order)}


def preference(c: AgentContract, first: int, placement: str | None, tags: tuple[str, ...]) -> int:
    """One integer for `prefer`: the ranked option first, then preferred placement, then tags (0 best)."""
    p = c.binding.prefer
    width = max(len(p.placement), len(p.tags)) + 1
    return (first * width + prefer_index(p.placement, placement)) * width + _tag_pref(p.tags, tags)


def prefer_index(prefer: tuple[str, ...], value: str | None) -> int:
    return prefer.index(value) if value in prefer else len(prefer)


def exact_version(unit: Unit, what: str, ref: Ref, catalog: list[tuple[int, int, int]], pointer: str = "") -> list[Reason]:
    """Strict: the ref must name exactly one catalog version."""
    inside = sorted({v for v in catalog if ref.range.contains(v)})
    if not inside:
        return [not_found(unit, what, ref, catalog, pointer)]
    if len(inside) > 1:
        texts = ", ".join(version_text(v) for v in inside)
        return [reason("AC503", pointer, name=unit.label, ref=str(ref), versions=texts,
                       pin=f"{ref.name}@=={version_text(inside[-1])}")]
    return []


def not_found(unit: Unit, what: str, ref: Ref, catalog: list[tuple[int, int, int]], pointer: str = "") -> Reason:
    versions = sorted(set(catalog))
    have = f" (catalog has {', '.join(version_text(v) for v in versions)})" if versions else f" (no {what} of that name)"
    return reason("AC502", pointer, name=unit.label, what=what, ref=str(ref), have=have)



# --- tools, stores, nodes --------------------------------------------------------------------


def tool_slots(unit: Unit, platform: Platform) -> tuple[tuple[ToolSlot, ...], list[Reason]]:
    """One slot per catalog tool the agent may call (its ceiling's exact action names)."""
    c = unit.contract
    must, prefer = c.binding.must, c.binding.prefer
    strict = c.binding.mode is BindingMode.STRICT
    catalog = {t.name for t in platform.tools}
    names = [a for a in c.ceiling if a in catalog]
    reasons: list[Reason] = []
    if strict:
        for i, ref in enumerate(must.tools):
            reasons += exact_version(unit, "tool", ref, [t.version for t in platform.tools if t.name == ref.name],
                                     f"/binding/must/tools/{i}" if len(must.tools) > 1 else "/binding/must/tools")
    if must.tools and not any(r.name in names for r in must.tools):
        reasons.append(reason("AC504", "/binding/must/tools", name=unit.label,
                              detail=f"binding.must.tools {fmt_list([str(r) for r in must.tools])} names no tool "
                                     "the contract may call (its capabilities)"))
    slots: list[ToolSlot] = []
    for name in names:
        ranges = [r for r in must.tools if r.name == name]
        deployments = [t for t in platform.tools if t.name == name and (not ranges or any(r.range.contains(t.version) for r in ranges))]
        ref = str(ranges[0]) if ranges else name
        if not deployments:
            reasons.append(not_found(unit, "tool", ranges[0], [t.version for t in platform.tools if t.name == name]))
            continue
        versions = sorted({t.version for t in deployments}, reverse=True)
        found: list[Tool] = []
        failures: list[Reason] = []
        for v in versions:
            for t in deployments:
                if t.version != v:
                    continue
                problem = _check_placed(unit, "tool", f"{t.name}@{t.version_text}", t.placement, t.tags)
                if problem is None:
                    found.append(t)
                else:
                    failures.append(problem)
            if found:
                break
        if not found:
            reasons += failures
            continue
        prefs = [preference(c, _tool_pref(prefer.tools, t), t.placement, t.tags) for t in found]
        ranks = rank_of(found, lambda i: (prefs[i], platform.tools.index(found[i])))
        opts = sorted((ToolOption(tool=t, ref=ref, rank=ranks[i], pref=prefs[i]) for i, t in enumerate(found)),
                      key=lambda o: o.rank)
        slots.append(ToolSlot(name=name, options=tuple(opts)))
    return tuple(slots), reasons


def _tool_pref(prefer: tuple[Ref, ...], t: Tool) -> int:
    return next((i for i, r in enumerate(prefer) if r.name == t.name and r.range.contains(t.version)), len(prefer))


def _check_placed(unit: Unit, what: str, label: str, placement: str | None, tags: tuple[str, ...]) -> Reason | None:
    must = unit.contract.binding.must
    if not placement_ok(must.placement, placement):
        where = placement or "of unknown placement"
        return reason("AC504", "/binding/must/placement", name=unit.label,
                      detail=f"{what} `{label}` is {where}, outside must placement {fmt_list(must.placement)}")
    if not tags_ok(must.tags, tags):
        return reason("AC504", "/binding/must/tags", name=unit.label,
                      detail=f"{what} `{label}` has tags {fmt_list(tags)}, must have one of {fmt_list(must.tags)}")
    return None


def embed_store(unit: Unit, platform: Platform) -> tuple[EmbedStore | None, list[Reason]]:
    """The best-ranked store satisfying `must` (no capacity: decided here, not in the MILP)."""
    c = unit.contract
    must, prefer = c.binding.must.embed_store, c.binding.prefer.embed_store
    if not must and not prefer:
        return None, []
    reasons: list[Reason] = []
    names = {s.name for s in platform.embed_stores}
    for i, name in enumerate(must):
        if name not in names:
            reasons.append(reason("AC502", "/binding/must/embed_store", name=unit.label, what="embedding store", ref=name,
                                  have=f" (catalog has {', '.join(sorted(names))})" if names else " (the catalog has none)"))
    passing: list[EmbedStore] = []
    for s in platform.embed_stores:
        if must and s.name not in must:
            continue
        if not must and s.name not in prefer:
            continue
        problem = _check_placed(unit, "embedding store", s.name, s.placement, s.tags)
        if problem is None:
            passing.append(s)
        elif must:
            reasons.append(problem)
    if passing:
        best = min(passing, key=lambda s: (prefer_index(prefer, s.name), platform.embed_stores.index(s)))
        return best, [] if not must or any(s.name in names for s in passing) else reasons
    return None, reasons if must else []


def node_options(unit: Unit, platform: Platform, cpu: int | Fraction) -> tuple[tuple[NodeOption, ...], list[Reason]]:
    found, reasons = _nodes(unit, platform, cpu)
    return tuple(NodeOption(node=n, rank=r, pref=pref) for r, (n, pref) in enumerate(found)), reasons


def core_options(unit: Unit, platform: Platform, task: Task, cpu: int | Fraction) -> tuple[tuple[CoreOption, ...], list[Reason]]:
    found, reasons = _nodes(unit, platform, cpu)
    out: list[tuple[CoreOption, int]] = []
    alone: dict[str, Reason | None] = {}
    for n, pref in found:
        if n.scheduler not in alone:
            alone[n.scheduler] = hrt.alone_problem(unit, task, n.scheduler)
        if alone[n.scheduler] is None:
            out.extend((CoreOption(node=n, core=k, rank=0), pref) for k in range(n.cores))
    if found and not out:
        reasons += [r for r in alone.values() if r is not None]
    return tuple(CoreOption(node=o.node, core=o.core, rank=r, pref=pref) for r, (o, pref) in enumerate(out)), reasons


def _nodes(unit: Unit, platform: Platform, cpu: int | Fraction) -> tuple[list[tuple[Node, int]], list[Reason]]:
    """Eligible nodes with room, best `prefer` first, then catalog order; each with its preference.

    Runs once per unit over every node, so it stays linear: plain must checks (reasons are
    built only when no node passes), preferences computed once per (placement, tags).
    """
    c = unit.contract
    must = c.binding.must
    mem = c.mem_bytes or 0
    placed = [n for n in platform.nodes if placement_ok(must.placement, n.placement) and tags_ok(must.tags, n.tags)]
    if not placed:
        what = " and ".join(x for x in (f"placement {fmt_list(must.placement)}" if must.placement else "",
                                        f"tags {fmt_list(must.tags)}" if must.tags else "") if x)
        return [], [reason("AC504", "/binding/must", name=unit.label, detail=f"no node satisfies must {what or 'placement'}")]
    reasons: list[Reason] = []
    fitting = [n for n in placed if n.cores * 1000 >= cpu and (n.mem_bytes is None or n.mem_bytes >= mem)]
    if not fitting:
        biggest = max(placed, key=lambda n: (n.cores, n.mem_bytes or 0))
        reasons.append(reason("AC510", "/compute", name=unit.label,
                              detail=f"needs {fmt_num(cpu)}m CPU and {mem_text(mem)} memory; the largest eligible node "
                                     f"`{biggest.name}` has {biggest.cores * 1000}m and {mem_text(biggest.mem_bytes)}"))
        return [], reasons
    memo: dict[tuple[str | None, tuple[str, ...]], int] = {}
    prefs = []
    for n in fitting:
        key = (n.placement, n.tags)
        if key not in memo:
            memo[key] = preference(c, 0, n.placement, n.tags)
        prefs.append(memo[key])
    # `fitting` keeps catalog order, so its own index is the catalog tie-break (``platform.nodes.index``
    # compared whole dataclasses node by node: O(nodes²) per unit)
    order = sorted(range(len(fitting)), key=lambda i: (prefs[i], i))
    return [(fitting[i], prefs[i]) for i in order], reasons


def _tag_pref(prefer: tuple[str, ...], tags: tuple[str, ...]) -> int:
    return next((i for i, t in enumerate(prefer) if t in tags), len(prefer))
