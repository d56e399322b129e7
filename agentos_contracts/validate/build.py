"""Checked document data → model objects: the only converter.

Callers pass data that validated cleanly (and, for contracts, was merged through the
configuration layers), so conversion failures here are bugs, not user errors.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping

from agentos_contracts.model import units
from agentos_contracts.model.contract import (
    AgentContract, Binding, BindingMode, Budgets, Canary, DtSlo, Fallback, HrtSlo, LatencyClass, Memory,
    Requirements, SrtSlo,
)
from agentos_contracts.model.platform import EmbedStore, Model, Node, Platform, Role, Tenant, Tool
from agentos_contracts.model.workflow import HITL, Step, Workflow
from agentos_contracts.validate.contract import mapping, str_list


def _ms(v: Any) -> int | None:
    return None if v is None else units.ms_to_ns(v)


def _frac(v: Any) -> Fraction | None:
    return None if v is None else units.to_fraction(v)


def _strs(v: Any) -> tuple[str, ...]:
    return tuple(s for _, s in str_list(v))


def _placements(v: Any) -> tuple[str, ...]:
    return tuple("edge" if p == "edge-only" else p for p in _strs(v))


def requirements(data: Mapping[str, Any]) -> Requirements:
    return Requirements(
        model=tuple(units.parse_ref(r) for r in _strs(data.get("model"))),
        tools=tuple(units.parse_ref(r) for r in _strs(data.get("tools"))),
        placement=_placements(data.get("placement")),
        embed_store=_strs(data.get("embed_store")),
        tags=_strs(data.get("tags")),
    )


def _slo(latency: LatencyClass, slo: Mapping[str, Any]) -> HrtSlo | SrtSlo | DtSlo:
    if latency is LatencyClass.HRT:
        period = slo.get("period_ms", slo.get("deadline_ms"))
        deadline = slo.get("deadline_ms", slo.get("period_ms"))
        return HrtSlo(wcet_ns=units.ms_to_ns(slo["wcet_ms"]), period_ns=units.ms_to_ns(period),
                      deadline_ns=units.ms_to_ns(deadline), jitter_ns=_ms(slo.get("jitter_ms")) or 0,
                      blocking_ns=_ms(slo.get("blocking_ms")) or 0)
    if latency is LatencyClass.SRT:
        return SrtSlo(onset_ns=_ms(slo.get("onset_ms")), turn_ns=_ms(slo.get("turn_ms")),
                      jitter_p95_pct=_frac(slo.get("jitter_p95_pct")))
    deadline_s = slo.get("deadline_s")
    return DtSlo(tokens_per_hour=_frac(slo.get("tokens_per_hour")),
                 deadline_ns=None if deadline_s is None else units.s_to_ns(deadline_s))


def _binding(data: Mapping[str, Any]) -> Binding:
    fallbacks = []
    for fb in data.get("allow_fallbacks") or []:
        sub = mapping(fb, "substitute")
        fallbacks.append(Fallback(when=fb["when"], substitute=requirements(sub), redact=bool(sub.get("redact", False))))
    canary = None
    if isinstance(data.get("canary"), dict):
        c = data["canary"]
        rb = mapping(c, "rollback_on")
        canary = Canary(percent=units.to_fraction(c.get("percent", 0)), latency_p95_ns=_ms(rb.get("latency_p95_ms")),
                        error_rate_pct=_frac(rb.get("error_rate_pct")))
    return Binding(mode=BindingMode(data.get("mode", "strict")), must=requirements(mapping(data, "must")),
                   prefer=requirements(mapping(data, "prefer")), fallbacks=tuple(fallbacks), canary=canary)


def build_contract(data: Mapping[str, Any], file: str = "", base_dir: Path | None = None) -> AgentContract:
    """``base_dir`` resolves `policies` (relative to the contract file)."""
    cls = mapping(data, "class")
    latency = LatencyClass(cls["latency"])
    compute = mapping(data, "compute")
    mp = mapping(data, "modelPolicy")
    mem = mapping(data, "memory")
    rag = mapping(mem, "rag")
    budgets = mapping(data, "budgets")
    base = base_dir if base_dir is not None else (Path(file).parent if file else Path("."))
    return AgentContract(
        name=data["name"], latency=latency, slo=_slo(latency, mapping(cls, "slo")),
        version=data.get("version"), tenant=data.get("tenant"), role=data.get("role"),
        capabilities=_strs(data.get("capabilities")),
        consent_for=_strs(mapping(data, "security").get("consent_for")),
        cpu_millicores=None if compute.get("cpu") is None else units.parse_millicores(compute["cpu"]),
        mem_bytes=None if compute.get("mem") is None else units.parse_bytes(compute["mem"]),
        model_allow=tuple(units.parse_ref(r) for r in _strs(mp.get("allow"))),
        max_context_tokens=mp.get("max_context_tokens"),
        max_output_tokens=mp.get("max_output_tokens", 256),
        memory=Memory(namespace=mem.get("namespace"), retention_days=_frac(mem.get("retention_days")),
                      top_k=rag.get("top_k"), require_grounding=bool(rag.get("require_grounding", False))),
        budgets=Budgets(**{k: _frac(budgets.get(k)) for k in
                           ("tokens", "tokens_per_minute", "calls", "calls_per_minute", "cost_per_day")}),
        policies=tuple(str(base / p) for p in _strs(data.get("policies"))),
        binding=_binding(mapping(data, "binding")),
        file=file, document=data,
    )


def build_platform(data: Mapping[str, Any], file: str = "") -> Platform:
    base = Path(file).parent if file else Path(".")
    return Platform(
        name=data["name"],
        nodes=tuple(Node(name=n["name"], placement=n["placement"], cores=n["cores"],
                         mem_bytes=None if n.get("mem") is None else units.parse_bytes(n["mem"]),
                         scheduler=n.get("scheduler", "EDF"), tags=_strs(n.get("tags")))
                    for n in data.get("nodes") or []),
        models=tuple(Model(name=m["name"], version=units.parse_version(m["version"]), placement=m["placement"],
                           node=m.get("node"), onset_ns_p95=_ms(m.get("onset_ms_p95")) or 0,
                           tokens_per_s=_frac(m.get("tokens_per_s")), max_context_tokens=m.get("max_context_tokens"),
                           cost_per_1k_tokens=_frac(m.get("cost_per_1k_tokens")) or Fraction(0),
                           capacity_tokens_per_min=_frac(m.get("capacity_tokens_per_min")), tags=_strs(m.get("tags")))
                     for m in data.get("models") or []),
        tools=tuple(Tool(name=t["name"], version=units.parse_version(t["version"]), placement=t.get("placement"),
                         rtt_ns_p95=_ms(t.get("rtt_ms_p95")) or 0,
                         descriptor={k: t[k] for k in ("name", "description", "inputSchema", "outputSchema", "annotations")
                                     if k in t},
                         tags=_strs(t.get("tags")))
                    for t in data.get("tools") or []),
        embed_stores=tuple(EmbedStore(name=e["name"], placement=e.get("placement"), tags=_strs(e.get("tags")))
                           for e in data.get("embed_stores") or []),
        defaults=mapping(data, "defaults"),
        tenants=tuple(Tenant(name=t["name"], defaults=mapping(t, "defaults"),
                             roles=tuple(Role(name=r["name"], defaults=mapping(r, "defaults")) for r in t.get("roles") or []))
                      for t in data.get("tenants") or []),
        orchestration_overhead_ns=_ms(data.get("orchestration_overhead_ms")) or 0,
        reservations=tuple(str(base / p) for p in _strs(data.get("reservations"))),
        file=file, document=data,
    )


def build_workflow(data: Mapping[str, Any], contracts: Mapping[str, Mapping[str, Any]] | None = None,
                   file: str = "") -> Workflow:
    """``contracts`` (agent name → contract data) fills in step times from the agents' SLOs."""
    from agentos_contracts.validate.workflow import data_edges, step_time_ns

    steps = []
    for s in data.get("steps") or []:
        steps.append(Step(
            id=s["id"], agent=s.get("agent"), kind=HITL if s.get("type") == HITL else "agent", bind=s.get("bind"),
            inputs=tuple(mapping(s, "in")), outputs=tuple(mapping(s, "out")),
            consent_for=_strs(mapping(s, "policy").get("consent_for")),
            timeout_s=s.get("timeout_s"), escalate_to=s.get("escalate_to"),
            turn_ns=step_time_ns(s, contracts or {}), override=mapping(s, "contract"),
        ))
    return Workflow(name=data["name"], steps=tuple(steps), edges=tuple(sorted(data_edges(data))),
                    deadline_ns=_ms(data.get("deadline_ms")), inputs=tuple(mapping(data, "inputs")),
                    file=file, document=data)
