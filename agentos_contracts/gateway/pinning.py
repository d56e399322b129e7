"""Sealed versus live MCP tool descriptors: a tool whose upstream changed after admission is not served.

A server can change what a tool says it does (its description, its argument or result
schema, its hints) after a person approved it: the "rug pull". Admission sealed each
bound tool's descriptor; here the live one is compared with it field by field over the
four fields that carry meaning to a model or a client, by their RFC 8785 digest. An
absent field and a ``null`` one are the same (MCP treats both as "not given"). The tool's
name is not compared: the live name is the upstream's (``fetch``), the sealed one the
action (``web.fetch``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from agentos_contracts.seal.canonical import CanonicalError, canonical_digest

PINNED_FIELDS = ("description", "inputSchema", "outputSchema", "annotations")
PINNED, DRIFTED, UNPINNED, MISSING = "pinned", "drifted", "unpinned", "missing"


def pinned_view(descriptor: Mapping[str, Any]) -> dict[str, Any]:
    """The four pinned fields that are present and not null."""
    return {k: descriptor[k] for k in PINNED_FIELDS if descriptor.get(k) is not None}


def field_digest(value: Any) -> str | None:
    """RFC 8785 digest of one field; None for absent/null; a value with no canonical form gets a
    marker that equals nothing sealed (so it drifts, never matches by accident)."""
    if value is None:
        return None
    try:
        return canonical_digest(value)
    except (CanonicalError, RecursionError, ValueError):
        return "uncanonical"


@dataclass(frozen=True, slots=True, kw_only=True)
class PinStatus:
    """How one action's live descriptor stands against its seal; ``code`` is set when it may not be served."""

    action: str
    state: str
    fields: tuple[str, ...] = ()
    live_digest: str | None = None
    code: str | None = None
    reason: str = ""

    @property
    def servable(self) -> bool:
        return self.state == PINNED


def live_digest(descriptor: Mapping[str, Any]) -> str:
    try:
        return canonical_digest(pinned_view(descriptor))
    except (CanonicalError, RecursionError, ValueError):
        return "uncanonical"


def compare(action: str, prefix: str, tool: str, sealed: Mapping[str, Any] | None,
            live: Mapping[str, Any] | None) -> PinStatus:
    """The status of ``action`` (upstream ``prefix``'s tool ``tool``) given its sealed and live descriptors."""
    if sealed is None:
        return PinStatus(action=action, state=UNPINNED, code="AC811",
                         reason=f"`{action}` has no sealed descriptor in the manifest")
    if live is None:
        return PinStatus(action=action, state=MISSING, code="AC812",
                         reason=f"upstream `{prefix}` does not offer `{tool}`")
    drifted = tuple(k for k in PINNED_FIELDS if field_digest(sealed.get(k)) != field_digest(live.get(k)))
    digest = live_digest(live)
    if drifted:
        return PinStatus(action=action, state=DRIFTED, fields=drifted, live_digest=digest, code="AC810",
                         reason=f"live descriptor of `{action}` differs from the sealed one ({', '.join(drifted)})")
    return PinStatus(action=action, state=PINNED, live_digest=digest)


class PinBook:
    """The last status seen per action, so each change is audited once (not on every list or call)."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, str | None]] = {}

    def changed(self, status: PinStatus) -> bool:
        """True when ``status`` differs from the last one recorded for its action (the first counts
        only if it is not servable: a tool that matches its seal from the start is not news)."""
        key = (status.state, status.live_digest)
        before = self._seen.get(status.action)
        self._seen[status.action] = key
        if before is None:
            return not status.servable
        return before != key
