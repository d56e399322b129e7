"""Checked document data → model objects: the only converter.

Callers pass data that validated cleanly (and, for contracts, was merged through the
configuration layers), so conversion failures here are bugs, not user errors. Task sets
are built here too, so `sched` (layer 2) only ever sees ``model.tasks`` and never the
documents: `agentos sched` and binding both come through this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from agentos_contracts.diagnostics import Span
from agentos_contracts.model import units
from agentos_contracts.model.contract import (
    AgentContract, Binding, BindingMode, Budgets, Canary, DtSlo, Fallback, HrtSlo, LatencyClass, Memory,
    Requirements, SrtSlo,
)
from agentos_contracts.model.platform import EmbedStore, Model, Node, Platform, Role, Tenant, Tool
from agentos_contracts.model.tasks import Scheduler, Task, TaskSet
from agentos_contracts.model.workflow import HITL, Step, Workflow
from agentos_contracts.validate.contract import mapping, str_list


def _ms(v: Any) -> int | None:
    return None if v is None else units.ms_to_ns(v)


def _frac(v: Any) -> Fraction | None:
    return None if v is None else units.to_fraction(v)


# the MCP tool descriptor a platform's tool entry carries inline (its digest is sealed)
MCP_TOOL_FIELDS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")


def _memory_arg(v: Any) -> str | None:
    """Catalog `memory: true` or `memory: {namespace_arg: NAME}` → the namespace argument's name."""
    if v is True:
        return "namespace"
    if isinstance(v, Mapping):
        return str(v.get("namespace_arg", "namespace"))
    return None


def _int(v: Any) -> Any:
    """JSON Schema counts `2.0` as an integer; the model wants a Python int."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


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
        max_context_tokens=_int(mp.get("max_context_tokens")),
        max_output_tokens=_int(mp.get("max_output_tokens", 256)),
        memory=Memory(namespace=mem.get("namespace"), retention_days=_frac(mem.get("retention_days")),
                      top_k=_int(rag.get("top_k")), require_grounding=bool(rag.get("require_grounding", False))),
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
        nodes=tuple(Node(name=n["name"], placement=n["placement"], cores=_int(n["cores"]),
                         mem_bytes=None if n.get("mem") is None else units.parse_bytes(n["mem"]),
                         scheduler=n.get("scheduler", "EDF"), tags=_strs(n.get("tags")))
                    for n in data.get("nodes") or []),
        models=tuple(Model(name=m["name"], version=units.parse_version(m["version"]), placement=m["placement"],
                           node=m.get("node"), onset_ns_p95=_ms(m.get("onset_ms_p95")) or 0,
                           tokens_per_s=_frac(m.get("tokens_per_s")),
                           max_context_tokens=_int(m.get("max_context_tokens")),
                           cost_per_1k_tokens=_frac(m.get("cost_per_1k_tokens")) or Fraction(0),
                           capacity_tokens_per_min=_frac(m.get("capacity_tokens_per_min")), tags=_strs(m.get("tags")))
                     for m in data.get("models") or []),
        tools=tuple(Tool(name=t["name"], version=units.parse_version(t["version"]), placement=t.get("placement"),
                         rtt_ns_p95=_ms(t.get("rtt_ms_p95")) or 0,
                         descriptor={k: t[k] for k in MCP_TOOL_FIELDS if k in t},
                         tags=_strs(t.get("tags")), memory_arg=_memory_arg(t.get("memory")))
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


# --- task sets -----------------------------------------------------------------------------

SpanOf = Callable[[str], Span]

CONTRACTS_SET = "hrt-contracts"
CONTRACTS_SCHEDULER = Scheduler.EDF  # HRT contracts given together: one EDF core unless told otherwise


def _task(name: str, slo: HrtSlo, **where: Any) -> Task:
    return Task(name=name, period_ns=slo.period_ns, wcet_ns=slo.wcet_ns, deadline_ns=slo.deadline_ns,
                jitter_ns=slo.jitter_ns, blocking_ns=slo.blocking_ns, **where)


def build_taskset(data: Mapping[str, Any], file: str = "", *, span_of: SpanOf | None = None,
                  scheduler: Scheduler | None = None) -> TaskSet:
    """A ``TaskSet`` document; ``scheduler`` overrides the document's (``--scheduler``).

    Task order is document order: fixed-priority analyses break priority ties by it.
    Each task's timing goes through the HRT SLO conversion, so a task and a contract
    with the same numbers get the same ns (period and deadline default to each other).
    """
    tasks = []
    for i, raw in enumerate(data.get("tasks") or []):
        pointer = f"/tasks/{i}"
        tasks.append(_task(raw["name"], _slo(LatencyClass.HRT, raw), priority=_int(raw.get("priority")),
                           core=_int(raw.get("core")), span=span_of(pointer) if span_of else None, path=pointer))
    return TaskSet(name=data["name"], scheduler=scheduler or Scheduler(data.get("scheduler", "RM")),
                   cores=_int(data.get("cores", 1)), tasks=tuple(tasks), file=file,
                   span=span_of("/name") if span_of else None)


def build_task(contract: AgentContract | Mapping[str, Any], *, name: str | None = None,
               span_of: SpanOf | None = None) -> Task | None:
    """The task of an HRT contract (None for SRT and DT), named ``name`` or the contract's.

    Takes a built ``AgentContract`` (binding) or checked contract data (`agentos sched`,
    which analyses contracts without a platform to layer them on); ``span_of`` locates
    the data's SLO for diagnostics.
    """
    if isinstance(contract, AgentContract):
        if not isinstance(contract.slo, HrtSlo):
            return None
        return _task(name or contract.name, contract.slo)
    cls = contract.get("class") or {}
    if cls.get("latency") != LatencyClass.HRT.value:
        return None
    slo = _slo(LatencyClass.HRT, cls.get("slo") or {})
    assert isinstance(slo, HrtSlo)
    return _task(name or contract["name"], slo, span=span_of("/class/slo") if span_of else None, path="/class/slo")


def build_contracts_taskset(tasks: Sequence[Task], *, scheduler: Scheduler | None = None, cores: int = 1,
                            file: str = "", name: str = CONTRACTS_SET) -> TaskSet:
    """All HRT contracts of one run as one set: they share the platform's HRT core(s)."""
    return TaskSet(name=name, scheduler=scheduler or CONTRACTS_SCHEDULER, cores=cores, tasks=tuple(tasks), file=file)


def build_reserved_task(record: Mapping[str, Any], name: str) -> Task:
    """The task a sealed reservation record holds (``binding.ledger.reservation_record``)."""
    return Task(name=name, wcet_ns=int(record["wcet_ns"]), period_ns=int(record["period_ns"]),
                deadline_ns=int(record["deadline_ns"]), jitter_ns=int(record.get("jitter_ns", 0)),
                blocking_ns=int(record.get("blocking_ns", 0)))


def is_hrt_contract(data: Any) -> bool:
    """Whether document data is an HRT contract: what `agentos sched` picks out of its paths."""
    if not isinstance(data, dict) or data.get("kind") != "AgentContract":
        return False
    cls = data.get("class")
    return isinstance(cls, dict) and cls.get("latency") == LatencyClass.HRT.value
