"""The downstream MCP server: what an MCP client sees when it points at ``agentos gateway``.

Built on the SDK's low-level ``Server``, which speaks both protocol eras: the handshake
era (``initialize``; the gateway asks for consent with an ``elicitation/create`` request)
and the 2026-07-28 per-request era (no back-channel: the gateway answers a call that
needs consent with an ``InputRequiredResult`` holding the elicitation, and decides the
retry that carries the person's answer). Listens on stdio or on streamable HTTP bound to
127.0.0.1.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from typing import Any, Callable, Sequence
from urllib.parse import urlsplit

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError

from agentos_contracts.gateway.passthrough import Passthrough, Refused
from agentos_contracts.gateway.fastpath import FastPath
from agentos_contracts.gateway.stdio import pipe_stdio
from agentos_contracts.gateway.relay import CONSENT_KEY, NeedsInput, Relay, consent_message, flush_periodically
from agentos_contracts.gateway.context import ContextSource
from agentos_contracts.gateway.upstream import Upstream, UpstreamSpec
from agentos_contracts.runtime.consent import Approval, ConsentRequest

CONSENT_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}
STARTUP_WAIT_S = 15.0
APPROVER = "mcp-elicitation"


@dataclass(frozen=True, slots=True, kw_only=True)
class Listen:
    """``stdio``, or streamable HTTP on 127.0.0.1 at ``port`` and ``path``."""

    stdio: bool = True
    port: int = 0
    path: str = "/mcp"


def parse_listen(text: str) -> Listen | str:
    """The listen address, or why ``text`` is not one (only the loopback interface is served)."""
    if text == "stdio":
        return Listen()
    parts = urlsplit(text)
    if parts.scheme != "http" or parts.hostname != "127.0.0.1":
        return f"`--listen {text}` is not `stdio` or `http://127.0.0.1:PORT/PATH` (loopback only)"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None or not 0 < port < 65536:
        return f"`--listen {text}` needs a port between 1 and 65535"
    return Listen(stdio=False, port=port, path=parts.path or "/mcp")


# --- consent channels: how a call that needs consent reaches the person -------------------------

class _Refusing:
    defers = False

    def __init__(self, why: str) -> None:
        self.why = why

    async def ask(self, request: ConsentRequest) -> Approval:
        return request.refuse("none", self.why)


class _Eliciting:
    """Handshake era: an ``elicitation/create`` request to the client, answered within the timeout."""

    defers = False

    def __init__(self, ctx: Any, timeout_s: float) -> None:
        self.ctx = ctx
        self.timeout_s = timeout_s

    async def ask(self, request: ConsentRequest) -> Approval:
        message = consent_message(request.action, request.reason, request.rules, request.args)
        try:
            with anyio.fail_after(self.timeout_s):
                answer = await self.ctx.session.elicit_form(message, CONSENT_SCHEMA,
                                                            related_request_id=self.ctx.request_id)
        except TimeoutError:
            return request.refuse(APPROVER, f"no answer within {self.timeout_s:g} s")
        except Exception as exc:
            return request.refuse(APPROVER, f"elicitation failed ({type(exc).__name__})")
        return _answered(request, answer)


class _Deferring:
    """2026-07-28 era, first round: the question goes out in an ``InputRequiredResult``."""

    defers = True

    async def ask(self, request: ConsentRequest) -> Approval:  # never asked: the relay defers first
        return request.refuse("none", "consent was not asked")


class _Answered:
    """2026-07-28 era, the retry: the answer counts only with the token minted for exactly this call."""

    defers = False

    def __init__(self, relay: Relay, token: str | None, answer: Any) -> None:
        self.relay, self.token, self.answer = relay, token, answer

    async def ask(self, request: ConsentRequest) -> Approval:
        problem = self.relay.redeem_token(self.token, request)
        if problem is not None:
            return request.refuse(APPROVER, problem)
        return _answered(request, self.answer)


def _answered(request: ConsentRequest, answer: Any) -> Approval:
    action = getattr(answer, "action", None)
    if action == "accept":
        return request.approve(APPROVER)
    if action == "decline":
        return request.refuse(APPROVER, "declined by the person")
    if action == "cancel":
        return request.refuse(APPROVER, "cancelled by the person")
    return request.refuse(APPROVER, "no consent answer was given")


def consent_channel(relay: Relay, ctx: Any, params: types.CallToolRequestParams) -> Any:
    caps = ctx.session.client_capabilities
    if caps is None or caps.elicitation is None:
        return _Refusing("the MCP client did not declare the elicitation capability, so no one can be asked")
    if ctx.session.can_send_request:
        return _Eliciting(ctx, relay.consent_timeout_s)
    responses = params.input_responses or {}
    if params.request_state is not None or responses:
        return _Answered(relay, params.request_state, responses.get(CONSENT_KEY))
    return _Deferring()


def session_id(ctx: Any) -> str | None:
    request = getattr(ctx, "request", None)
    headers = getattr(request, "headers", None)
    return headers.get("mcp-session-id") if headers is not None else None


# --- the server ---------------------------------------------------------------------------------

def build_server(relay: Relay, passthrough: Passthrough) -> Server[Any]:
    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        await relay.refresh_all()
        return types.ListToolsResult(tools=[types.Tool.model_validate(t) for t in relay.visible_tools()])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> Any:
        attrs = {"mcp.session.id": session_id(ctx)}
        args = params.arguments or {}
        decided = relay.handed_over(ctx.request_id, params.name, args)  # decided as it arrived (stdio fast path)
        out = await relay.call_tool(params.name, args, consent_channel(relay, ctx, params), attrs, decided)
        if isinstance(out, NeedsInput):
            ask = types.ElicitRequest(params=types.ElicitRequestFormParams(message=out.message,
                                                                           requested_schema=CONSENT_SCHEMA))
            return types.InputRequiredResult(input_requests={CONSENT_KEY: ask}, request_state=out.token)
        return types.CallToolResult.model_validate(out)

    async def list_resources(ctx: Any, params: Any) -> types.ListResourcesResult:
        items = await passthrough.list_resources()
        return types.ListResourcesResult(resources=[types.Resource.model_validate(r) for r in items])

    async def read_resource(ctx: Any, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        try:
            return types.ReadResourceResult.model_validate(await passthrough.read_resource(str(params.uri)))
        except Refused as exc:
            raise MCPError(types.INVALID_PARAMS, str(exc)) from None

    async def list_prompts(ctx: Any, params: Any) -> types.ListPromptsResult:
        items = await passthrough.list_prompts()
        return types.ListPromptsResult(prompts=[types.Prompt.model_validate(p) for p in items])

    async def get_prompt(ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        try:
            return types.GetPromptResult.model_validate(await passthrough.get_prompt(params.name, params.arguments))
        except Refused as exc:
            raise MCPError(types.INVALID_PARAMS, str(exc)) from None

    return Server("agentos-gateway", version=_version(), instructions=None,
                  get_tool_input_schema=relay.input_schema,
                  on_list_tools=list_tools, on_call_tool=call_tool,
                  on_list_resources=list_resources, on_read_resource=read_resource,
                  on_list_prompts=list_prompts, on_get_prompt=get_prompt)


def _version() -> str:
    from agentos_contracts import __version__

    return __version__


async def serve(relay: Relay, listen: Listen, log: Any) -> None:
    """Start the upstreams, serve one listener until the client leaves (stdio) or a signal (HTTP), stop."""
    server = build_server(relay, Passthrough(relay))
    async with anyio.create_task_group() as tg:
        for up in relay.upstreams.values():
            tg.start_soon(up.supervise)
        tg.start_soon(flush_periodically, relay.rt)
        with anyio.move_on_after(STARTUP_WAIT_S):
            for up in relay.upstreams.values():
                await up.wait_ready(STARTUP_WAIT_S)
        for prefix, up in sorted(relay.upstreams.items()):
            if up.tools or await up.wait_ready(0) is not None:
                continue
            log(f"upstream `{prefix}` is not ready yet; its tools appear once it starts")
        if listen.stdio:
            tg.start_soon(_stop_on_signal, tg.cancel_scope)
            def fast(send: Callable[[str], None], spawn: Callable[..., None]) -> FastPath:
                return FastPath(relay, lambda: server.server_info_stamp, send, spawn)

            async with pipe_stdio(fast) as (read, write):
                await server.run(read, write, server.create_initialization_options())
        else:
            await _serve_http(server, listen, log)
        tg.cancel_scope.cancel()


async def _stop_on_signal(scope: anyio.CancelScope) -> None:
    """SIGTERM (what a client sends a stdio server it is done with) stops the gateway cleanly, so the
    audit log is committed and closed; uvicorn handles the signals itself when serving HTTP."""
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGHUP) as signals:
        async for _ in signals:
            scope.cancel()
            return


async def _serve_http(server: Server[Any], listen: Listen, log: Any) -> None:
    import uvicorn

    app = server.streamable_http_app(streamable_http_path=listen.path, host="127.0.0.1")
    config = uvicorn.Config(app, host="127.0.0.1", port=listen.port, log_level="warning", lifespan="on")
    log(f"listening on http://127.0.0.1:{listen.port}{listen.path}")
    await uvicorn.Server(config).serve()


def build_relay(runtime: Any, specs: Sequence[UpstreamSpec], context: ContextSource, *, monitor: bool,
                timeout_s: float, log: Callable[[str], None]) -> Relay:
    """The relay and its upstream sessions (not started: :func:`serve` starts them)."""
    relay = Relay(runtime, {}, context, monitor=monitor, timeout_s=timeout_s)
    relay.upstreams = {s.prefix: Upstream(s, on_change=relay.on_upstream_change, log=log) for s in specs}
    return relay
