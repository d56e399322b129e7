"""Layered configuration: platform defaults → tenant → role → contract → request override.

The paper's binding algorithm starts by merging configuration layers (004, section 4.4).
The rules are few so that a reader can predict the result by hand:

- mappings merge key by key, recursively;
- scalars and lists replace (a later layer's list is the whole new list), and a
  ``null`` in a later layer has no effect (it never resets an earlier value);
- except on the keys that govern an agent (``binding.governance``): ceilings
  intersect, policies and consent unite, limits take the minimum, the binding mode
  only tightens, and a layer that tries to widen is recorded (``widenings``);
- inside ``binding.must`` lists *intersect* instead: every layer's requirement holds,
  so a later layer can only narrow (``must`` only tightens). Placements, stores and
  tags intersect as sets; model and tool refs intersect by name, with the version
  ranges of both refs combined. An empty intersection is a conflict the caller must
  reject, never an empty (unconstrained) list.

Every leaf of the result remembers the layer that set it (``provenance``: JSON
Pointer → layer; for a governed key, the list of every layer that contributed), which
the sealed manifest records. ``policies`` are rebased so each resolves relative to the
file that names it (the platform file for platform, tenant and role layers).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from agentos_contracts.binding import governance as gov
from agentos_contracts.model.platform import Platform
from agentos_contracts.model.units import Ref, UnitError, VersionRange, parse_ref

LAYERS = ("platform", "tenant", "role", "contract", "request")
MUST_KEYS = ("model", "tools", "placement", "embed_store", "tags")
REF_KEYS = ("model", "tools")
MUST_POINTER = "/binding/must"
# keys of the platform's `defaults` that configure admission itself, not the contracts it layers into
PLATFORM_ONLY = ("allow_unconsented_high_risk", "uncatalogued_actions")


@dataclass(frozen=True, slots=True, kw_only=True)
class MustConflict:
    """A `must` key whose layers share no entry: nothing can satisfy the contract."""

    key: str
    layers: tuple[tuple[str, tuple[str, ...]], ...]  # (layer, its list) in merge order

    @property
    def detail(self) -> str:
        return ", ".join(f"{layer} requires [{', '.join(values)}]" for layer, values in self.layers)


@dataclass(slots=True)
class Layered:
    """The merged document, who set each leaf, and any `must` conflicts."""

    data: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)  # pointer -> layer, or [layers] for governed keys
    conflicts: list[MustConflict] = field(default_factory=list)
    widenings: list[gov.Widening] = field(default_factory=list)
    lowered: list[gov.Lowered] = field(default_factory=list)
    allow_conflict: tuple[tuple[str, tuple[str, ...]], ...] = ()  # modelPolicy.allow layers that share nothing


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def merge_layers(layers: Sequence[tuple[str, Mapping[str, Any] | None]]) -> Layered:
    """Merge ``(layer name, partial document)`` pairs, earliest (weakest) first."""
    out = Layered(data={})
    history: dict[str, list[tuple[str, Any]]] = {}
    for layer, doc in layers:
        if not doc:
            continue
        _merge_map(out, out.data, doc, "", layer, history)
    out.widenings += gov.settle_consent(out.data, [(layer, doc) for layer, doc in layers if doc])
    return out


def _merge_map(out: Layered, into: dict[str, Any], doc: Mapping[str, Any], pointer: str, layer: str,
               history: dict[str, list[tuple[str, tuple[str, ...]]]]) -> None:
    for key, value in doc.items():
        if value is None:
            continue
        here = f"{pointer}/{escape(str(key))}"
        rule = gov.rule_for(here)
        if pointer == MUST_POINTER and key in MUST_KEYS:
            _merge_must(out, into, key, value, here, layer, history)
        elif rule is not None:
            # a layer's ceiling is its capabilities with its consent list (allowed with consent)
            ceiling = gov.ceiling_of(doc) if here == "/capabilities" else None
            _merge_governed(out, into, key, value, here, layer, rule, history, ceiling)
        elif isinstance(value, Mapping):
            if not isinstance(into.get(key), dict):
                if key in into:  # provenance holds leaves of existing values only: nothing to drop for a new key
                    _drop_under(out.provenance, here)
                into[key] = {}
            _merge_map(out, into[key], value, here, layer, history)
        else:
            if key in into:
                _drop_under(out.provenance, here)
            into[key] = _copy(value)
            _record(out.provenance, into[key], here, layer)


def _merge_must(out: Layered, into: dict[str, Any], key: str, value: Any, here: str, layer: str,
                history: dict[str, list[tuple[str, tuple[str, ...]]]]) -> None:
    new = _as_list(value)
    seen = history.setdefault(here, [])
    seen.append((layer, tuple(new)))
    if key not in into:
        into[key] = list(new) if isinstance(value, list) else value
        out.provenance[here] = layer
        return
    old = _as_list(into[key])
    merged = _intersect_refs(old, new) if key in REF_KEYS else _intersect_names(old, new)
    if merged is None:  # a ref that cannot be parsed: validation reports it; keep the later layer's word
        merged = new
    if not merged:
        out.conflicts = [c for c in out.conflicts if c.key != key]
        out.conflicts.append(MustConflict(key=key, layers=tuple(seen)))
    if merged != old:
        into[key] = merged
        out.provenance[here] = layer


def _merge_governed(out: Layered, into: dict[str, Any], key: str, value: Any, here: str, layer: str, rule: str,
                    history: dict[str, list[tuple[str, Any]]], recorded: Any = None) -> None:
    seen = history.setdefault(here, [])
    combined = gov.combine(rule, here, into.get(key), _copy(value), layer, seen, _intersect_refs)
    seen.append((layer, _copy(value) if recorded is None else recorded))
    out.widenings += combined.widenings
    out.lowered += combined.lowered
    if combined.empty:
        out.allow_conflict = tuple((l, tuple(v if isinstance(v, list) else [v])) for l, v in seen)
    if key in into and isinstance(into[key], dict):  # a mapping replaced by a governed list: its leaves go
        _drop_under(out.provenance, here)
    into[key] = combined.value
    out.provenance[here] = [l for l, _ in seen]


def _intersect_names(old: list[str], new: list[str]) -> list[str]:
    wanted = {_placement(n) for n in new}
    return [n for n in old if _placement(n) in wanted]


def _placement(name: str) -> str:
    return "edge" if name == "edge-only" else name


def _intersect_refs(old: list[str], new: list[str]) -> list[str] | None:
    """Refs both layers accept: same name, both ranges at once (comparators combined)."""
    try:
        olds = [parse_ref(r) for r in old]
        news = [parse_ref(r) for r in new]
    except UnitError:
        return None
    out: list[str] = []
    for a in olds:
        for b in news:
            if a.name != b.name:
                continue
            comps = tuple(dict.fromkeys(a.range.comparators + b.range.comparators))
            text = str(Ref(a.name, VersionRange(comps)))
            if text not in out:
                out.append(text)
    return old if out == [str(r) for r in olds] else out


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _drop_under(provenance: dict[str, str], pointer: str) -> None:
    for key in [k for k in provenance if k == pointer or k.startswith(pointer + "/")]:
        del provenance[key]


def _record(provenance: dict[str, str], value: Any, pointer: str, layer: str) -> None:
    """Leaves are scalars and lists (lists replace whole); mappings recurse."""
    if isinstance(value, dict) and value:
        for key, sub in value.items():
            _record(provenance, sub, f"{pointer}/{escape(str(key))}", layer)
    else:
        provenance[pointer] = layer


def layers_for(platform: Platform, data: dict[str, Any], request: dict[str, Any] | None = None,
               file: str = "") -> Layered:
    """platform defaults → tenant → role → contract → request override (a workflow step's).

    ``file`` is the contract's file: policies named by the platform's layers are rebased
    from the platform file's folder to it, so every path resolves where it was written.
    """
    tenant = platform.tenant(data["tenant"]) if isinstance(data.get("tenant"), str) else None
    role = tenant.role(data["role"]) if tenant is not None and isinstance(data.get("role"), str) else None
    return merge_layers(stack(platform.defaults, tenant.defaults if tenant else None, role.defaults if role else None,
                              data, request, platform_file=platform.file, contract_file=file))


def stack(platform: Mapping[str, Any] | None, tenant: Mapping[str, Any] | None, role: Mapping[str, Any] | None,
          contract: Mapping[str, Any], request: Mapping[str, Any] | None = None, *, platform_file: str = "",
          contract_file: str = "") -> list[tuple[str, Mapping[str, Any] | None]]:
    """The layers in merge order, the platform's policy paths rebased onto the contract's folder."""
    def rebase(doc: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        if not doc or not platform_file or not isinstance(doc.get("policies"), list):
            return doc
        here = os.path.dirname(platform_file) or "."
        there = os.path.dirname(contract_file) or "."
        moved = [p if not isinstance(p, str) or os.path.isabs(p)
                 else os.path.relpath(os.path.join(here, p), there) for p in doc["policies"]]
        return {**doc, "policies": moved}

    if platform:
        platform = {k: v for k, v in platform.items() if k not in PLATFORM_ONLY}
    return [("platform", rebase(platform)), ("tenant", rebase(tenant)), ("role", rebase(role)),
            ("contract", contract), ("request", request)]
