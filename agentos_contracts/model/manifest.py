"""BindingManifest: what admission decided, what seal signs and what the runtime obeys.

The runtime decides from the manifest and nothing else, so everything it needs is here:
the resolved bindings, the policy, the ceiling, budgets, fallbacks and canary, plus
the evidence behind the decision (schedulability, provenance). Field names in JSON
are camelCase, as in-toto predicates are; ``docs/manifest.md`` documents each one and
``schemas/binding-manifest.schema.json`` checks them. Free-form parts copied from the
contract as written (``requested``, ``slo``, ``budgets``...) stay plain JSON values;
they are excluded from hashing so the dataclasses stay hashable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

FORMAT_VERSION = 1
SEMANTICS_VERSION = "agentos/v0.2"
KNOWN_FORMAT_VERSIONS = frozenset({1})
KNOWN_SEMANTICS_VERSIONS = frozenset({SEMANTICS_VERSION})

Number = int | float
JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvedModel:
    name: str
    version: str
    ref: str  # the reference as requested, e.g. `llm@>=2.0.0,<3.0.0`
    placement: str
    node: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvedTool:
    name: str
    version: str
    descriptor_digest: str  # sha256 of the MCP tool descriptor's canonical JSON
    placement: str | None = None
    # the MCP descriptor itself (name, description, inputSchema, ...), so the runtime can
    # check arguments from the sealed manifest alone; its digest must equal descriptor_digest
    descriptor: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class EmbedStore:
    name: str
    placement: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Placement:
    node: str
    core: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolved:
    models: tuple[ResolvedModel, ...] = ()
    tools: tuple[ResolvedTool, ...] = ()
    embed_store: EmbedStore | None = None
    placement: tuple[Placement, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedulability:
    """The HRT evidence: where the task runs and by what margin it meets its deadline."""

    scheduler: str
    node: str
    core: int
    response_time_ms: Number | None  # None: EDF, or an unbounded busy period
    deadline_ms: Number
    utilization: Number  # of the core, rounded for display
    slack_ms: Number | None
    utilization_exact: str | None = None  # "n/d", the exact figure the verdict used


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyRef:
    digest: str
    document: JsonObject | None = field(default=None, hash=False)  # the compiled policy, inline
    file: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Fallback:
    when: str
    substitute: JsonObject = field(hash=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Canary:
    percent: Number
    rollback_on: JsonObject = field(default_factory=dict, hash=False)
    previous: Mapping[str, str] = field(default_factory=dict, hash=False)  # model name -> `name@version`


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowStep:
    """One step and its own ceiling, so a call made inside it is held to its agent's contract.

    ``capabilities`` is the step agent's ceiling narrowed by the step's override (a HITL
    step: what it approves); ``consent_for`` is what needs consent inside the step. The
    default is the empty ceiling: a step the manifest grants nothing can do nothing.
    """

    id: str
    agent: str | None  # None for a HITL approval step
    capabilities: tuple[str, ...] = ()
    consent_for: tuple[str, ...] = ()
    timeout_s: Number | None = None
    escalate_to: str | None = None
    depends_on: tuple[str, ...] = ()
    out: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)  # declared output types
    # the step agent's layered sections (as on a contract manifest), enforced on calls made inside the step
    model_policy: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    memory: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    observability: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowPlan:
    steps: tuple[WorkflowStep, ...]
    deadline_ms: Number | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BindingManifest:
    agentos_version: str
    kind: str  # AgentContract | Workflow
    name: str
    format_version: int = FORMAT_VERSION
    semantics_version: str = SEMANTICS_VERSION
    tenant: str | None = None
    role: str | None = None
    latency_class: str | None = None
    binding_mode: str | None = None
    requested: JsonObject = field(default_factory=dict, hash=False)
    resolved: Resolved = field(default_factory=Resolved)
    slo: JsonObject = field(default_factory=dict, hash=False)
    schedulability: Schedulability | None = None
    policy: PolicyRef | None = None
    capabilities: tuple[str, ...] = ()
    consent_for: tuple[str, ...] = ()
    budgets: JsonObject = field(default_factory=dict, hash=False)
    fallbacks: tuple[Fallback, ...] = ()
    canary: Canary | None = None
    provenance: Mapping[str, Any] = field(default_factory=dict, hash=False)  # JSON Pointer -> layer or [layers]
    workflow: WorkflowPlan | None = None
    issued_at: str | None = None  # RFC 3339, UTC
    expires_at: str | None = None
    sequence: int | None = None
    # the layered sections the runtime enforces (documents.md, "Everything sealed is enforced"):
    # modelPolicy {allow, maxContextTokens, maxOutputTokens}, memory {namespace, retentionDays, rag, tools},
    # observability {tracing, logFields}, compute {cpu, mem}; empty = not set (written only when set)
    model_policy: JsonObject = field(default_factory=dict, hash=False)
    memory: JsonObject = field(default_factory=dict, hash=False)
    observability: JsonObject = field(default_factory=dict, hash=False)
    compute: JsonObject = field(default_factory=dict, hash=False)
    unchecked_actions: tuple[str, ...] = ()  # granted actions with no catalog tool: no argument check

    def to_json(self) -> JsonObject:
        """The predicate as JSON values (the optional clock and sequence fields only when set)."""
        out: JsonObject = {
            "formatVersion": self.format_version,
            "semanticsVersion": self.semantics_version,
            "agentosVersion": self.agentos_version,
            "kind": self.kind,
            "name": self.name,
            "tenant": self.tenant,
            "role": self.role,
            "latencyClass": self.latency_class,
            "bindingMode": self.binding_mode,
            "requested": self.requested,
            "resolved": _resolved_json(self.resolved),
            "slo": self.slo,
            "schedulability": None if self.schedulability is None else _sched_json(self.schedulability),
            "policy": None if self.policy is None else _policy_json(self.policy),
            "capabilities": list(self.capabilities),
            "consentFor": list(self.consent_for),
            "budgets": self.budgets,
            "fallbacks": [{"when": f.when, "substitute": f.substitute} for f in self.fallbacks],
            "canary": None if self.canary is None else _canary_json(self.canary),
            "provenance": dict(self.provenance),
            "workflow": None if self.workflow is None else _workflow_json(self.workflow),
        }
        for key, value in (("issuedAt", self.issued_at), ("expiresAt", self.expires_at), ("sequence", self.sequence)):
            if value is not None:
                out[key] = value
        for key, section in (("modelPolicy", self.model_policy), ("memory", self.memory),
                             ("observability", self.observability), ("compute", self.compute)):
            if section:
                out[key] = section
        if self.unchecked_actions:
            out["uncheckedActions"] = list(self.unchecked_actions)
        return out

    @staticmethod
    def from_json(doc: Mapping[str, Any]) -> BindingManifest:
        """The inverse of ``to_json`` for a predicate that passed the manifest schema."""
        sched, policy, canary, flow = doc["schedulability"], doc["policy"], doc["canary"], doc["workflow"]
        return BindingManifest(
            format_version=doc["formatVersion"],
            semantics_version=doc["semanticsVersion"],
            agentos_version=doc["agentosVersion"],
            kind=doc["kind"],
            name=doc["name"],
            tenant=doc["tenant"],
            role=doc["role"],
            latency_class=doc["latencyClass"],
            binding_mode=doc["bindingMode"],
            requested=doc["requested"],
            resolved=_resolved(doc["resolved"]),
            slo=doc["slo"],
            schedulability=None if sched is None else _sched(sched),
            policy=None if policy is None else PolicyRef(
                digest=policy["digest"], document=policy["document"], file=policy["file"]
            ),
            capabilities=tuple(doc["capabilities"]),
            consent_for=tuple(doc["consentFor"]),
            budgets=doc["budgets"],
            fallbacks=tuple(Fallback(when=f["when"], substitute=f["substitute"]) for f in doc["fallbacks"]),
            canary=None if canary is None else Canary(
                percent=canary["percent"], rollback_on=canary["rollbackOn"], previous=dict(canary["previous"])
            ),
            provenance=dict(doc["provenance"]),
            workflow=None if flow is None else _workflow(flow),
            issued_at=doc.get("issuedAt"),
            expires_at=doc.get("expiresAt"),
            sequence=doc.get("sequence"),
            model_policy=dict(doc.get("modelPolicy") or {}),
            memory=dict(doc.get("memory") or {}),
            observability=dict(doc.get("observability") or {}),
            compute=dict(doc.get("compute") or {}),
            unchecked_actions=tuple(doc.get("uncheckedActions") or ()),
        )


def _resolved_json(r: Resolved) -> JsonObject:
    return {
        "models": [
            {"name": m.name, "version": m.version, "ref": m.ref, "placement": m.placement, "node": m.node}
            for m in r.models
        ],
        "tools": [
            {"name": t.name, "version": t.version, "descriptorDigest": t.descriptor_digest, "placement": t.placement,
             **({"descriptor": dict(t.descriptor)} if t.descriptor is not None else {})}
            for t in r.tools
        ],
        "embedStore": None if r.embed_store is None else {
            "name": r.embed_store.name, "placement": r.embed_store.placement
        },
        "placement": [{"node": p.node, "core": p.core} for p in r.placement],
    }


def _resolved(doc: Mapping[str, Any]) -> Resolved:
    store = doc["embedStore"]
    return Resolved(
        models=tuple(
            ResolvedModel(name=m["name"], version=m["version"], ref=m["ref"], placement=m["placement"], node=m["node"])
            for m in doc["models"]
        ),
        tools=tuple(
            ResolvedTool(
                name=t["name"], version=t["version"], descriptor_digest=t["descriptorDigest"], placement=t["placement"],
                descriptor=t.get("descriptor"),
            )
            for t in doc["tools"]
        ),
        embed_store=None if store is None else EmbedStore(name=store["name"], placement=store["placement"]),
        placement=tuple(Placement(node=p["node"], core=p["core"]) for p in doc["placement"]),
    )


def _sched_json(s: Schedulability) -> JsonObject:
    out: JsonObject = {
        "scheduler": s.scheduler,
        "node": s.node,
        "core": s.core,
        "responseTimeMs": s.response_time_ms,
        "deadlineMs": s.deadline_ms,
        "utilization": s.utilization,
        "slackMs": s.slack_ms,
    }
    if s.utilization_exact is not None:
        out["utilizationExact"] = s.utilization_exact
    return out


def _sched(doc: Mapping[str, Any]) -> Schedulability:
    return Schedulability(
        scheduler=doc["scheduler"],
        node=doc["node"],
        core=doc["core"],
        response_time_ms=doc["responseTimeMs"],
        deadline_ms=doc["deadlineMs"],
        utilization=doc["utilization"],
        slack_ms=doc["slackMs"],
        utilization_exact=doc.get("utilizationExact"),
    )


def _policy_json(p: PolicyRef) -> JsonObject:
    return {"digest": p.digest, "document": p.document, "file": p.file}


def _canary_json(c: Canary) -> JsonObject:
    return {"percent": c.percent, "rollbackOn": c.rollback_on, "previous": dict(c.previous)}


def _workflow_json(w: WorkflowPlan) -> JsonObject:
    return {
        "steps": [
            {
                "id": s.id,
                "agent": s.agent,
                "capabilities": list(s.capabilities),
                "consentFor": list(s.consent_for),
                "timeoutS": s.timeout_s,
                "escalateTo": s.escalate_to,
                "dependsOn": list(s.depends_on),
                **({"out": dict(s.out)} if s.out else {}),
                **{k: dict(v) for k, v in (("modelPolicy", s.model_policy), ("memory", s.memory),
                                           ("observability", s.observability)) if v},
            }
            for s in w.steps
        ],
        "deadlineMs": w.deadline_ms,
    }


def _workflow(doc: Mapping[str, Any]) -> WorkflowPlan:
    return WorkflowPlan(
        steps=tuple(
            WorkflowStep(
                id=s["id"],
                agent=s["agent"],
                capabilities=tuple(s["capabilities"]),
                consent_for=tuple(s["consentFor"]),
                timeout_s=s["timeoutS"],
                escalate_to=s["escalateTo"],
                depends_on=tuple(s["dependsOn"]),
                out=dict(s.get("out") or {}),
                model_policy=dict(s.get("modelPolicy") or {}),
                memory=dict(s.get("memory") or {}),
                observability=dict(s.get("observability") or {}),
            )
            for s in doc["steps"]
        ),
        deadline_ms=doc["deadlineMs"],
    )
