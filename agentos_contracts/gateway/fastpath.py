"""``tools/call`` over stdio answered next to the SDK's server loop, not through it.

The SDK's server handles the handshake, discovery, consent rounds, resources, prompts,
errors and everything else. A well-formed ``tools/call`` is taken off the wire here
instead: validated with the SDK's own per-version request schema and decided by the
:class:`Relay` as the line arrives (once: the decision is recorded). A call whose decision
is ``consent`` then goes to the SDK's loop, which asks the person, with that decision
handed over (:meth:`Relay.hand_over`); any other is forwarded by the same relay and its
result shaped with the SDK's own per-version result serializer (plus, on 2026-07-28
connections, the ``resultType`` and ``serverInfo`` stamp the SDK's runner adds). The
bytes differ from the SDK's only in key order. What this skips is the runner's per-request
machinery (context, session and middleware objects, a model round trip of params and
result), which costs more than the decision itself. Anything the fast path is not sure
of goes to the SDK unchanged.
"""

from __future__ import annotations

import json
from typing import Any, Callable

import anyio
from mcp_types import methods as surface
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from agentos_contracts.gateway.relay import NeedsInput, Relay
from agentos_contracts.gateway.shapes import (
    ABSENT, AcceptedMeta, accepted_call, compact_json, loads_line, plain_tool_result,
)
from agentos_contracts.runtime.authorize import Decision

VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"
SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"
MARKER = '"tools/call"'


class _NoConsentHere:
    """A consent question reaching the fast path (never: consent decisions go to the SDK's loop): refused."""

    defers = False

    async def ask(self, request: Any) -> Any:
        return request.refuse("none", "consent could not be asked for this call; call again")


NO_CONSENT_HERE = _NoConsentHere()


class FastPath:
    """Watches the stdio lines both ways; ``take(line)`` answers a plain ``tools/call`` itself."""

    def __init__(self, relay: Relay, server_info: Callable[[], dict[str, Any]], send: Callable[[str], None],
                 spawn: Callable[..., None]) -> None:
        self.relay = relay
        self._server_info = server_info
        self._info: dict[str, Any] | None = None  # the stamp, read once (it is only ever serialized, never changed)
        self._send = send
        self._spawn = spawn
        self._init_id: Any = None
        self._legacy_version: str | None = None
        self._initialized = False
        self._era: str | None = None  # decided by the first request, as the SDK's loop decides it
        self._accepted: tuple[str, AcceptedMeta] | None = None  # (version, _meta) of a request the schema accepted

    # --- what the SDK says on the wire: the negotiated handshake version ---------------------------

    def inbound_seen(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        if self._era is None and "id" in message and isinstance(method, str):
            self._era = "modern" if method != "initialize" and _enveloped(message.get("params")) else "legacy"
        if method == "initialize" and "id" in message:
            self._init_id = message["id"]
        elif method == "notifications/initialized":
            self._initialized = True

    def outbound(self, text: str) -> None:
        if self._init_id is None or self._legacy_version is not None:
            return
        try:
            message = json.loads(text)
        except ValueError:
            return
        if isinstance(message, dict) and message.get("id") == self._init_id:
            version = (message.get("result") or {}).get("protocolVersion")
            self._legacy_version = version if isinstance(version, str) else None

    # --- the fast path -----------------------------------------------------------------------------

    def take(self, line: str) -> bool:
        """True when this line is answered here (the SDK never sees it)."""
        if MARKER not in line:
            if self._era is None or '"initialize"' in line or '"notifications/initialized"' in line:
                self._observe(line)
            return False
        try:
            message = loads_line(line)
        except ValueError:
            return False
        if not isinstance(message, dict):
            return False
        self.inbound_seen(message)
        version = self._eligible(message)
        if version is None:
            return False
        params = message["params"]
        try:
            outcome = self.relay.decide(params["name"], params.get("arguments") or {})
        except Exception:  # the SDK's loop decides it again and answers whatever happens
            return False
        if isinstance(outcome, Decision) and outcome.effect == "consent" and not self.relay.monitor:
            self.relay.hand_over(message["id"], outcome)  # the SDK's loop asks the person
            return False
        self._spawn(self._answer, message, version, outcome)
        return True

    def _observe(self, line: str) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            return
        if isinstance(message, dict):
            self.inbound_seen(message)

    def _eligible(self, message: dict[str, Any]) -> str | None:
        """The protocol version to answer at, or None to leave the message to the SDK."""
        if message.get("jsonrpc") != "2.0" or message.get("method") != "tools/call":
            return None
        rid = message.get("id")
        params = message.get("params")
        if isinstance(rid, bool) or not isinstance(rid, (str, int)) or not isinstance(params, dict):
            return None
        if "inputResponses" in params or "requestState" in params:
            return None  # a consent answer: the SDK path decides it
        meta = params.get("_meta")
        if _enveloped(params):
            version = meta.get(VERSION_KEY)
            if self._era != "modern" or version not in MODERN_PROTOCOL_VERSIONS or CAPABILITIES_KEY not in meta:
                return None
        elif self._era == "legacy" and self._initialized and self._legacy_version is not None:
            version = self._legacy_version
        else:
            return None
        if self._accepted is None or self._accepted[0] != version or not accepted_call(params, self._accepted[1]):
            try:
                surface.validate_client_request("tools/call", str(version), params)
            except Exception:  # the SDK answers malformed requests with the right error
                return None
            self._accepted = (str(version), AcceptedMeta(params.get("_meta", ABSENT)))  # the session's stamp
        name, args = params.get("name"), params.get("arguments") or {}
        if not isinstance(name, str) or not isinstance(args, dict):
            return None
        return str(version)

    async def _answer(self, message: dict[str, Any], version: str, outcome: dict[str, Any] | Decision) -> None:
        params = message["params"]
        later: list[Callable[[], None]] = []  # the outcome's audit records, appended once the reply is out
        try:
            out = await self.relay.call_tool(params["name"], params.get("arguments") or {}, NO_CONSENT_HERE,
                                             decided=outcome, later=later)
            result = out if not isinstance(out, NeedsInput) else {
                "content": [{"type": "text", "text": "denied by agentos: consent could not be asked"}],
                "isError": True}
            reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"],
                                     "result": self._shape(version, result)}
        except anyio.get_cancelled_exc_class():
            raise
        except Exception as exc:  # never silence a request: answer with a JSON-RPC error
            reply = {"jsonrpc": "2.0", "id": message["id"],
                     "error": {"code": -32603, "message": f"internal error ({type(exc).__name__})"}}
        try:
            self._send(compact_json(reply) + "\n")
        finally:
            for append in later:
                append()

    def _shape(self, version: str, result: dict[str, Any]) -> dict[str, Any]:
        """What the SDK's runner would put on the wire for this result at this version."""
        modern = version in MODERN_PROTOCOL_VERSIONS
        data = {**result, "resultType": "complete"} if modern else result
        dumped = plain_tool_result(version, data)  # the SDK's dump, known in advance for a plain result (shapes.py)
        if dumped is None:
            dumped = surface.serialize_server_result("tools/call", version, data)
        if modern:
            dumped.setdefault("resultType", "complete")
            meta = dumped.get("_meta")
            if not isinstance(meta, dict):
                dumped["_meta"] = {SERVER_INFO_KEY: self._stamp()}
            elif meta.get(SERVER_INFO_KEY) is None:
                dumped["_meta"] = {**meta, SERVER_INFO_KEY: self._stamp()}
        return dumped

    def _stamp(self) -> dict[str, Any]:
        if self._info is None:
            self._info = self._server_info()
        return self._info


def _enveloped(params: Any) -> bool:
    """A 2026-07-28 request: its ``_meta`` carries the reserved protocol-version key (the SDK's own test)."""
    return isinstance(params, dict) and isinstance(params.get("_meta"), dict) and VERSION_KEY in params["_meta"]
