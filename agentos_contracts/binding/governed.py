"""Admission's governance checks: widening layers, high-risk grants, uncatalogued actions, shared memory.

Each check takes plain values (lists of names, catalog tool entries as mappings) so that
``validate`` (with a platform given alongside) and ``admit`` run the same rule and say
the same thing; only the severity differs where documents.md says so (high-risk grants
are a warning at validate and an error at admit).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from agentos_contracts.binding.governance import action_covers
from agentos_contracts.binding.layering import Layered
from agentos_contracts.binding.options import Reason, Unit, reason
from agentos_contracts.model.platform import Platform

if TYPE_CHECKING:
    from agentos_contracts.binding.predicate import Bound

# where a finding of a non-contract layer points in the contract: the key that pulled that layer in
LAYER_POINTER = {"platform": "", "tenant": "/tenant", "role": "/role", "request": ""}


def layering_reasons(layered: Layered, label: str) -> tuple[list[Reason], list[Reason]]:
    """(errors, warnings) of one merge: layers that tried to widen, limits that a smaller one overrode."""
    errors: list[Reason] = []
    for w in layered.widenings:
        pointer = w.pointer if w.layer == "contract" else LAYER_POINTER.get(w.layer, "")
        errors.append(reason("AC536", pointer, name=label, detail=w.message))
    if layered.allow_conflict:
        detail = ", ".join(f"{layer} allows [{', '.join(v)}]" for layer, v in layered.allow_conflict)
        errors.append(reason("AC537", "/modelPolicy/allow", name=label, detail=detail))
    warnings = [reason("AC538", low.pointer if low.layer == "contract" else LAYER_POINTER.get(low.layer, ""),
                       name=label, detail=low.message) for low in layered.lowered]
    return errors, warnings


def high_risk_why(annotations: Any) -> str | None:
    """Why a catalog tool is high-risk by its MCP annotations (MCP's defaults for missing hints), or None.

    ``destructiveHint`` and ``openWorldHint`` default to true and matter only for a tool
    that is not read-only, so an unannotated tool is high-risk and ``readOnlyHint: true``
    marks a safe one; an explicit ``destructiveHint: true`` is taken at its word.
    """
    ann = annotations if isinstance(annotations, Mapping) else {}
    read_only = ann.get("readOnlyHint") is True
    if ann.get("destructiveHint") is True:
        return "destructiveHint: true"
    if read_only:
        return None
    if ann.get("destructiveHint", True) is not False:
        return "destructiveHint: true (MCP default)" if "destructiveHint" not in ann else "destructiveHint: true"
    if ann.get("openWorldHint", True) is not False:
        why = "openWorldHint: true" + (" (MCP default)" if "openWorldHint" not in ann else "")
        return why + ", not readOnlyHint"
    return None


def consent_targets(policy_document: Mapping[str, Any] | None) -> tuple[str, ...]:
    """Targets of compiled `REQUIRE CONSENT` rules that always apply (no condition); `*` for every action."""
    if not isinstance(policy_document, Mapping):
        return ()
    out: list[str] = []
    for rule in policy_document.get("rules") or []:
        if not isinstance(rule, Mapping) or rule.get("effect") != "consent" or rule.get("condition") is not None:
            continue
        targets = rule.get("targets") or ["*"]
        out += [t for t in targets if isinstance(t, str) and t not in out]
    return tuple(out)


def risky_tools(tools: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Catalog tool name → why it is high-risk, for every high-risk tool (the first deployment's annotations)."""
    out: dict[str, str] = {}
    seen: set[str] = set()
    for tool in tools:
        name = tool.get("name")
        if not isinstance(name, str) or name in seen:
            continue
        seen.add(name)
        why = high_risk_why(tool.get("annotations"))
        if why is not None:
            out[name] = why
    return out


def high_risk_reasons(capabilities: Sequence[str], gates: Iterable[str], risky: Mapping[str, str],
                      label: str, code: str = "AC539") -> list[Reason]:
    """High-risk catalog tools (``risky``) the capabilities grant with no consent gate covering them."""
    gate = [g for g in gates if isinstance(g, str)]
    out: list[Reason] = []
    found: set[str] = set()
    for i, cap in enumerate(capabilities):
        if not isinstance(cap, str):
            continue
        names = [cap] if cap in risky else [n for n in risky if "*" in cap and action_covers(cap, n)]
        for name in names:
            if name in found or any(action_covers(g, name) for g in gate):
                continue
            found.add(name)
            out.append(reason(code, f"/capabilities/{i}", name=label, action=name, why=risky[name]))
    return out


def uncatalogued_reasons(capabilities: Sequence[str], tool_names: Iterable[str], allowed: Iterable[str],
                         label: str, consent_for: Sequence[str] = ()) -> list[Reason]:
    """Granted actions that name no catalog tool (a glob: that cover none) and the platform did not list.

    ``consent_for`` entries are grants too (allowed with consent), so they are checked as well.
    """
    names = set(tool_names)
    listed = [a for a in allowed if isinstance(a, str)]
    out: list[Reason] = []
    granted = [(f"/capabilities/{i}", c) for i, c in enumerate(capabilities)]
    granted += [(f"/security/consent_for/{j}", c) for j, c in enumerate(consent_for) if c not in capabilities]
    for pointer, cap in granted:
        if not isinstance(cap, str):
            continue
        covered = any(action_covers(cap, n) for n in names) or any(action_covers(a, cap) or action_covers(cap, a)
                                                                   for a in listed)
        if not covered:
            out.append(reason("AC540", pointer, name=label, action=cap))
    return out


def shared_namespaces(owners: Iterable[tuple[str, str | None, str | None]]) -> dict[str, list[tuple[str, str]]]:
    """namespace → [(who, tenant)] for every namespace used by contracts of more than one tenant.

    ``owners`` are ``(who, tenant, namespace)``; a contract with no tenant is its own
    tenant (named by ``who``), so it cannot share a tenant's memory either.
    """
    by_ns: dict[str, list[tuple[str, str]]] = {}
    for who, tenant, ns in owners:
        if isinstance(ns, str):
            by_ns.setdefault(ns, []).append((who, tenant if isinstance(tenant, str) else f"(none: {who})"))
    return {ns: users for ns, users in by_ns.items() if len({t for _, t in users}) > 1}


def uncatalogued_of(defaults: Mapping[str, Any]) -> tuple[str, ...]:
    """The platform's `defaults.uncatalogued_actions` (actions that are not MCP tools, granted unchecked)."""
    listed = defaults.get("uncatalogued_actions") if isinstance(defaults, Mapping) else None
    return tuple(a for a in listed if isinstance(a, str)) if isinstance(listed, list) else ()


def namespace_reasons(units: Sequence[Unit], before: Sequence[tuple[str, str | None, str | None]]) -> dict[str, Reason]:
    """unit key → AC541 for every unit whose memory namespace another tenant uses (now, or ``before``:
    ``(who, tenant, namespace)`` of manifests already admitted)."""
    shared = shared_namespaces([(u.label, u.contract.tenant, u.contract.memory.namespace) for u in units]
                               + list(before))
    out: dict[str, Reason] = {}
    for u in units:
        users = shared.get(u.contract.memory.namespace or "")
        if users:
            mine = u.contract.tenant or f"(none: {u.label})"
            others = "; ".join(f"`{who}` of tenant `{t}`" for who, t in users if t != mine)
            out[u.key] = reason("AC541", "/memory/namespace", name=u.label, namespace=u.contract.memory.namespace,
                                detail=others)
    return out


def unconsented_high_risk(bounds: Sequence[Bound], platform: Platform, policy: Any,
                          approved: Sequence[str]) -> tuple[Reason, ...]:
    """High-risk catalog tools the bound units grant with no consent gate: their own or inherited
    ``consent_for``, a HITL step that approves the action (``approved``), or an unconditional
    `REQUIRE CONSENT` rule of the compiled ``policy``; none if the platform opts out."""
    if platform.defaults.get("allow_unconsented_high_risk") is True:
        return ()
    gates = list(approved) + list(consent_targets(policy.document if policy is not None else None))
    risky = risky_tools(t.descriptor for t in platform.tools)
    out: list[Reason] = []
    for b in bounds:
        c = b.candidates.unit.contract
        out += high_risk_reasons(c.capabilities, list(c.consent_for) + gates, risky, b.candidates.unit.label)
    return tuple(out)
