"""The binding manifest of an admitted contract or workflow (everything but policy and seal).

Admission adds the compiled policy and seals; this module only turns the decision
into the predicate's values: requested vs resolved, SLO evidence, budgets, fallbacks,
canary, provenance, and the ``requested.reservation`` record later admissions count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from agentos_contracts.binding.hrt import CoreEvidence
from agentos_contracts.binding.layering import Layered
from agentos_contracts.binding.ledger import Ledger, reservation_record
from agentos_contracts.binding.options import Candidates, Choice, Reason
from agentos_contracts.model import manifest as mf
from agentos_contracts.model.contract import AgentContract
from agentos_contracts.model.platform import Platform
from agentos_contracts.model.units import ns_to_ms_number, to_fraction
from agentos_contracts.model.workflow import Step, Workflow


@dataclass(slots=True)
class Bound:
    """One admitted unit with everything its manifest (or its workflow's) needs."""

    candidates: Candidates
    choice: Choice
    layered: Layered
    fallbacks: list[dict[str, Any]] = field(default_factory=list)
    evidence: CoreEvidence | None = None

    @property
    def data(self) -> dict[str, Any]:
        return self.layered.data

    def budgets(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The contract's budgets, plus the token rate admission reserved when the contract left it open.

        The runtime enforces budgets, so the rate reserved is also the rate allowed: a
        reservation that the agent could exceed would not prevent overbooking. The budget
        is a whole number of tokens per minute, the exact reserved rate rounded up (so the
        agent gets all it needs; it may exceed the reservation by less than one token/min).
        """
        budgets = dict(self.data.get("budgets") or {})
        extra: dict[str, str] = {}
        if self.choice.model is not None and self.candidates.tokens_per_min and "tokens_per_minute" not in budgets:
            budgets["tokens_per_minute"] = math.ceil(self.candidates.tokens_per_min)
            extra["/budgets/tokens_per_minute"] = "admission"
        return budgets, extra

    def requested(self) -> dict[str, Any]:
        return {"binding": self.data.get("binding") or {}, "compute": self.data.get("compute") or {},
                "reservation": reservation_record(self.candidates, self.choice)}


Digest = Callable[[Mapping[str, Any]], str]  # canonical digest of an MCP tool descriptor (the seal's)


def resolved(bounds: list[Bound], digest: Digest) -> mf.Resolved:
    models: list[mf.ResolvedModel] = []
    tools: list[mf.ResolvedTool] = []
    placement: list[mf.Placement] = []
    store = None
    for b in bounds:
        ch = b.choice
        if ch.model is not None:
            m = ch.model.model
            rm = mf.ResolvedModel(name=m.name, version=m.version_text, ref=ch.model.ref, placement=m.placement, node=m.node)
            if rm not in models:
                models.append(rm)
        for o in ch.tools:
            rt = mf.ResolvedTool(name=o.tool.name, version=o.tool.version_text,
                                 descriptor_digest=digest(o.tool.descriptor), placement=o.tool.placement,
                                 descriptor=dict(o.tool.descriptor))
            if rt not in tools:
                tools.append(rt)
        if ch.store is not None and store is None:
            store = mf.EmbedStore(name=ch.store.name, placement=ch.store.placement)
        placement.append(mf.Placement(node=ch.node.name, core=ch.core))
    return mf.Resolved(models=tuple(models), tools=tuple(tools), embed_store=store, placement=tuple(placement))


def schedulability(b: Bound) -> mf.Schedulability | None:
    ev = b.evidence
    if ev is None or b.choice.core is None:
        return None
    return mf.Schedulability(
        scheduler=ev.scheduler, node=b.choice.node.name, core=b.choice.core,
        response_time_ms=None if ev.response_time_ns is None else ns_to_ms_number(ev.response_time_ns),
        deadline_ms=ns_to_ms_number(ev.deadline_ns), utilization=ev.utilization,
        slack_ms=None if ev.slack_ns is None else ns_to_ms_number(ev.slack_ns), utilization_exact=ev.utilization_exact)


def canary(b: Bound) -> mf.Canary | None:
    data = (b.data.get("binding") or {}).get("canary")
    if not isinstance(data, dict):
        return None
    previous: dict[str, str] = {}
    if b.choice.model is not None:
        m = b.choice.model.model
        prev = b.candidates.previous.get(f"{m.name}@{m.version_text}")
        if prev is not None:
            previous[m.name] = prev
    return mf.Canary(percent=data.get("percent", 0), rollback_on=dict(data.get("rollback_on") or {}), previous=previous)


def contract_manifest(b: Bound, *, agentos_version: str, policy: mf.PolicyRef | None, digest: Digest,
                      clock: Mapping[str, Any]) -> mf.BindingManifest:
    c = b.candidates.unit.contract
    budgets, extra = b.budgets()
    return mf.BindingManifest(
        agentos_version=agentos_version, kind="AgentContract", name=c.name, tenant=c.tenant, role=c.role,
        latency_class=c.latency.value, binding_mode=c.binding.mode.value, requested=b.requested(),
        resolved=resolved([b], digest), slo=dict((b.data.get("class") or {}).get("slo") or {}),
        schedulability=schedulability(b), policy=policy, capabilities=tuple(dict.fromkeys(c.capabilities)),
        consent_for=tuple(dict.fromkeys(c.consent_for)),
        budgets=budgets, fallbacks=tuple(mf.Fallback(when=f["when"], substitute=f["substitute"]) for f in b.fallbacks),
        canary=canary(b), provenance={**b.layered.provenance, **extra}, **clock)


Ceiling = tuple[tuple[str, ...], tuple[str, ...]]  # (capabilities, consent_for)


def step_ceiling(step: Step, bound: Bound | None, agent: AgentContract | None = None) -> Ceiling:
    """A step's own ``(capabilities, consent_for)``: least privilege across delegations (004, 4.3).

    The runtime holds every call made inside a step to these before the workflow-wide
    ceiling, so one agent's grants never leak to another's step. An agent step gets its
    bound contract's capabilities (layering makes them the override's when it lists some,
    else the agent's) and consent list, plus any consent its agent (``agent``: layered
    without the override) asks for inside that ceiling, which an override listing its own
    consent would otherwise drop; outside it such an entry would be a grant, so it is left
    out. A HITL step may only do what it approves, and only with consent. An agent step
    that was not bound gets nothing (fail closed).
    """
    if step.is_hitl:
        approved = tuple(dict.fromkeys(step.consent_for))
        return approved, approved
    if bound is None:
        return (), ()
    c = bound.candidates.unit.contract
    within = set(c.ceiling)
    kept = tuple(a for a in (agent.consent_for if agent is not None else ()) if _covered(a, within))
    return tuple(dict.fromkeys(c.capabilities)), tuple(dict.fromkeys(c.consent_for + kept))


def _covered(action: str, patterns: set[str]) -> bool:
    """Is ``action`` (itself possibly an ``x.*`` pattern) inside one of ``patterns``?"""
    if action in patterns or "*" in patterns:
        return True
    stem = action[:-1] if action.endswith(".*") else action
    return any(p.endswith(".*") and stem.startswith(p[:-1]) for p in patterns)


def workflow_manifest(wf: Workflow, steps: Mapping[str, Bound], *, agentos_version: str, policy: mf.PolicyRef | None,
                      digest: Digest, clock: Mapping[str, Any],
                      agents: Mapping[str, AgentContract] | None = None) -> mf.BindingManifest:
    """One manifest for the whole workflow: union ceiling, each step's own ceiling, per-step reservations.

    ``agents`` are the step agents' own contracts (layered, without the step override),
    whose consent a step keeps (see ``step_ceiling``).
    """
    order = [s for s in wf.steps if not s.is_hitl and s.id in steps]
    ceilings = {s.id: step_ceiling(s, steps.get(s.id), (agents or {}).get(s.agent or "")) for s in wf.steps}
    capabilities: list[str] = []
    consent: list[str] = []
    provenance: dict[str, Any] = {}
    fallbacks: list[mf.Fallback] = []
    requested: dict[str, Any] = {}
    for s in order:
        b = steps[s.id]
        c = b.candidates.unit.contract
        capabilities += [a for a in c.capabilities if a not in capabilities]
        consent += [a for a in c.consent_for if a not in consent]
        _, extra = b.budgets()
        provenance.update({f"/steps/{s.id}{p}": layer for p, layer in {**b.layered.provenance, **extra}.items()})
        fallbacks += [mf.Fallback(when=f["when"], substitute={**f["substitute"], "step": s.id}) for f in b.fallbacks]
        requested[s.id] = {"agent": s.agent, **b.requested()}
    for s in wf.steps:
        if s.is_hitl:
            consent += [a for a in s.consent_for if a not in consent]
    plan = mf.WorkflowPlan(
        steps=tuple(mf.WorkflowStep(id=s.id, agent=s.agent, capabilities=ceilings[s.id][0],
                                    consent_for=ceilings[s.id][1], timeout_s=s.timeout_s, escalate_to=s.escalate_to,
                                    depends_on=wf.predecessors(s.id), out=_declared_out(wf, s.id))
                    for s in wf.steps),
        deadline_ms=None if wf.deadline_ns is None else ns_to_ms_number(wf.deadline_ns))
    return mf.BindingManifest(
        agentos_version=agentos_version, kind="Workflow", name=wf.name, requested={"steps": requested},
        resolved=resolved([steps[s.id] for s in order], digest),
        slo={} if wf.deadline_ns is None else {"deadline_ms": ns_to_ms_number(wf.deadline_ns)},
        policy=policy, capabilities=tuple(capabilities), consent_for=tuple(consent),
        budgets=summed_budgets([steps[s.id] for s in order]), fallbacks=tuple(fallbacks), provenance=provenance,
        workflow=plan, **clock)


def _declared_out(wf: Workflow, step_id: str) -> dict[str, Any]:
    """A step's `out` (name → type) as written, so the runtime can check what the step returns."""
    steps = wf.document.get("steps") if isinstance(wf.document, Mapping) else None
    for s in steps if isinstance(steps, list) else []:
        if isinstance(s, Mapping) and s.get("id") == step_id and isinstance(s.get("out"), Mapping):
            return dict(s["out"])
    return {}


def summed_budgets(bounds: list[Bound]) -> dict[str, Any]:
    """A workflow's budgets: each key summed over its agent steps, kept only if every step limits it."""
    per = [b.budgets()[0] for b in bounds]
    if not per:
        return {}
    keys = set(per[0]).intersection(*per[1:])
    out: dict[str, Any] = {}
    for k in sorted(keys):
        total = sum((to_fraction(p[k]) for p in per), to_fraction(0))
        out[k] = int(total) if total.denominator == 1 else float(total)
    return out


def bind(c: Candidates, choice: Choice, layered: Layered, platform: Platform, ledger: Ledger) -> tuple[Bound, list[Reason]]:
    """An admitted unit with its fallbacks resolved and its HRT evidence, plus warnings for its author."""
    from agentos_contracts.binding import explain, hrt
    from agentos_contracts.binding.fallbacks import resolve_fallbacks

    fallbacks, dropped = resolve_fallbacks(c, choice, platform)
    evidence = None
    if c.task is not None and choice.core is not None:
        evidence = hrt.evidence(c.task, ledger.tasks.get((choice.node.name, choice.core), []), choice.node.scheduler,
                                choice.core)
    bound = Bound(candidates=c, choice=choice, layered=layered, fallbacks=fallbacks, evidence=evidence)
    return bound, list(dropped) + explain.choice_warnings(c, choice)
