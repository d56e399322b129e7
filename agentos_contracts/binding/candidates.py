"""Static filtering: which catalog entries each unit may bind to, and why the others fail.

Everything here depends on one unit and the catalog only (no other contract, no
capacity already taken), so a unit with no option left is rejected before the MILP
and every reason names the entry and the numbers. What is left goes to the MILP.

Modes (design note documents.md, "Binding modes"): *strict* resolves each named ref
to exactly one catalog version; *smooth* takes the highest version in range whose
deployments satisfy every `must` and SLO (the next lower such version is the
rollback target); *flexible* does the same for every `prefer` option and lets the
MILP choose among them.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Sequence

from agentos_contracts.binding import hrt
from agentos_contracts.binding.options import (
    Candidates, CoreOption, ModelOption, NodeOption, Reason, ToolOption, ToolSlot, Unit, fmt_list, fmt_ms, fmt_num,
)
from agentos_contracts.codes import CODES
from agentos_contracts.model.contract import AgentContract, BindingMode, DtSlo, HrtSlo, LatencyClass, SrtSlo
from agentos_contracts.model.platform import EmbedStore, Model, Node, Platform, Tool
from agentos_contracts.model.units import Ref, version_text

NS_PER_MIN = 60 * 10**9


def reason(code: str, pointer: str = "", **fields: object) -> Reason:
    return Reason(code=code, message=CODES[code].message.format(**fields), pointer=pointer)


def placement_ok(must: tuple[str, ...], placement: str | None) -> bool:
    """An unknown placement cannot be shown to satisfy a placement `must` (fail closed)."""
    return not must or placement in must


def tags_ok(must: tuple[str, ...], tags: tuple[str, ...]) -> bool:
    return not must or any(t in tags for t in must)


def _rank(items: Sequence[object], key: object) -> dict[int, int]:
    order = sorted(range(len(items)), key=key)  # type: ignore[arg-type]
    return {i: r for r, i in enumerate(order)}


def token_rate(c: AgentContract) -> tuple[int, Reason | None]:
    """Tokens per minute reserved on the bound model: the budget when set, else what the SLO needs.

    SRT without a budget: one answer of ``max_output_tokens`` per ``turn_ms``, back to
    back. DT: enough for ``tokens_per_hour`` and to spend ``budgets.tokens`` by
    ``deadline_s``; a budget below that is itself a rejection. HRT: 0 (model work is
    inside the WCET on its core).
    """
    budget = c.budgets.tokens_per_minute
    if c.latency is LatencyClass.HRT:
        return 0, None
    if c.latency is LatencyClass.SRT:
        if budget is not None:
            return math.ceil(budget), None
        assert isinstance(c.slo, SrtSlo)
        window = c.slo.turn_ns or c.slo.onset_ns
        return (math.ceil(Fraction(c.max_output_tokens * NS_PER_MIN, window)) if window else 0), None
    assert isinstance(c.slo, DtSlo)
    need, why = Fraction(0), ""
    if c.slo.tokens_per_hour is not None:
        need, why = c.slo.tokens_per_hour / 60, f"tokens_per_hour {fmt_num(c.slo.tokens_per_hour)}"
    if c.slo.deadline_ns is not None and c.budgets.tokens is not None:
        by_deadline = c.budgets.tokens * NS_PER_MIN / c.slo.deadline_ns
        if by_deadline > need:
            need = by_deadline
            why = f"budgets.tokens {fmt_num(c.budgets.tokens)} within deadline_s {fmt_num(Fraction(c.slo.deadline_ns, 10**9))}"
    rate = math.ceil(need)
    if budget is not None:
        if budget < need:
            return 0, reason("AC508", "/budgets/tokens_per_minute", name="{name}",
                             detail=f"{why} needs {rate} tokens/min but budgets.tokens_per_minute is {fmt_num(budget)}")
        return math.ceil(budget), None
    return rate, None


def build_candidates(unit: Unit, platform: Platform) -> Candidates:
    c = unit.contract
    reasons: list[Reason] = []
    warnings: list[Reason] = []
    rate, bad_rate = token_rate(c)
    if bad_rate is not None:
        reasons.append(_named(bad_rate, unit))
    slots, tool_reasons = tool_slots(unit, platform)
    reasons += tool_reasons
    models, needs_model, previous, model_reasons = model_options(unit, platform, slots, rate)
    reasons += model_reasons
    store, store_reasons = embed_store(unit, platform)
    reasons += store_reasons
    cpu = c.cpu_millicores or 0
    task = None
    nodes: tuple[NodeOption, ...] = ()
    cores: tuple[CoreOption, ...] = ()
    if c.latency is LatencyClass.HRT:
        assert isinstance(c.slo, HrtSlo)
        task = hrt.task_of(unit.key, c.slo)
        cpu = max(cpu, math.ceil(task.utilization * 1000))
        cores, core_reasons = core_options(unit, platform, task, cpu)
        reasons += core_reasons
    else:
        nodes, node_reasons = node_options(unit, platform, cpu)
        reasons += node_reasons
    return Candidates(unit=unit, models=models, needs_model=needs_model, tools=slots, store=store, nodes=nodes,
                      cores=cores, task=task, tokens_per_min=rate, cpu_mc=cpu, mem_bytes=c.mem_bytes or 0,
                      previous=previous, reasons=tuple(reasons), warnings=tuple(dict.fromkeys(warnings)))


def _named(r: Reason, unit: Unit) -> Reason:
    return Reason(code=r.code, message=r.message.replace("{name}", unit.label, 1), pointer=r.pointer)


# --- models --------------------------------------------------------------------------------


def model_refs(c: AgentContract) -> tuple[Ref, ...]:
    """The refs to resolve, most preferred first: strict reads `must` first, the others `prefer`."""
    b = c.binding
    if b.mode is BindingMode.STRICT:
        return b.must.model or b.prefer.model or c.model_allow
    return b.prefer.model or b.must.model or c.model_allow


def model_options(unit: Unit, platform: Platform, slots: tuple[ToolSlot, ...],
                  rate: int) -> tuple[tuple[ModelOption, ...], bool, dict[str, str], list[Reason]]:
    c = unit.contract
    refs = model_refs(c)
    if not refs:
        return (), False, {}, []
    reasons: list[Reason] = []
    strict = c.binding.mode is BindingMode.STRICT
    if strict:
        for i, ref in enumerate(c.binding.must.model):
            reasons += exact_version(unit, "model", ref, [m.version for m in platform.models if m.name == ref.name],
                                     f"/binding/must/model/{i}" if len(c.binding.must.model) > 1 else "/binding/must/model")
        if reasons:
            return (), True, {}, reasons
    options: list[ModelOption] = []
    previous: dict[str, str] = {}
    seen: set[str] = set()
    for rank, ref in enumerate(refs):
        versions = sorted({m.version for m in platform.models if m.name == ref.name and ref.range.contains(m.version)},
                          reverse=True)
        if strict:
            problems = exact_version(unit, "model", ref, [m.version for m in platform.models if m.name == ref.name])
            if problems:
                reasons += problems
                continue
        elif not versions:
            reasons.append(_not_found(unit, "model", ref, [m.version for m in platform.models if m.name == ref.name]))
            continue
        found: list[Model] = []
        chosen: tuple[int, int, int] | None = None
        for v in versions:
            passing = []
            for m in platform.models:
                if m.name != ref.name or m.version != v:
                    continue
                problem = check_model(unit, m, slots, rate, platform.orchestration_overhead_ns)
                if problem is None:
                    passing.append(m)
                else:
                    reasons.append(problem)
            if passing and chosen is None:
                chosen, found = v, passing
            elif passing and chosen is not None:
                previous[f"{ref.name}@{version_text(chosen)}"] = f"{ref.name}@{version_text(v)}"
                break
        for m in found:
            if m.ident in seen:
                continue
            seen.add(m.ident)
            options.append(_model_option(unit, m, ref, rank, rate, platform.orchestration_overhead_ns))
        if options and c.binding.mode is not BindingMode.FLEXIBLE:
            break  # strict and smooth take the first ref that resolves
    if not options:
        return (), True, previous, reasons or [reason("AC502", "/binding", name=unit.label, what="model",
                                                      ref=", ".join(str(r) for r in refs), have="")]
    prefs = [preference(c, o.rank, o.model.placement, o.model.tags) for o in options]
    ranks = _rank(options, lambda i: (prefs[i], platform.models.index(options[i].model)))
    options = [_with_rank(o, ranks[i], prefs[i]) for i, o in enumerate(options)]
    return tuple(sorted(options, key=lambda o: o.rank)), True, previous, []


def _with_rank(o: ModelOption, rank: int, pref: int) -> ModelOption:
    return ModelOption(model=o.model, ref=o.ref, rank=rank, pref=pref, onset_ns=o.onset_ns, output_ns=o.output_ns,
                       cost_per_min=o.cost_per_min)


def preference(c: AgentContract, first: int, placement: str | None, tags: tuple[str, ...]) -> int:
    """One integer for `prefer`: the ranked option first, then preferred placement, then tags (0 best)."""
    p = c.binding.prefer
    width = max(len(p.placement), len(p.tags)) + 1
    return (first * width + _prefer_index(p.placement, placement)) * width + _tag_pref(p.tags, tags)


def _prefer_index(prefer: tuple[str, ...], value: str | None) -> int:
    return prefer.index(value) if value in prefer else len(prefer)


def _model_option(unit: Unit, m: Model, ref: Ref, rank: int, rate: int, overhead: int) -> ModelOption:
    c = unit.contract
    output = Fraction(c.max_output_tokens * 10**9) / m.tokens_per_s if m.tokens_per_s else Fraction(0)
    return ModelOption(model=m, ref=str(ref), rank=rank, onset_ns=m.onset_ns_p95 + overhead, output_ns=output,
                       cost_per_min=m.cost_per_1k_tokens * rate / 1000)


def check_model(unit: Unit, m: Model, slots: tuple[ToolSlot, ...], rate: int, overhead: int) -> Reason | None:
    """The first static requirement a model deployment breaks, or None."""
    c = unit.contract
    label = f"{m.name}@{m.version_text} ({m.node or m.placement})"
    must = c.binding.must
    if must.model and not any(r.name == m.name and r.range.contains(m.version) for r in must.model):
        return reason("AC504", "/binding/must/model", name=unit.label,
                      detail=f"model `{label}` is not one of binding.must.model {fmt_list([str(r) for r in must.model])}")
    if c.model_allow and not any(r.name == m.name and r.range.contains(m.version) for r in c.model_allow):
        return reason("AC505", "/modelPolicy/allow", name=unit.label, ref=label)
    if not placement_ok(must.placement, m.placement):
        return reason("AC504", "/binding/must/placement", name=unit.label,
                      detail=f"model `{label}` is {m.placement}, outside must placement {fmt_list(must.placement)}")
    if not tags_ok(must.tags, m.tags):
        return reason("AC504", "/binding/must/tags", name=unit.label,
                      detail=f"model `{label}` has tags {fmt_list(m.tags)}, must have one of {fmt_list(must.tags)}")
    if c.latency is LatencyClass.SRT:
        return check_srt(unit, m, label, slots, overhead, rate)
    if m.capacity_tokens_per_min is not None and rate > m.capacity_tokens_per_min:
        code = "AC508" if c.latency is LatencyClass.DT else "AC509"
        if code == "AC508":
            return reason(code, "/class/slo", name=unit.label,
                          detail=f"needs {rate} tokens/min, model `{label}` serves {fmt_num(m.capacity_tokens_per_min)} in all")
        return reason(code, name=unit.label, model=label, need=rate, free=fmt_num(m.capacity_tokens_per_min),
                      capacity=fmt_num(m.capacity_tokens_per_min), taken="")
    return None


def check_srt(unit: Unit, m: Model, label: str, slots: tuple[ToolSlot, ...], overhead: int, rate: int) -> Reason | None:
    """Onset and turn (design note, "SRT and DT at admission"), with the fastest tool deployments."""
    c = unit.contract
    slo = c.slo
    assert isinstance(slo, SrtSlo)
    onset = m.onset_ns_p95 + overhead
    if slo.onset_ns is not None and onset > slo.onset_ns:
        return reason("AC506", "/class/slo/onset_ms", name=unit.label, total=fmt_ms(onset), limit=fmt_ms(slo.onset_ns),
                      detail=f"model `{label}` onset_ms_p95 {fmt_ms(m.onset_ns_p95)} + orchestration overhead {fmt_ms(overhead)}")
    if slo.turn_ns is None:
        return None
    if not m.tokens_per_s:
        return reason("AC507", "/class/slo/turn_ms", name=unit.label, total="?", limit=fmt_ms(slo.turn_ns),
                      detail=f"model `{label}` states no tokens_per_s")
    tools = sum(min(o.tool.rtt_ns_p95 for o in s.options) for s in slots if s.options)
    output = Fraction(c.max_output_tokens * 10**9) / m.tokens_per_s
    total = onset + tools + output
    if total > slo.turn_ns:
        return reason("AC507", "/class/slo/turn_ms", name=unit.label, total=fmt_ms(total), limit=fmt_ms(slo.turn_ns),
                      detail=turn_detail(onset, tools, c.max_output_tokens, m, output))
    if m.capacity_tokens_per_min is not None and rate > m.capacity_tokens_per_min:
        cap = fmt_num(m.capacity_tokens_per_min)
        return reason("AC509", name=unit.label, model=label, need=rate, free=cap, capacity=cap, taken="")
    return None


def turn_detail(onset: int, tools: int | Fraction, tokens: int, m: Model, output: Fraction) -> str:
    return (f"onset {fmt_ms(onset)} + tools {fmt_ms(tools)} + {tokens} output tokens at "
            f"{fmt_num(m.tokens_per_s or 0)}/s {fmt_ms(output)} with model `{m.name}@{m.version_text}` "
            f"({m.node or m.placement})")


def exact_version(unit: Unit, what: str, ref: Ref, catalog: list[tuple[int, int, int]], pointer: str = "") -> list[Reason]:
    """Strict: the ref must name exactly one catalog version."""
    inside = sorted({v for v in catalog if ref.range.contains(v)})
    if not inside:
        return [_not_found(unit, what, ref, catalog, pointer)]
    if len(inside) > 1:
        texts = ", ".join(version_text(v) for v in inside)
        return [reason("AC503", pointer, name=unit.label, ref=str(ref), versions=texts,
                       pin=f"{ref.name}@=={version_text(inside[-1])}")]
    return []


def _not_found(unit: Unit, what: str, ref: Ref, catalog: list[tuple[int, int, int]], pointer: str = "") -> Reason:
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
            reasons.append(_not_found(unit, "tool", ranges[0], [t.version for t in platform.tools if t.name == name]))
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
        ranks = _rank(found, lambda i: (prefs[i], platform.tools.index(found[i])))
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
        best = min(passing, key=lambda s: (_prefer_index(prefer, s.name), platform.embed_stores.index(s)))
        return best, [] if not must or any(s.name in names for s in passing) else reasons
    return None, reasons if must else []


def node_options(unit: Unit, platform: Platform, cpu: int) -> tuple[tuple[NodeOption, ...], list[Reason]]:
    found, reasons = _nodes(unit, platform, cpu)
    c = unit.contract
    return tuple(NodeOption(node=n, rank=r, pref=preference(c, 0, n.placement, n.tags))
                 for r, n in enumerate(found)), reasons


def core_options(unit: Unit, platform: Platform, task: object, cpu: int) -> tuple[tuple[CoreOption, ...], list[Reason]]:
    found, reasons = _nodes(unit, platform, cpu)
    out: list[CoreOption] = []
    alone: dict[str, Reason | None] = {}
    for n in found:
        if n.scheduler not in alone:
            alone[n.scheduler] = hrt.alone_problem(unit, task, n.scheduler)  # type: ignore[arg-type]
        if alone[n.scheduler] is None:
            out.extend(CoreOption(node=n, core=k, rank=0) for k in range(n.cores))
    if found and not out:
        reasons += [r for r in alone.values() if r is not None]
    c = unit.contract
    return tuple(CoreOption(node=o.node, core=o.core, rank=r, pref=preference(c, 0, o.node.placement, o.node.tags))
                 for r, o in enumerate(out)), reasons


def _nodes(unit: Unit, platform: Platform, cpu: int) -> tuple[list[Node], list[Reason]]:
    c = unit.contract
    prefer = c.binding.prefer
    mem = c.mem_bytes or 0
    placed: list[Node] = []
    reasons: list[Reason] = []
    for n in platform.nodes:
        problem = _check_placed(unit, "node", n.name, n.placement, n.tags)
        if problem is None:
            placed.append(n)
    if not placed:
        must = c.binding.must
        what = " and ".join(x for x in (f"placement {fmt_list(must.placement)}" if must.placement else "",
                                        f"tags {fmt_list(must.tags)}" if must.tags else "") if x)
        return [], [reason("AC504", "/binding/must", name=unit.label, detail=f"no node satisfies must {what or 'placement'}")]
    fitting = [n for n in placed if n.cores * 1000 >= cpu and (n.mem_bytes is None or n.mem_bytes >= mem)]
    if not fitting:
        biggest = max(placed, key=lambda n: (n.cores, n.mem_bytes or 0))
        reasons.append(reason("AC510", "/compute", name=unit.label,
                              detail=f"needs {cpu}m CPU and {mem_text(mem)} memory; the largest eligible node "
                                     f"`{biggest.name}` has {biggest.cores * 1000}m and {mem_text(biggest.mem_bytes)}"))
        return [], reasons
    order = sorted(range(len(fitting)), key=lambda i: (preference(c, 0, fitting[i].placement, fitting[i].tags),
                                                       platform.nodes.index(fitting[i])))
    return [fitting[i] for i in order], reasons


def _tag_pref(prefer: tuple[str, ...], tags: tuple[str, ...]) -> int:
    return next((i for i, t in enumerate(prefer) if t in tags), len(prefer))


def mem_text(n: int | None) -> str:
    if n is None:
        return "unlimited"
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{fmt_num(Fraction(n, size))}{unit}"
    return f"{n}B"
