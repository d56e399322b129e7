"""Every ``tools/call`` through the runtime: pins, decision, consent, upstream, result check, audit.

The decision is the runtime's own (:meth:`Runtime.authorize`: ceiling, compiled policy
over context and arguments, sealed ``inputSchema``, budgets; consent through
:meth:`Runtime.ask_consent`, bound to the call's digest). The gateway adds only what
exists because a network sits in between: an upstream that must serve the tool with the
descriptor that was sealed, and a result that must match the sealed ``outputSchema``.
Nothing reaches the upstream before the decision is an allow. A refusal is a tool result
with ``isError: true`` whose text gives the reason, the rule ids or the code, so the
person at the client sees why.
"""

from __future__ import annotations

import json
import time
import uuid
from contextvars import ContextVar
from functools import partial
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol, Sequence

import anyio
import anyio.from_thread
import anyio.to_thread

from agentos_contracts.gateway import pinning
from agentos_contracts.gateway.context import ContextSource
from agentos_contracts.gateway.upstream import Upstream, UpstreamError
from agentos_contracts.runtime.authorize import Decision, args_digest
from agentos_contracts.runtime.consent import Approval, ConsentRequest, call_digest
from agentos_contracts.runtime.engine import Runtime
from agentos_contracts.runtime.results import check_tool_result
from agentos_contracts.runtime.telemetry import NO_SPAN, decision_attributes

CONSENT_KEY = "agentos.consent"
CONSENT_TTL_NS = 300 * 1_000_000_000
HANDOVER_TTL_NS = 30 * 1_000_000_000  # a decision handed to the SDK's loop is used at once or not at all
HANDOVER_MAX = 1024
_asker: ContextVar[Callable[[ConsentRequest], Any] | None] = ContextVar("agentos_gateway_asker", default=None)


class ConsentChannel(Protocol):
    """How one call reaches the person: ask now (``ask``), or say the answer comes with a retry (``defers``)."""

    @property
    def defers(self) -> bool: ...

    async def ask(self, request: ConsentRequest) -> Approval: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class NeedsInput:
    """Consent must be asked in a second round (MCP 2026-07-28 ``InputRequiredResult``); ``token`` comes back."""

    token: str
    message: str


def runtime_approver(request: ConsentRequest) -> Any:
    """The Runtime's approver: hands the request to the channel of the call being decided (a worker thread)."""
    ask = _asker.get()
    if ask is None:
        return request.refuse("none", "no one can be asked for consent")
    return ask(request)


def consent_message(action: str, reason: str, rules: Sequence[str], args: Mapping[str, Any]) -> str:
    """What the person reads: the action, why they are asked, the deciding rules and the exact arguments."""
    try:
        shown = json.dumps(dict(args), sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        shown = "(not JSON)"
    if len(shown) > 2000:
        shown = shown[:1997] + "..."
    return (f"agentos: allow `{action}` once?\nwhy asked: {reason}\n"
            f"rules: {', '.join(rules) or '-'}\narguments: {shown}")


def error_result(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "isError": True}


def denied_text(decision: Decision) -> str:
    return f"denied by agentos: {decision.reason} (stage: {decision.stage}; rules: {', '.join(decision.rules) or '-'})"


class Relay:
    """The gateway's state between the downstream server and the upstream sessions."""

    def __init__(self, runtime: Runtime, upstreams: Mapping[str, Upstream], context: ContextSource, *,
                 monitor: bool = False, timeout_s: float = 60.0, consent_timeout_s: float = 120.0) -> None:
        self.rt = runtime
        self.upstreams = dict(upstreams)
        self.context = context
        self.monitor = monitor
        self.timeout_s = timeout_s
        self.consent_timeout_s = consent_timeout_s
        self.sealed = {t.name: dict(t.descriptor) for t in runtime.manifest.resolved.tools if t.descriptor is not None}
        self.bound = {t.name for t in runtime.manifest.resolved.tools}
        self.status: dict[str, pinning.PinStatus] = {}
        self._book = pinning.PinBook()
        self._pending: dict[str, tuple[str, int]] = {}  # consent token -> (call digest, expiry ns)
        self._handed: dict[Any, tuple[Decision, int]] = {}  # JSON-RPC id -> (consent decision, expiry ns)

    # --- discovery and pins --------------------------------------------------------------------

    def split(self, action: str) -> tuple[Upstream | None, str]:
        prefix, _, tool = action.partition(".")
        return self.upstreams.get(prefix), tool

    def inside_ceiling(self, action: str) -> bool:
        return pinning_safe(lambda: self.rt.authorizer.inside(action))

    async def on_upstream_change(self, up: Upstream) -> None:
        """Re-check the pins of every action under ``up``'s prefix; audit each change once."""
        head = f"{up.prefix}."
        actions = {a for a in self.bound if a.startswith(head)} | {head + t for t in up.tools}
        for action in sorted(actions):
            if not self.inside_ceiling(action):
                continue
            tool = action[len(head):]
            status = pinning.compare(action, up.prefix, tool, self.sealed.get(action), up.tools.get(tool))
            self.status[action] = status
            if status.state in (pinning.PINNED, pinning.DRIFTED) and self._book.changed(status):
                kind = "descriptor.drifted" if status.state == pinning.DRIFTED else "descriptor.restored"
                self.rt.record(kind, action=action, reason=status.reason or "live descriptor matches the seal again",
                               error=status.code, detail={"fields": list(status.fields),
                                                          "live_digest": status.live_digest})

    async def refresh_all(self) -> None:
        """Re-read every live upstream's tools (a listing is when a silent change must show)."""
        async def one(up: Upstream) -> None:
            try:
                with anyio.fail_after(self.timeout_s):
                    await up.refresh()
            except Exception:  # a broken upstream keeps its last known tools; its calls fail closed
                return

        async with anyio.create_task_group() as tg:
            for up in self.upstreams.values():
                tg.start_soon(one, up)

    def visible_tools(self) -> list[dict[str, Any]]:
        """The sealed descriptors of the actions inside the ceiling whose upstream serves them as sealed."""
        out = []
        for action, status in sorted(self.status.items()):
            if status.servable and action in self.sealed:
                descriptor = {k: v for k, v in self.sealed[action].items() if v is not None}
                descriptor["name"] = action
                descriptor.setdefault("inputSchema", {"type": "object"})
                out.append(descriptor)
        return out

    def input_schema(self, action: str) -> Mapping[str, Any] | None:
        schema = self.sealed.get(action, {}).get("inputSchema")
        return schema if isinstance(schema, Mapping) else None

    def _refusal(self, action: str) -> tuple[str, str] | None:
        """``(code, reason)`` when the gateway cannot serve ``action`` (checked only inside the ceiling)."""
        up, tool = self.split(action)
        if up is None:
            return "AC804", f"no upstream serves `{action}`"
        # the status computed when the upstream's tools were last read (they change only then)
        status = self.status.get(action)
        if status is None:
            status = pinning.compare(action, up.prefix, tool, self.sealed.get(action), up.tools.get(tool))
        return None if status.servable else (status.code or "AC810", status.reason)

    # --- tools/call ------------------------------------------------------------------------------

    async def call_tool(self, action: str, args: Any, channel: ConsentChannel,
                        span_attributes: Mapping[str, Any] | None = None,
                        decided: dict[str, Any] | Decision | None = None,
                        later: list[Callable[[], None]] | None = None) -> dict[str, Any] | NeedsInput:
        """One call, decided here or already by :meth:`decide` (``decided``: each call is decided once).

        With ``later``, the records of the call's outcome (``tool.completed``, ``tool.failed``,
        ``result.withheld``) are appended to it instead of written: the caller writes them right after
        it has sent the result, so the client does not wait for the audit append."""
        if not self.rt.telemetry.active:  # no tracer: the span would be NO_SPAN (its attributes built for nothing)
            return _without_marker(await self._call(str(action), args, channel, NO_SPAN, decided, later))
        attrs = {"mcp.method.name": "tools/call", "agentos.manifest.digest": self.rt.digest,
                 "gen_ai.agent.name": self.rt.manifest.name, **(span_attributes or {})}
        with self.rt.telemetry.tool_span(str(action), attrs) as span:
            out = await self._call(str(action), args, channel, span, decided, later)
            if isinstance(out, dict) and out.get("isError"):
                span.set_attribute("error.type", str(out.get("_agentos_error", "tool_error")))
            return _without_marker(out)

    def decide(self, action: str, args: Any) -> dict[str, Any] | Decision:
        """The gateway's refusal (a tool result) or the runtime's decision, recorded either way; nothing is
        forwarded yet. Synchronous, so a caller can decide a message in the order it arrived."""
        context = self.context.current()
        refusal: tuple[str, str] | None = None
        if isinstance(context, str):
            refusal = ("AC803", context)
        elif self.inside_ceiling(action):
            refusal = self._refusal(action)
        if refusal is not None:
            code, reason = refusal
            self.rt.record("call.refused", action=action, decision="deny", reason=reason, error=code)
            if not (self.monitor and code not in ("AC804", "AC803", "AC812")):
                return {**error_result(f"denied by agentos [{code}]: {reason}"), "_agentos_error": code}
            self.rt.record("monitor.forwarded", action=action, decision="deny", reason=reason, error=code)
        return self.rt.authorize(action, context if isinstance(context, dict) else {}, args)

    def hand_over(self, request_id: Any, decision: Decision) -> None:
        """Keep a ``consent`` decision for the SDK's loop, which asks the person for request ``request_id``."""
        now = time.time_ns()
        if len(self._handed) >= HANDOVER_MAX:
            self._handed = {k: v for k, v in self._handed.items() if v[1] > now}
            while len(self._handed) >= HANDOVER_MAX:
                del self._handed[next(iter(self._handed))]
        self._handed[(type(request_id), request_id)] = (decision, now + HANDOVER_TTL_NS)

    def handed_over(self, request_id: Any, action: str, args: Any) -> Decision | None:
        """The decision kept for request ``request_id``, if it was made for exactly this action and these arguments."""
        entry = self._handed.pop((type(request_id), request_id), None) if self._handed else None
        if entry is None:
            return None
        decision, expires = entry
        try:
            same = decision.action == action and decision.args_digest == args_digest(args)
        except Exception:
            same = False
        return decision if same and time.time_ns() < expires else None

    async def _call(self, action: str, args: Any, channel: ConsentChannel, span: Any,
                    decided: dict[str, Any] | Decision | None,
                    later: list[Callable[[], None]] | None) -> dict[str, Any] | NeedsInput:
        outcome = decided if decided is not None else self.decide(action, args)
        if isinstance(outcome, dict):
            return outcome
        decision = outcome
        if decision.effect == "consent" and not self.monitor:
            if channel.defers:
                return self._defer(decision, args)
            decision = await self._ask(decision, args, channel)
        if span is not NO_SPAN:  # without a tracer there is nothing to set them on
            for key, value in decision_attributes(decision=decision.effect, rules=decision.rules,
                                                  stage=decision.stage, args_digest=decision.args_digest,
                                                  reason=decision.reason).items():
                span.set_attribute(key, value)
        if decision.effect != "allow":
            if not self.monitor:
                return {**error_result(denied_text(decision)), "_agentos_error": f"denied.{decision.stage}"}
            self.rt.record("monitor.forwarded", action=action, decision=decision.effect, stage=decision.stage,
                           rules=list(decision.rules), reason=decision.reason, args_digest=decision.args_digest or None)
        return await self._forward(action, args, decision, later)

    def _defer(self, decision: Decision, args: Mapping[str, Any]) -> NeedsInput:
        now = time.time_ns()
        self._pending = {k: v for k, v in self._pending.items() if v[1] > now}
        token = uuid.uuid4().hex
        self._pending[token] = (call_digest(decision.action, args, self.rt.digest), now + CONSENT_TTL_NS)
        return NeedsInput(token=token, message=consent_message(decision.action, decision.reason, decision.rules, args))

    def redeem_token(self, token: str | None, request: ConsentRequest) -> str | None:
        """None when ``token`` was minted here for exactly this call and has not expired (used once), else why not."""
        entry = self._pending.pop(token, None) if isinstance(token, str) else None
        if entry is None:
            return "the consent answer does not belong to a question this gateway asked (or it was used)"
        digest, expires = entry
        if time.time_ns() >= expires:
            return "the consent answer came after the question expired"
        if digest != request.call_digest:
            return "the consent answer was given for other arguments than this call's"
        return None

    async def _ask(self, decision: Decision, args: Mapping[str, Any], channel: ConsentChannel) -> Decision:
        """The runtime's consent gate, with this call's channel as the approver (run in a worker thread,
        since the gate blocks; the channel's coroutine runs back on the event loop)."""

        def approve(request: ConsentRequest) -> Any:
            return anyio.from_thread.run(channel.ask, request)

        def gate() -> Decision:
            token = _asker.set(approve)
            try:
                return self.rt.ask_consent(decision, args)
            finally:
                _asker.reset(token)

        return await anyio.to_thread.run_sync(gate)

    async def _forward(self, action: str, args: Any, decision: Decision,
                       later: list[Callable[[], None]] | None = None) -> dict[str, Any]:
        up, tool = self.split(action)
        digest = decision.args_digest or None

        def record(type_: str, **fields: Any) -> None:
            if later is None:
                self.rt.record(type_, **fields)
            else:
                later.append(partial(self.rt.record, type_, **fields))
        if up is None:
            reason = f"no upstream serves `{action}`"
            record("tool.failed", action=action, args_digest=digest, outcome="error", error="AC804",
                           reason=reason)
            return {**error_result(f"failed [AC804]: {reason}"), "_agentos_error": "AC804"}
        try:
            result = await up.call_tool(tool, args if isinstance(args, dict) else {}, self.timeout_s)
        except UpstreamError as exc:
            record("tool.failed", action=action, args_digest=digest, outcome="error", error="AC821",
                           reason=str(exc))
            return {**error_result(f"failed [AC821]: {exc}"), "_agentos_error": "AC821"}
        problem = check_tool_result(self.rt.loaded, action, result)
        if problem is not None:
            record("result.withheld", action=action, args_digest=digest, outcome="withheld", error="AC820",
                           reason=problem)
            if not self.monitor:
                return {**error_result(f"result withheld by agentos [AC820]: {problem}"), "_agentos_error": "AC820"}
        outcome = "error" if result.get("isError") is True else "ok"
        record("tool.completed", action=action, args_digest=digest, outcome=outcome)
        return result


def _without_marker(out: dict[str, Any] | NeedsInput) -> dict[str, Any] | NeedsInput:
    """The result as the client gets it: the gateway's error code marker (for the span) taken out."""
    if isinstance(out, dict):
        out.pop("_agentos_error", None)
    return out


def pinning_safe(check: Callable[[], bool]) -> bool:
    """A ceiling question that raises (a malformed action) counts as outside: the runtime then decides it."""
    try:
        return check()
    except Exception:
        return False


async def flush_periodically(runtime: Runtime, every_s: float = 0.2) -> None:
    """Commit batched audit records at least every ``every_s``: an idle gateway leaves nothing unwritten."""
    while True:
        await anyio.sleep(every_s)
        await anyio.to_thread.run_sync(runtime.log.flush)

