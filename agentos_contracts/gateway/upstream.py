"""Upstream MCP servers: one SDK client session each, over stdio or streamable HTTP, restarted on failure.

Each upstream runs under a supervisor task that owns its session (anyio scopes must be
left by the task that entered them). A session that breaks (the process died, the
connection closed) is dropped and reopened with exponential back-off, so one crashed
server never takes the gateway down; calls in the meantime fail closed with a message
saying so. A stdio upstream runs on the gateway's own pipes (:mod:`.link`), where
``tools/call`` is written and answered directly beside the session; over HTTP it is sent
with the session's own ``send_request``. Either way the result is returned as received,
checked only against the negotiated protocol version: the gateway checks it against the
*sealed* output schema, so the SDK must not judge it against the live (possibly drifted)
one first.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import anyio
import mcp_types as types
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError
from pydantic import TypeAdapter

from agentos_contracts.gateway.link import StdioLink
from agentos_contracts.runtime.authorize import ACTION

BACKOFF_FIRST_S = 0.1
BACKOFF_MAX_S = 5.0
RESTART_WAIT_S = 15.0  # how long a call waits for a restarting upstream before failing closed
PAGE_CAP = 100  # pages of a listing read before giving up on a paginator that never ends
SERVER_INFO_META = "io.modelcontextprotocol/serverInfo"
# a tools/call result as the session validated it against the negotiated protocol version, kept as
# plain JSON: the gateway checks it against the sealed schema and passes it on without a model round trip
RAW_RESULT: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])


class UpstreamError(Exception):
    """A call that did not produce a result from the upstream: down, timed out, broke, or refused it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UpstreamSpec:
    """``--upstream PREFIX=COMMAND`` (stdio, shell-split) or ``--upstream PREFIX=http://HOST:PORT/PATH``."""

    prefix: str
    command: tuple[str, ...] = ()
    url: str | None = None

    @property
    def label(self) -> str:
        return self.url if self.url is not None else " ".join(self.command)


def parse_upstream(text: str) -> UpstreamSpec | str:
    """The spec, or a message saying what is wrong with ``text``."""
    prefix, sep, target = text.partition("=")
    if not sep or not prefix or not target.strip():
        return f"`--upstream {text}` is not PREFIX=COMMAND or PREFIX=URL"
    if "." in prefix or not ACTION.fullmatch(prefix):
        return f"upstream prefix `{prefix}` is not one action segment (letters, digits, `_`, `-`)"
    if target.startswith(("http://", "https://")):
        return UpstreamSpec(prefix=prefix, url=target)
    try:
        command = tuple(shlex.split(target))
    except ValueError as exc:
        return f"`--upstream {text}`: command cannot be split ({exc})"
    return UpstreamSpec(prefix=prefix, command=command)


def wire(model: Any) -> dict[str, Any]:
    """An SDK model as its MCP wire form (camelCase keys, nulls left out)."""
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


class Upstream:
    """One upstream server: its live tool descriptors and a session, kept open by :meth:`supervise`."""

    def __init__(self, spec: UpstreamSpec, *, on_change: Callable[[Upstream], Awaitable[None]],
                 log: Callable[[str], None], mode: str = "auto", direct: bool = True) -> None:
        self.spec = spec
        self.prefix = spec.prefix
        self.tools: dict[str, dict[str, Any]] = {}  # live descriptors by upstream tool name (wire form)
        self.capabilities: Any = None
        self.restarts = 0
        self.mode = mode  # the SDK client's negotiation: "auto" (2026-07-28, else the handshake) or "legacy"
        self.direct = direct and spec.url is None and sys.platform != "win32"  # tools/call beside the session
        self._client: Client | None = None
        self._link: StdioLink | None = None
        self._ready = anyio.Event()
        self._broken = anyio.Event()
        self._on_change = on_change
        self._log = log

    # --- lifecycle ----------------------------------------------------------------------------

    def _target(self) -> Any:
        if self.spec.url is not None:
            return self.spec.url
        if self.direct:
            link = StdioLink(self.spec.command, on_closed=lambda: self._link_closed(link))
            self._link = link
            return link.open()
        return StdioServerParameters(command=self.spec.command[0], args=list(self.spec.command[1:]),
                                     env=dict(os.environ))

    def _link_closed(self, link: StdioLink) -> None:
        """The server's output ended (it exited or crashed): restart it now, not at the next call."""
        if link is self._link:
            self._break()

    async def supervise(self) -> None:
        """Keep a session open for as long as the gateway runs; reopen it with back-off when it breaks."""
        delay = BACKOFF_FIRST_S
        while True:
            try:
                async with Client(self._target(), cache=None, message_handler=self._on_message,
                                  mode=self.mode) as client:
                    self._client = client
                    self.capabilities = client.server_capabilities
                    await self.refresh()
                    self._ready.set()
                    delay = BACKOFF_FIRST_S
                    await self._broken.wait()
            except Exception as exc:  # a server that will not start or answer: log, wait, retry
                self._log(f"upstream `{self.prefix}` ({self.spec.label}) failed: {_describe(exc)}")
            finally:
                self._client = None
                self._link = None
                if self._ready.is_set():
                    self._ready = anyio.Event()
                self._broken = anyio.Event()
            self.restarts += 1
            self._log(f"upstream `{self.prefix}`: restarting in {delay:.1f} s")
            await anyio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX_S)

    async def wait_ready(self, timeout_s: float) -> Client | None:
        """The open session once its tools are listed, waiting up to ``timeout_s`` for a (re)start; None if
        there is none (a session still listing is not ready: its tools' pins are not known yet)."""
        if not self._ready.is_set():
            with anyio.move_on_after(timeout_s):
                await self._ready.wait()
        return self._client if self._ready.is_set() else None

    def _break(self) -> None:
        """Drop the session at once (no later call may use it) and let the supervisor reopen it."""
        if self._client is not None:
            self._client = None
            self._ready = anyio.Event()
        self._broken.set()

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, Exception):
            self._break()
            return
        method = getattr(message, "method", None)
        if method == "notifications/tools/list_changed":
            try:
                await self.refresh()
            except Exception as exc:
                self._log(f"upstream `{self.prefix}`: cannot re-list tools: {_describe(exc)}")

    # --- requests ------------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Re-read the live tool descriptors and let the gateway re-check their pins."""
        client = self._client
        if client is None:
            return
        tools: dict[str, dict[str, Any]] = {}
        if getattr(self.capabilities, "tools", None) is not None:
            cursor: str | None = None
            for _ in range(PAGE_CAP):
                try:
                    page = await client.session.list_tools(params=types.PaginatedRequestParams(cursor=cursor))
                except MCPError as exc:
                    if exc.code == types.CONNECTION_CLOSED:
                        self._break()
                    raise
                tools.update({t.name: wire(t) for t in page.tools})
                cursor = page.next_cursor
                if cursor is None:
                    break
        self.tools = tools
        await self._on_change(self)

    async def request(self, call: Callable[[Client], Awaitable[Any]], timeout_s: float, what: str, *,
                      timed: bool = True) -> Any:
        """Run one request on the session; every failure becomes an :class:`UpstreamError` with a clear message.

        ``timed=False``: ``call`` keeps the time itself and raises ``TimeoutError`` when it runs out."""
        client = self._client if self._ready.is_set() else await self.wait_ready(min(timeout_s, RESTART_WAIT_S))
        if client is None:
            raise UpstreamError(f"upstream `{self.prefix}` is not available (restarting after a failure)")
        try:
            if not timed:
                return await call(client)
            with anyio.fail_after(timeout_s):
                return await call(client)
        except TimeoutError:
            raise UpstreamError(f"upstream `{self.prefix}` did not answer {what} within {timeout_s:g} s") from None
        except MCPError as exc:
            if exc.code == types.CONNECTION_CLOSED:
                self._break()
                raise UpstreamError(f"upstream `{self.prefix}` closed the connection during {what} "
                                    "(crashed?); restarting it") from None
            raise UpstreamError(f"upstream `{self.prefix}` refused {what}: {exc.message} (code {exc.code})") from None
        except Exception as exc:  # transport errors, malformed results: never passed on as a result
            self._break()
            raise UpstreamError(f"upstream `{self.prefix}` failed during {what}: {_describe(exc)}") from None

    async def call_tool(self, tool: str, arguments: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """``tools/call`` on the upstream; the result in wire form, unchecked (the gateway checks it)."""
        client, link, what = self._client, self._link, f"`tools/call {tool}`"
        version = client.session.protocol_version if client is not None else None
        if link is not None and version is not None and link.ready(version):
            # the link's own coroutine, awaited by request() directly (no wrapper coroutine to resume)
            result = await self.request(lambda client: link.request(  # type: ignore[union-attr]
                "tools/call", {"name": tool, "arguments": arguments}, version, timeout_s), timeout_s, what, timed=False)
        else:
            async def send(client: Client) -> Any:
                request = types.CallToolRequest(params=types.CallToolRequestParams(name=tool, arguments=arguments))
                return await client.session.send_request(request, RAW_RESULT, request_read_timeout_seconds=timeout_s)

            result = await self.request(send, timeout_s, what)
        if not isinstance(result, dict) or result.get("resultType", "complete") != "complete":
            raise UpstreamError(f"upstream `{self.prefix}` answered `tools/call {tool}` with a result that is not a "
                                "tool result (it may need input the gateway cannot relay)")
        return strip_server_info(result)

    async def listing(self, kind: str, timeout_s: float) -> list[dict[str, Any]]:
        """All resources or prompts (``kind``) the upstream lists, in wire form; [] if it has none."""
        if getattr(self.capabilities, kind, None) is None:
            return []
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(PAGE_CAP):
            params = types.PaginatedRequestParams(cursor=cursor)

            async def send(client: Client) -> Any:
                if kind == "resources":
                    return await client.session.list_resources(params=params)
                return await client.session.list_prompts(params=params)

            page = await self.request(send, timeout_s, f"`{kind}/list`")
            out.extend(wire(x) for x in (page.resources if kind == "resources" else page.prompts))
            cursor = page.next_cursor
            if cursor is None:
                break
        return out

    async def read_resource(self, uri: str, timeout_s: float) -> dict[str, Any]:
        async def send(client: Client) -> Any:
            return await client.session.read_resource(uri)

        return strip_server_info(wire(await self.request(send, timeout_s, "`resources/read`")))

    async def get_prompt(self, name: str, arguments: dict[str, str] | None, timeout_s: float) -> dict[str, Any]:
        async def send(client: Client) -> Any:
            return await client.session.get_prompt(name, arguments)

        return strip_server_info(wire(await self.request(send, timeout_s, f"`prompts/get {name}`")))


def strip_server_info(result: dict[str, Any]) -> dict[str, Any]:
    """The upstream's self-identification is not passed on: downstream, the gateway is the server."""
    meta = result.get("_meta")
    if isinstance(meta, dict) and SERVER_INFO_META in meta:
        rest = dict(meta)  # copies with the key deleted: the same dicts as filtering them, built natively
        del rest[SERVER_INFO_META]
        result = dict(result)
        del result["_meta"]
        if rest:
            result["_meta"] = rest
    return result


def _describe(exc: BaseException) -> str:
    """One line for an exception, looking inside exception groups (anyio task groups raise them)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def stderr_log(message: str) -> None:
    """Where the gateway reports on itself: standard error (standard output may be the MCP channel)."""
    sys.stderr.write(f"agentos gateway: {message}\n")
    sys.stderr.flush()
