"""The layered sections a manifest seals so the runtime can enforce them.

Everything sealed is enforced and everything enforced is sealed (documents.md): model
limits, the memory namespace (with the catalog's memory tools), the audit's
``log_fields`` and the compute request travel in the manifest, next to the actions that
were granted without a catalog tool (and so without an argument check).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from agentos_contracts.binding.governance import action_covers
from agentos_contracts.binding.governed import uncatalogued_of
from agentos_contracts.binding.predicate import Bound
from agentos_contracts.model import manifest as mf
from agentos_contracts.model.contract import AgentContract
from agentos_contracts.model.platform import Platform


def _section(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def manifest_sections(contract: AgentContract, data: Mapping[str, Any], platform: Platform) -> dict[str, Any]:
    """``BindingManifest`` keyword arguments: modelPolicy, memory, observability, compute, unchecked actions."""
    mp = _section(data, "modelPolicy")
    model_policy = {"allow": [str(r) for r in contract.model_allow], "maxContextTokens": contract.max_context_tokens,
                    "maxOutputTokens": contract.max_output_tokens}
    mem = _section(data, "memory")
    memory: dict[str, Any] = {}
    tools = {t.name: t.memory_arg for t in platform.tools if t.memory_arg is not None
             and any(action_covers(c, t.name) for c in contract.ceiling)}
    if mem or tools:
        memory = {"namespace": contract.memory.namespace, "retentionDays": mem.get("retention_days"),
                  "rag": dict(_section(mem, "rag")), "tools": dict(sorted(tools.items()))}
    obs = _section(data, "observability")
    observability: dict[str, Any] = {}
    if obs:
        fields = obs.get("log_fields")
        observability = {"tracing": obs.get("tracing"),
                         "logFields": [f for f in fields if isinstance(f, str)] if isinstance(fields, list) else None}
    catalog = {t.name for t in platform.tools}
    listed = uncatalogued_of(platform.defaults)
    unchecked = tuple(a for a in dict.fromkeys(contract.ceiling)
                      if not any(action_covers(a, n) for n in catalog) and any(action_covers(u, a) for u in listed))
    return {"model_policy": model_policy if mp or contract.max_output_tokens is not None else {},
            "memory": memory, "observability": observability, "compute": dict(_section(data, "compute")),
            "unchecked_actions": unchecked}


def workflow_sections(m: mf.BindingManifest, steps: Mapping[str, Bound], platform: Platform) -> mf.BindingManifest:
    """Each agent step gets its agent's layered sections; the manifest, the union of unchecked actions."""
    plan = m.workflow
    if plan is None:
        return m
    unchecked: list[str] = []
    out_steps = []
    for step in plan.steps:
        b = steps.get(step.id)
        if b is None:
            out_steps.append(step)
            continue
        sec = manifest_sections(b.candidates.unit.contract, b.layered.data, platform)
        unchecked += [a for a in sec["unchecked_actions"] if a not in unchecked]
        out_steps.append(replace(step, model_policy=sec["model_policy"], memory=sec["memory"],
                                 observability=sec["observability"]))
    return replace(m, workflow=replace(plan, steps=tuple(out_steps)), unchecked_actions=tuple(unchecked))
