"""Catalog checks: unique names, positive capacities, parseable versions, reservations that exist."""

from __future__ import annotations

from typing import Any, Iterator

from agentos_contracts import diagnostics as dg
from agentos_contracts.diagnostics import Diagnostic
from agentos_contracts.documents.loader import Document
from agentos_contracts.model import units
from agentos_contracts.validate.contract import fmt_ms, is_number

POSITIVE = {
    "nodes": ("cores",),
    "models": ("tokens_per_s", "capacity_tokens_per_min", "max_context_tokens"),
}
NON_NEGATIVE = {
    "models": ("onset_ms_p95", "cost_per_1k_tokens"),
    "tools": ("rtt_ms_p95",),
}


def _items(doc: Document, key: str) -> list[tuple[int, dict[str, Any]]]:
    v = doc.data.get(key)
    return [(i, x) for i, x in enumerate(v) if isinstance(x, dict)] if isinstance(v, list) else []


def check_platform(doc: Document) -> list[Diagnostic]:
    return list(_unique(doc)) + list(_capacities(doc)) + list(_names(doc)) + list(_reservations(doc))


def _unique(doc: Document) -> Iterator[Diagnostic]:
    for key, what, by_version in (("nodes", "node", False), ("models", "model", True), ("tools", "tool", True),
                                  ("embed_stores", "embed store", False), ("tenants", "tenant", False)):
        seen: dict[Any, int] = {}
        for i, item in _items(doc, key):
            name = item.get("name")
            # a model or tool may be deployed in several places: identity includes where
            ident = (name, item.get("version"), item.get("placement"), item.get("node")) if by_version else name
            if not isinstance(name, str):
                continue
            if ident in seen:
                label = f"{name}@{item.get('version')} ({item.get('placement')})" if by_version else name
                yield doc.diag("AC220", f"/{key}/{i}/name", what=what, name=label,
                               first_line=doc.span(f"/{key}/{seen[ident]}/name").line)
            else:
                seen[ident] = i
    for t, tenant in _items(doc, "tenants"):
        roles = tenant.get("roles")
        seen_roles: dict[str, int] = {}
        for r, role in enumerate(roles if isinstance(roles, list) else []):
            name = role.get("name") if isinstance(role, dict) else None
            if not isinstance(name, str):
                continue
            if name in seen_roles:
                yield doc.diag("AC220", f"/tenants/{t}/roles/{r}/name", what="role", name=name,
                               first_line=doc.span(f"/tenants/{t}/roles/{seen_roles[name]}/name").line)
            else:
                seen_roles[name] = r


def _capacities(doc: Document) -> Iterator[Diagnostic]:
    for key, fields in POSITIVE.items():
        for i, item in _items(doc, key):
            for f in fields:
                v = item.get(f)
                if is_number(v) and v <= 0:
                    yield doc.diag("AC221", f"/{key}/{i}/{f}", field=f, value=fmt_ms(v))
    for key, fields in NON_NEGATIVE.items():
        for i, item in _items(doc, key):
            for f in fields:
                v = item.get(f)
                if is_number(v) and v < 0:
                    yield doc.diag("AC118", f"/{key}/{i}/{f}", field=f, value=fmt_ms(v))
    for i, node in _items(doc, "nodes"):
        mem = node.get("mem")
        if mem is not None and not isinstance(mem, bool):
            try:
                if units.parse_bytes(mem) <= 0:
                    yield doc.diag("AC221", f"/nodes/{i}/mem", field="mem", value=mem)
            except units.UnitError:
                yield doc.diag("AC126", f"/nodes/{i}/mem", value=mem)
    v = doc.data.get("orchestration_overhead_ms")
    if is_number(v) and v < 0:
        yield doc.diag("AC118", "/orchestration_overhead_ms", field="orchestration_overhead_ms", value=fmt_ms(v))


def _names(doc: Document) -> Iterator[Diagnostic]:
    for key in ("models", "tools"):
        for i, item in _items(doc, key):
            name, version = item.get("name"), item.get("version")
            if isinstance(name, str) and not units.NAME_RE.match(name):
                yield doc.diag("AC128", f"/{key}/{i}/name", name=name)
            if isinstance(version, str):
                try:
                    units.parse_version(version)
                except units.UnitError as exc:
                    yield doc.diag("AC121", f"/{key}/{i}/version", ref=version, reason=str(exc))
    nodes = {n.get("name") for _, n in _items(doc, "nodes")}
    for i, model in _items(doc, "models"):
        node = model.get("node")
        if isinstance(node, str) and node not in nodes:
            from agentos_contracts.validate.suggest import did_you_mean

            yield doc.diag("AC225", f"/models/{i}/node", node=node,
                           hint=did_you_mean(node, [n for n in nodes if isinstance(n, str)]) or "add the node to `nodes`")


def _reservations(doc: Document) -> Iterator[Diagnostic]:
    res = doc.data.get("reservations")
    if not isinstance(res, list):
        return
    base = doc.source.path.parent if doc.source and doc.source.path else None
    for i, p in enumerate(res):
        if isinstance(p, str) and base is not None and not (base / p).is_file():
            # the code's template says `{path}`, which `diag` already uses for the pointer
            ptr = f"/reservations/{i}"
            yield dg.make("AC224", doc.span(ptr), f"reservation `{p}` does not exist", path=ptr)
