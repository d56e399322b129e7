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

from dataclasses import replace
from fractions import Fraction

from agentos_contracts.binding.options import (
    Candidates, ModelOption, Reason, ToolSlot, Unit, exact, fmt_list, fmt_ms, fmt_num, reason,
)
from agentos_contracts.binding.placement import (
    core_options, not_found, rank_of, embed_store, exact_version, node_options, placement_ok, preference,
    tags_ok, tool_slots,
)
from agentos_contracts.model.contract import AgentContract, BindingMode, DtSlo, HrtSlo, LatencyClass, SrtSlo
from agentos_contracts.model.platform import Model, Platform
from agentos_contracts.model.units import Ref, version_text
from agentos_contracts.validate.build import build_task

__all__ = ["build_candidates", "check_model", "model_options", "placement_ok", "reason", "tags_ok", "token_rate",
           "turn_detail"]

NS_PER_MIN = 60 * 10**9


def token_rate(c: AgentContract) -> tuple[int | Fraction, Reason | None]:
    """Tokens per minute reserved on the bound model, exactly: the budget when set, else what the SLO needs.

    SRT without a budget: one answer of ``max_output_tokens`` per ``turn_ms``, back to
    back. DT: enough for ``tokens_per_hour`` and to spend ``budgets.tokens`` by
    ``deadline_s``; a budget below that is itself a rejection. HRT: 0 (model work is
    inside the WCET on its core). The rate stays an exact rational (never rounded up
    per contract), so shares that fill a model exactly fit: 200000 + 100000 tokens/hour
    on 5000 tokens/min is admitted although neither share is a whole number per minute.
    """
    budget = c.budgets.tokens_per_minute
    if c.latency is LatencyClass.HRT:
        return 0, None
    if c.latency is LatencyClass.SRT:
        if budget is not None:
            return exact(budget), None
        assert isinstance(c.slo, SrtSlo)
        window = c.slo.turn_ns or c.slo.onset_ns
        return (exact(Fraction(c.max_output_tokens * NS_PER_MIN, window)) if window else 0), None
    assert isinstance(c.slo, DtSlo)
    need, why = Fraction(0), ""
    if c.slo.tokens_per_hour is not None:
        need, why = Fraction(c.slo.tokens_per_hour) / 60, f"tokens_per_hour {fmt_num(c.slo.tokens_per_hour)}"
    if c.slo.deadline_ns is not None and c.budgets.tokens is not None:
        by_deadline = Fraction(c.budgets.tokens) * NS_PER_MIN / c.slo.deadline_ns
        if by_deadline > need:
            need = by_deadline
            why = f"budgets.tokens {fmt_num(c.budgets.tokens)} within deadline_s {fmt_num(Fraction(c.slo.deadline_ns, 10**9))}"
    if budget is not None:
        if budget < need:
            return 0, reason("AC508", "/budgets/tokens_per_minute", name="{name}",
                             detail=f"{why} needs {fmt_num(need)} tokens/min but budgets.tokens_per_minute is {fmt_num(budget)}")
        return exact(budget), None
    return exact(need), None


def build_candidates(unit: Unit, platform: Platform) -> Candidates:
    c = unit.contract
    reasons: list[Reason] = []
    warnings: list[Reason] = []
    rate, bad_rate = token_rate(c)
    if bad_rate is not None:
        reasons.append(_named(bad_rate, unit))
    slots, tool_reasons = tool_slots(unit, platform)
    reasons += tool_reasons
    if c.latency is LatencyClass.HRT:
        slots, bound_reasons = hrt_tool_bound(unit, slots)
        reasons += bound_reasons
    models, needs_model, previous, model_reasons = model_options(unit, platform, slots, rate)
    reasons += model_reasons
    if not needs_model and (c.latency is LatencyClass.SRT or (c.latency is LatencyClass.DT and rate)):
        # fail closed: the SRT formulas and the DT rate are about a model; without one nothing is shown to fit
        what = "SRT needs a model to check onset and turn" if c.latency is LatencyClass.SRT else \
            f"DT needs a model to serve {fmt_num(rate)} tokens/min"
        reasons.append(reason("AC521", "/modelPolicy", name=unit.label, detail=f"{what}, and the contract names none"))
    store, store_reasons = embed_store(unit, platform)
    reasons += store_reasons
    cpu: int | Fraction = c.cpu_millicores or 0
    task = None
    nodes: tuple[NodeOption, ...] = ()
    cores: tuple[CoreOption, ...] = ()
    if c.latency is LatencyClass.HRT:
        task = build_task(c, name=unit.key)
        assert task is not None  # an HRT contract always has a task
        cpu = max(Fraction(cpu), task.utilization * 1000)  # its share of a core, exactly
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


def model_tiers(c: AgentContract) -> list[tuple[Ref, ...]]:
    """Ref lists to try in turn, most preferred first; strict reads `must` first.

    `prefer` is soft: when none of its refs fits, smooth and flexible fall back to what
    is allowed (`must.model`, else `modelPolicy.allow`) instead of rejecting.
    """
    b = c.binding
    hard = b.must.model or c.model_allow
    if b.mode is BindingMode.STRICT:
        first = b.must.model or b.prefer.model or c.model_allow
        return [first] if first else []
    return [tier for tier in (b.prefer.model, hard) if tier]


def model_options(unit: Unit, platform: Platform, slots: tuple[ToolSlot, ...],
                  rate: int | Fraction) -> tuple[tuple[ModelOption, ...], bool, dict[str, str], list[Reason]]:
    tiers = model_tiers(unit.contract)
    if not tiers:
        return (), False, {}, []
    found: tuple[tuple[ModelOption, ...], bool, dict[str, str], list[Reason]] = ((), True, {}, [])
    for refs in tiers:
        found = _tier_options(unit, platform, slots, rate, refs)
        if found[0]:
            break
    return found


def _tier_options(unit: Unit, platform: Platform, slots: tuple[ToolSlot, ...], rate: int | Fraction,
                  refs: tuple[Ref, ...]) -> tuple[tuple[ModelOption, ...], bool, dict[str, str], list[Reason]]:
    c = unit.contract
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
            reasons.append(not_found(unit, "model", ref, [m.version for m in platform.models if m.name == ref.name]))
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
    ranks = rank_of(options, lambda i: (prefs[i], platform.models.index(options[i].model)))
    options = [_withrank_of(o, ranks[i], prefs[i]) for i, o in enumerate(options)]
    return tuple(sorted(options, key=lambda o: o.rank)), True, previous, []


def _withrank_of(o: ModelOption, rank: int, pref: int) -> ModelOption:
    return ModelOption(model=o.model, ref=o.ref, rank=rank, pref=pref, onset_ns=o.onset_ns, output_ns=o.output_ns,
                       cost_per_min=o.cost_per_min)


def _model_option(unit: Unit, m: Model, ref: Ref, rank: int, rate: int | Fraction, overhead: int) -> ModelOption:
    c = unit.contract
    output = Fraction(c.max_output_tokens * 10**9) / m.tokens_per_s if m.tokens_per_s else Fraction(0)
    return ModelOption(model=m, ref=str(ref), rank=rank, onset_ns=m.onset_ns_p95 + overhead, output_ns=output,
                       cost_per_min=m.cost_per_1k_tokens * rate / 1000)


def check_model(unit: Unit, m: Model, slots: tuple[ToolSlot, ...], rate: int | Fraction, overhead: int) -> Reason | None:
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
    if c.latency is LatencyClass.HRT:
        assert isinstance(c.slo, HrtSlo)
        if m.onset_ns_p95 > c.slo.wcet_ns:
            return reason("AC542", "/class/slo/wcet_ms", name=unit.label,
                          detail=f"wcet_ms {fmt_ms(c.slo.wcet_ns)} < onset_ms_p95 {fmt_ms(m.onset_ns_p95)} of {label}")
    if m.capacity_tokens_per_min is not None and rate > m.capacity_tokens_per_min:
        code = "AC508" if c.latency is LatencyClass.DT else "AC509"
        if code == "AC508":
            return reason(code, "/class/slo", name=unit.label,
                          detail=f"needs {fmt_num(rate)} tokens/min, model `{label}` serves {fmt_num(m.capacity_tokens_per_min)} in all")
        return reason(code, name=unit.label, model=label, need=fmt_num(rate), free=fmt_num(m.capacity_tokens_per_min),
                      capacity=fmt_num(m.capacity_tokens_per_min), taken="")
    return None


def hrt_tool_bound(unit: Unit, slots: tuple[ToolSlot, ...]) -> tuple[tuple[ToolSlot, ...], list[Reason]]:
    """HRT: a job's worst case is never shorter than one tool round trip inside it (``rtt_ms_p95 ≤ wcet_ms``)."""
    slo = unit.contract.slo
    assert isinstance(slo, HrtSlo)
    kept: list[ToolSlot] = []
    reasons: list[Reason] = []
    for s in slots:
        fits = tuple(o for o in s.options if o.tool.rtt_ns_p95 <= slo.wcet_ns)
        if not fits and s.options:
            slow = min(s.options, key=lambda o: o.tool.rtt_ns_p95).tool
            reasons.append(reason("AC542", "/class/slo/wcet_ms", name=unit.label,
                                  detail=f"wcet_ms {fmt_ms(slo.wcet_ns)} < rtt_ms_p95 {fmt_ms(slow.rtt_ns_p95)} of "
                                         f"{slow.name}@{slow.version_text} ({slow.placement or 'any placement'})"))
        kept.append(replace(s, options=fits) if len(fits) != len(s.options) else s)
    return tuple(kept), reasons


def hrt_lower_bound(c: Candidates) -> tuple[int, str] | None:
    """The smallest ``wcet_ms`` the unit's eligible bindings allow, and which operation sets it."""
    found: list[tuple[int, str]] = []
    if c.models:
        m = min((o.model for o in c.models), key=lambda m: m.onset_ns_p95)
        found.append((m.onset_ns_p95, f"onset_ms_p95 {fmt_ms(m.onset_ns_p95)} of {m.name}@{m.version_text}"))
    for s in c.tools:
        if s.options:
            t = min((o.tool for o in s.options), key=lambda t: t.rtt_ns_p95)
            found.append((t.rtt_ns_p95, f"rtt_ms_p95 {fmt_ms(t.rtt_ns_p95)} of {t.name}@{t.version_text}"))
    return max(found) if found else None


def check_srt(unit: Unit, m: Model, label: str, slots: tuple[ToolSlot, ...], overhead: int, rate: int | Fraction) -> Reason | None:
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
        return reason("AC509", name=unit.label, model=label, need=fmt_num(rate), free=cap, capacity=cap, taken="")
    return None


def turn_detail(onset: int, tools: int | Fraction, tokens: int, m: Model, output: Fraction) -> str:
    return (f"onset {fmt_ms(onset)} + tools {fmt_ms(tools)} + {tokens} output tokens at "
            f"{fmt_num(m.tokens_per_s or 0)}/s {fmt_ms(output)} with model `{m.name}@{m.version_text}` "
            f"({m.node or m.placement})")


