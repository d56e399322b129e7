"""Flexible fallbacks: resolved and checked at admission, activated only at run time.

A fallback (`allow_fallbacks: [{when, substitute}]`) is never applied silently: its
`when` is a signal the runtime may be told about. Admission resolves the substitute
to concrete catalog entries and checks it against every `must` and the SLOs, as the
primary binding was; one that would break them is not recorded, and a warning says
why. Substitutes do not reserve capacity: they replace the primary binding while
active.
"""

from __future__ import annotations

from typing import Any

from agentos_contracts.binding.candidates import check_model
from agentos_contracts.binding.options import reason
from agentos_contracts.binding.placement import placement_ok, tags_ok
from agentos_contracts.binding.options import Candidates, Choice, Reason, ToolSlot, fmt_list
from agentos_contracts.model.contract import Fallback, Requirements
from agentos_contracts.model.platform import Platform


def resolve_fallbacks(c: Candidates, choice: Choice, platform: Platform) -> tuple[list[dict[str, Any]], list[Reason]]:
    """The activatable fallbacks as manifest records, and a warning for each one dropped."""
    records: list[dict[str, Any]] = []
    warnings: list[Reason] = []
    for i, fb in enumerate(c.unit.contract.binding.fallbacks):
        record, problem = _resolve(c, choice, platform, fb)
        if problem is None:
            records.append({"when": fb.when, "substitute": record})
        else:
            warnings.append(reason("AC530", f"/binding/allow_fallbacks/{i}", name=c.unit.label, when=fb.when,
                                   detail=problem))
    return records, warnings


def _resolve(c: Candidates, choice: Choice, platform: Platform, fb: Fallback) -> tuple[dict[str, Any], str | None]:
    sub = fb.substitute
    must = c.unit.contract.binding.must
    record: dict[str, Any] = {"redact": fb.redact}
    if sub.placement and must.placement and not set(sub.placement) <= set(must.placement):
        return record, f"placement {fmt_list(sub.placement)} is outside must placement {fmt_list(must.placement)}"
    if sub.tags and must.tags and not set(sub.tags) <= set(must.tags):
        # any-of on both sides: a resource with only a tag outside `must` would satisfy the substitute
        return record, f"tags {fmt_list(sub.tags)} are not all among must tags {fmt_list(must.tags)}"
    if sub.model:
        found, problem = _model(c, choice, platform, sub)
        if problem is not None:
            return record, problem
        record.update(found)
    if sub.tools:
        tools = []
        ceiling = set(c.unit.contract.ceiling)
        for ref in sub.tools:
            if ref.name not in ceiling:
                return record, f"tool `{ref}` is not among the contract's capabilities"
            # a `must.tools` ref naming this tool constrains its version, as for the primary binding
            ranges = [r.range for r in must.tools if r.name == ref.name]
            hits = sorted((t for t in platform.tools if t.name == ref.name and ref.range.contains(t.version)
                           and (not ranges or any(r.contains(t.version) for r in ranges))
                           and placement_ok(must.placement, t.placement) and placement_ok(sub.placement, t.placement)
                           and tags_ok(must.tags, t.tags)), key=lambda t: t.version, reverse=True)
            if not hits:
                return record, f"tool `{ref}` has no catalog entry that satisfies every `must`"
            tools.append(f"{hits[0].name}@{hits[0].version_text}")
        record["tools"] = tools
    if sub.embed_store:
        store = next((s for s in platform.embed_stores if s.name in sub.embed_store
                      and (not must.embed_store or s.name in must.embed_store)
                      and placement_ok(must.placement, s.placement) and tags_ok(must.tags, s.tags)), None)
        if store is None:
            return record, f"no embedding store of {fmt_list(sub.embed_store)} satisfies every `must`"
        record["embed_store"] = store.name
    if sub.placement:
        record["placement"] = list(sub.placement)
    if sub.tags:
        record["tags"] = list(sub.tags)
    return record, None


def _model(c: Candidates, choice: Choice, platform: Platform, sub: Requirements) -> tuple[dict[str, Any], str | None]:
    """Highest version of the first substitute ref with a deployment passing every check."""
    slots = tuple(ToolSlot(name=s.name, options=(o,)) for s, o in zip(c.tools, choice.tools))
    first_problem: str | None = None
    for ref in sub.model:
        versions = sorted({m.version for m in platform.models if m.name == ref.name and ref.range.contains(m.version)},
                          reverse=True)
        if not versions and first_problem is None:
            first_problem = f"model `{ref}` matches no catalog entry"
        for v in versions:
            for m in platform.models:
                if m.name != ref.name or m.version != v:
                    continue
                where = m.node or m.placement
                if not placement_ok(sub.placement, m.placement):
                    problem = f"model `{m.name}@{m.version_text}` ({where}) is outside the substitute's placement"
                else:
                    found = check_model(c.unit, m, slots, c.tokens_per_min, platform.orchestration_overhead_ns)
                    if found is None:
                        return {"model": f"{m.name}@{m.version_text}", "modelPlacement": m.placement,
                                "node": m.node}, None
                    problem = found.message.removeprefix(f"{c.unit.label}: ")
                if first_problem is None:
                    first_problem = problem
    return {}, first_problem or "no substitute model"
