"""Governance checks `validate` runs when a platform is given alongside the contracts.

The same rules as admission (``binding.governed``), located in the contract: a layer
that tries to widen what an earlier one allows is an error, a limit a smaller one
overrides is a warning, and a high-risk catalog tool granted without a consent gate is
a warning here (admission rejects it). A memory namespace shared by contracts of
different tenants is an error with or without a platform.
"""

from __future__ import annotations

import functools
from typing import Any, Iterator, Mapping

from agentos_contracts import diagnostics as dg
from agentos_contracts.diagnostics import Diagnostic
from agentos_contracts.documents.loader import Document
from agentos_contracts.validate.contract import mapping


def check_governance(doc: Document, platforms: list[Document], *, with_policies: bool = True) -> Iterator[Diagnostic]:
    from agentos_contracts.binding import governed
    from agentos_contracts.binding.layering import merge_layers, stack

    label = doc.name or doc.file
    for platform in platforms:
        pdata = platform.data
        tenant = _named(pdata.get("tenants"), doc.data.get("tenant"))
        role = _named(tenant.get("roles"), doc.data.get("role")) if tenant else None
        layered = merge_layers(stack(mapping(pdata, "defaults"), mapping(tenant or {}, "defaults"),
                                     mapping(role or {}, "defaults"), doc.data, platform_file=platform.file,
                                     contract_file=doc.file))
        errors, warnings = governed.layering_reasons(layered, label)
        for r in errors + warnings:
            yield _diag(doc, r.code, r.pointer, r.message, warning=r in warnings)
        defaults = mapping(pdata, "defaults")
        if defaults.get("allow_unconsented_high_risk") is True:
            continue
        caps = [c for c in layered.data.get("capabilities") or [] if isinstance(c, str)]
        gates = [c for c in mapping(layered.data, "security").get("consent_for") or [] if isinstance(c, str)]
        risky = _risky(platform)
        if not risky:
            continue
        for r in governed.high_risk_reasons(caps, gates + (_policy_gates(doc) if with_policies else []), risky, label,
                                            code="AC150"):
            pointer = r.pointer if isinstance(doc.data.get("capabilities"), list) else ""
            yield _diag(doc, "AC150", pointer, r.message, warning=True)


def _risky(platform: Document) -> dict[str, str]:
    """The platform's high-risk tools, worked out once per platform document (not once per contract)."""
    from agentos_contracts.binding.governed import risky_tools

    cached = _RISKY.get(id(platform))
    if cached is None or cached[0] is not platform:
        tools = platform.data.get("tools")
        found = risky_tools(t for t in tools if isinstance(t, Mapping)) if isinstance(tools, list) else {}
        if len(_RISKY) > 8:
            _RISKY.clear()
        cached = _RISKY[id(platform)] = (platform, found)
    return cached[1]


# id(platform document) -> (the document, its high-risk tools); the document is kept so the id stays its own
_RISKY: dict[int, tuple[Document, dict[str, str]]] = {}


def _named(items: Any, name: Any) -> dict[str, Any] | None:
    if not isinstance(items, list) or not isinstance(name, str):
        return None
    return next((i for i in items if isinstance(i, dict) and i.get("name") == name), None)


def _policy_gates(doc: Document) -> list[str]:
    """Targets of `REQUIRE CONSENT FOR` rules that always apply, in the policies the contract names.

    Read from the compiled policy only when the contract names policies (the compiler,
    and lark with it, is loaded for those contracts alone).
    """
    from agentos_contracts.validate.contract import policy_paths

    files = [path for _, _, path in policy_paths(doc) if path is not None and path.is_file()]
    if not files:
        return []
    try:  # contracts sharing policy files compile them once (the key changes when a file does)
        key = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    except OSError:
        return []
    return list(_compiled_gates(key))


@functools.lru_cache(maxsize=128)
def _compiled_gates(key: tuple[tuple[str, int, int], ...]) -> tuple[str, ...]:
    import json

    from agentos_contracts import policy as policy_
    from agentos_contracts.binding.governed import consent_targets

    compiled = policy_.compile_files([f for f, _, _ in key], contract=None, tool_schemas=None)
    if not compiled.ok or compiled.data is None:
        return ()  # the policy stage reports what is wrong with them
    return consent_targets(json.loads(compiled.data))


def _diag(doc: Document, code: str, pointer: str, message: str, *, warning: bool) -> Diagnostic:
    from agentos_contracts.codes import CODES

    severity = dg.Severity.WARNING if warning else dg.Severity.ERROR
    return Diagnostic(doc.span(pointer), severity, code, message, pointer, CODES[code].hint)


def check_namespaces(contracts: list[Document]) -> Iterator[tuple[Document, Diagnostic]]:
    """A memory namespace belongs to one tenant: each contract using one another tenant uses is an error."""
    from agentos_contracts.binding.governed import shared_namespaces

    def ns(doc: Document) -> Any:
        return mapping(doc.data, "memory").get("namespace")

    shared = shared_namespaces((doc.name or doc.file, doc.data.get("tenant"), ns(doc)) for doc in contracts)
    for doc in contracts:
        users = shared.get(ns(doc)) if isinstance(ns(doc), str) else None
        if users:
            detail = "; ".join(f"`{who}` (tenant `{t}`)" for who, t in users)
            yield doc, doc.diag("AC151", "/memory/namespace", namespace=ns(doc), detail=detail)
