"""How configuration layers combine on the keys that govern an agent: a later layer only narrows.

Layering exists so a platform team can govern every agent of a tenant, so for these
keys a contract (or a role, or a workflow step) can never remove what an earlier layer
imposed (documents.md, "Governance across layers"):

- ``capabilities`` and ``observability.log_fields`` are ceilings: the result is the
  latest list *within* every earlier layer's (capabilities glob-aware: ``payment.*``
  covers ``payment.charge``); an entry outside is a :class:`Widening` (an error);
- ``policies`` and ``security.consent_for`` are unions;
- budgets, ``modelPolicy.max_context_tokens``/``max_output_tokens`` and
  ``memory.retention_days`` take the minimum; a larger later value is a :class:`Lowered`
  (a warning naming the layer that was overridden);
- ``modelPolicy.allow`` intersects like ``binding.must.model`` (empty: a conflict);
- ``binding.mode`` only tightens (``flexible`` < ``smooth`` < ``strict``).

Every layer that set a governed key is remembered, so provenance lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

MODE_RANK = {"flexible": 0, "smooth": 1, "strict": 2}
MINIMUM = frozenset({"/modelPolicy/max_context_tokens", "/modelPolicy/max_output_tokens", "/memory/retention_days"})
UNION = frozenset({"/policies", "/security/consent_for"})
CEILING = frozenset({"/capabilities", "/observability/log_fields"})
ALLOW = "/modelPolicy/allow"
MODE = "/binding/mode"


def rule_for(pointer: str) -> str | None:
    """Which combination rule governs ``pointer`` (None: maps merge, scalars and lists replace)."""
    if pointer in CEILING:
        return "ceiling"
    if pointer in UNION:
        return "union"
    if pointer in MINIMUM or (pointer.startswith("/budgets/") and pointer.count("/") == 2):
        return "minimum"
    if pointer == ALLOW:
        return "allow"
    if pointer == MODE:
        return "mode"
    return None


def key_of(pointer: str) -> str:
    """`/modelPolicy/max_context_tokens` → `modelPolicy.max_context_tokens`, as users write keys."""
    return pointer.strip("/").replace("/", ".")


@dataclass(frozen=True, slots=True, kw_only=True)
class Widening:
    """A later layer tried to grant what an earlier one does not: ``item`` at ``pointer`` escapes ``escaped``."""

    pointer: str  # where the item sits in the widening layer's document (`/capabilities/2`)
    key: str  # `capabilities`, `observability.log_fields`, `binding.mode`
    layer: str
    escaped: str
    item: str

    @property
    def message(self) -> str:
        if self.key == "binding.mode":
            return (f"the {self.layer} layer sets `binding.mode: {self.item}`, looser than the {self.escaped} "
                    f"layer's; a later layer may only tighten it (flexible < smooth < strict)")
        what = "action" if self.key == "capabilities" else "field"
        return (f"the {self.layer} layer's `{self.key}` names {what} `{self.item}`, which the {self.escaped} "
                f"layer does not allow")


@dataclass(frozen=True, slots=True, kw_only=True)
class Lowered:
    """A later layer asked for more than an earlier limit; the earlier (smaller) value applies."""

    pointer: str
    key: str
    layer: str  # the layer whose value was overridden
    value: Any
    kept_layer: str
    kept: Any

    @property
    def message(self) -> str:
        return (f"the {self.layer} layer's `{self.key}` {self.value} is above the {self.kept_layer} layer's "
                f"{self.kept}, which applies (the smaller limit wins)")


def action_covers(outer: str, inner: str) -> bool:
    """Does ceiling entry ``outer`` allow everything ``inner`` names? (`*`, `name.*`, or the exact name)."""
    if outer == "*" or outer == inner:
        return True
    return outer.endswith(".*") and inner.startswith(outer[:-1]) and inner != outer[:-2]


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [value]


@dataclass(slots=True)
class Combined:
    value: Any
    widenings: list[Widening]
    lowered: list[Lowered]
    empty: bool = False  # an intersection (modelPolicy.allow) that left nothing


Intersect = Callable[[list[str], list[str]], "list[str] | None"]


def combine(rule: str, pointer: str, current: Any, new: Any, layer: str,
            history: list[tuple[str, Any]], intersect_refs: Intersect) -> Combined:
    """The value of ``pointer`` after ``layer`` sets ``new`` over ``current`` (set by ``history``'s layers)."""
    if not history:
        return Combined(value=new, widenings=[], lowered=[])
    if rule == "union":
        merged = list(_as_list(current))
        merged += [v for v in _as_list(new) if v not in merged]
        return Combined(value=merged, widenings=[], lowered=[])
    if rule == "ceiling":
        return _ceiling(pointer, new, layer, history)
    if rule == "minimum":
        return _minimum(pointer, current, new, layer, history)
    if rule == "mode":
        if _rank(new) < _rank(current):
            escaped = next((l for l, v in history if v == current), history[-1][0])
            return Combined(value=current, widenings=[Widening(pointer=pointer, key="binding.mode", layer=layer,
                                                               escaped=escaped, item=str(new))], lowered=[])
        return Combined(value=new, widenings=[], lowered=[])
    if rule == "allow":
        strs = lambda v: [x for x in _as_list(v) if isinstance(x, str)]  # noqa: E731
        merged = intersect_refs(strs(current), strs(new))
        if merged is None:  # a ref that does not parse: validation reports it
            return Combined(value=new, widenings=[], lowered=[])
        return Combined(value=merged, widenings=[], lowered=[], empty=not merged)
    return Combined(value=new, widenings=[], lowered=[])


def _rank(mode: Any) -> int:
    """A mode's strictness; anything that is not a known mode ranks lowest (validation reports it)."""
    return MODE_RANK.get(mode, -1) if isinstance(mode, str) else -1


def _ceiling(pointer: str, new: Any, layer: str, history: list[tuple[str, Any]]) -> Combined:
    key = key_of(pointer)
    covers = action_covers if pointer == "/capabilities" else (lambda a, b: a == b)
    kept: list[Any] = []
    widenings: list[Widening] = []
    for i, item in enumerate(_as_list(new)):
        escaped = next((l for l, earlier in history
                        if not any(isinstance(e, str) and isinstance(item, str) and covers(e, item)
                                   for e in _as_list(earlier))), None)
        if escaped is None:
            if item not in kept:
                kept.append(item)
        else:
            widenings.append(Widening(pointer=f"{pointer}/{i}", key=key, layer=layer, escaped=escaped, item=str(item)))
    return Combined(value=kept, widenings=widenings, lowered=[])


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _minimum(pointer: str, current: Any, new: Any, layer: str, history: list[tuple[str, Any]]) -> Combined:
    if not (_is_number(current) and _is_number(new)):
        return Combined(value=new, widenings=[], lowered=[])  # validation reports the bad value
    if new <= current:
        return Combined(value=new, widenings=[], lowered=[])
    kept_layer = next((l for l, v in reversed(history) if _is_number(v) and v == current), history[-1][0])
    return Combined(value=current, widenings=[], lowered=[
        Lowered(pointer=pointer, key=key_of(pointer), layer=layer, value=new, kept_layer=kept_layer, kept=current)])


def _consent_of(doc: Mapping[str, Any]) -> list[str]:
    security = doc.get("security")
    found = security.get("consent_for") if isinstance(security, Mapping) else None
    return [a for a in _as_list(found) if isinstance(a, str)] if found is not None else []


def settle_consent(data: dict[str, Any], layers: list[tuple[str, Mapping[str, Any]]]) -> list[Widening]:
    """Consent is a union of gates, never a grant a later layer did not make.

    ``consent_for`` entries are part of an agent's ceiling (allowed with consent), so:
    an entry a layer names itself must lie within every earlier layer's ceiling
    (capabilities ∪ consent of each layer that sets capabilities), else it is a widening;
    and an entry inherited from before the layer that last set ``capabilities`` is kept
    only where those capabilities cover it (it gates that grant; elsewhere it would be a
    new one). ``data`` is trimmed in place; the widenings are returned.
    """
    ceilings: list[tuple[str, list[str]]] = []
    widenings: list[Widening] = []
    last_caps = -1
    for i, (layer, doc) in enumerate(layers):
        own = _consent_of(doc)
        for j, entry in enumerate(own):
            escaped = next((l for l, ceiling in ceilings if not any(action_covers(c, entry) for c in ceiling)), None)
            if escaped is not None:
                widenings.append(Widening(pointer=f"/security/consent_for/{j}", key="security.consent_for",
                                          layer=layer, escaped=escaped, item=entry))
        caps = doc.get("capabilities")
        if caps is not None:
            last_caps = i
            ceilings.append((layer, [c for c in _as_list(caps) if isinstance(c, str)] + own))
    security = data.get("security")
    if last_caps < 0 or not isinstance(security, dict) or not isinstance(security.get("consent_for"), list):
        return widenings
    granted = [c for c in _as_list(data.get("capabilities") or []) if isinstance(c, str)]
    declared = {e for _, doc in layers[last_caps:] for e in _consent_of(doc)}
    bad = {w.item for w in widenings}
    security["consent_for"] = [e for e in security["consent_for"] if isinstance(e, str) and e not in bad and
                               (e in declared or any(action_covers(c, e) for c in granted))]
    return widenings


def ceiling_of(doc: Mapping[str, Any]) -> list[Any]:
    """What a layer that sets ``capabilities`` allows: those and its own ``consent_for``."""
    return list(_as_list(doc.get("capabilities"))) + _consent_of(doc)
