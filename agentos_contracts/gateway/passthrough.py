"""Resources and prompts: passed through only where the manifest grants them, otherwise hidden.

Capabilities name actions, so reading a resource of upstream ``docs`` is the action
``docs.resources.read`` with the argument ``uri``, and getting one of its prompts is
``docs.prompts.get`` with ``name`` (and ``arguments``). The contract grants them like any
action (``capabilities: [docs.resources.read]``) and a policy narrows them, e.g.
``ALLOW docs.resources.read IF args.uri MATCHES "file:///handbook/*"``. A listing shows
what the same decision path would not deny; a read or get is decided, recorded and
charged like a tool call. Prompts appear downstream as ``PREFIX.NAME``.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Mapping

from agentos_contracts.gateway.relay import Relay
from agentos_contracts.gateway.upstream import UpstreamError

READ, GET = "resources.read", "prompts.get"


class Refused(Exception):
    """A resource read or prompt get that is not let through; the text says why (shown as a protocol error,
    since MCP has no error result for these methods)."""


class Passthrough:
    """Routes resource URIs and prompt names to their upstream, deciding each with the runtime."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self._uri_owner: dict[str, str] = {}

    def _visible(self, action: str, args: Mapping[str, Any]) -> bool:
        """Shown when the decision path (ceiling, policy, budgets) would not deny it; nothing is recorded."""
        context = self.relay.context.current()
        if isinstance(context, str) or not self.relay.inside_ceiling(action):
            return False
        try:
            decision = self.relay.rt.authorizer.decide(action, context, dict(args))
        except Exception:
            return False
        return decision.effect != "deny"

    async def _listed(self, kind: str, verb: str) -> AsyncIterator[tuple[str, str, dict[str, Any]]]:
        """``(prefix, action, item)`` for each item an upstream lists whose action is inside the ceiling;
        an upstream that fails to answer lists nothing."""
        for prefix, up in sorted(self.relay.upstreams.items()):
            action = f"{prefix}.{verb}"
            if not self.relay.inside_ceiling(action):
                continue
            try:
                items = await up.listing(kind, self.relay.timeout_s)
            except UpstreamError:
                continue
            for item in items:
                yield prefix, action, item

    async def list_resources(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        async for prefix, action, item in self._listed("resources", READ):
            uri = str(item.get("uri", ""))
            self._uri_owner[uri] = prefix
            if self._visible(action, {"uri": uri}):
                out.append(item)
        return out

    async def list_prompts(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        async for prefix, action, item in self._listed("prompts", GET):
            if self._visible(action, {"name": str(item.get("name", "")), "arguments": {}}):
                out.append({**item, "name": f"{prefix}.{item.get('name', '')}"})
        return out

    def _decide(self, action: str, args: dict[str, Any]) -> None:
        context = self.relay.context.current()
        if isinstance(context, str):
            self.relay.rt.record("call.refused", action=action, decision="deny", reason=context, error="AC803")
            raise Refused(f"denied by agentos [AC803]: {context}")
        decision = self.relay.rt.authorize(action, context, args)
        if decision.effect == "allow":
            return
        reason = decision.reason if decision.effect == "deny" else \
            f"{decision.reason}; consent is asked for tool calls only"
        if self.relay.monitor:
            self.relay.rt.record("monitor.forwarded", action=action, decision=decision.effect, stage=decision.stage,
                                 rules=list(decision.rules), reason=reason)
            return
        raise Refused(f"denied by agentos: {reason} (rules: {', '.join(decision.rules) or '-'})")

    async def read_resource(self, uri: str) -> dict[str, Any]:
        prefix = self._uri_owner.get(uri)
        if prefix is None:
            await self.list_resources()
            prefix = self._uri_owner.get(uri)
        if prefix is None:
            raise Refused(f"denied by agentos [AC804]: no upstream serves resource `{uri}`")
        self._decide(f"{prefix}.{READ}", {"uri": uri})
        try:
            return await self.relay.upstreams[prefix].read_resource(uri, self.relay.timeout_s)
        except UpstreamError as exc:
            raise Refused(f"failed [AC821]: {exc}") from None

    async def get_prompt(self, name: str, arguments: dict[str, str] | None) -> dict[str, Any]:
        prefix, _, inner = name.partition(".")
        up = self.relay.upstreams.get(prefix)
        if up is None or not inner:
            raise Refused(f"denied by agentos [AC804]: no upstream serves prompt `{name}`")
        self._decide(f"{prefix}.{GET}", {"name": inner, "arguments": dict(arguments or {})})
        try:
            return await up.get_prompt(inner, arguments, self.relay.timeout_s)
        except UpstreamError as exc:
            raise Refused(f"failed [AC821]: {exc}") from None
