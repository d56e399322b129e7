"""A stdio upstream on the gateway's own pipes: the SDK's session for everything, ``tools/call`` sent directly.

The SDK's ``Client`` runs on these pipes as on its own stdio transport: the handshake
(``initialize`` or ``server/discover``), listings, resources, prompts, notifications and
the server's own requests all pass through its session, parsed and framed by the SDK's
JSON-RPC models exactly as its transport does. A ``tools/call`` takes a shorter road: one
JSON-RPC line written straight to the server's standard input, with an id from a space
the session never uses (``agentos-gw-N``; the session counts integers), and its response
taken off the server's standard output by that id as the bytes arrive (:mod:`.lines`), before
the session's reader sees the line. The
request carries what the session would send: the name, the arguments and, on a
2026-07-28 connection, the ``_meta`` envelope the session stamps on its own requests
(copied from them, never invented). The response is checked as the session checks one:
the JSON-RPC envelope with the SDK's models, the result against the negotiated protocol
version's schema, fields of later revisions dropped. What this skips is the session's
per-request machinery (a model round trip of the request, memory-stream hops between
tasks, a per-line model parse of the whole response).

If the server exits, every call waiting on it fails at once and the owner is told (it
restarts the server); a reply that is not a JSON-RPC response fails its call.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from contextlib import asynccontextmanager
from functools import cache
from itertools import count
from typing import Any, AsyncIterator, Callable, Mapping, Sequence, cast

import anyio
import mcp_types as types
from mcp.client.stdio import get_default_environment
from mcp.os.posix.utilities import terminate_posix_process_tree
from mcp.shared.exceptions import MCPError
from mcp.shared.message import SessionMessage
from mcp_types import methods as surface
from mcp_types.version import KNOWN_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from opentelemetry.baggage import get_all as get_all_baggage
from opentelemetry.context import get_current as get_current_context
from opentelemetry.propagate import inject
from opentelemetry.trace import get_current_span
from pydantic import BaseModel, ValidationError

from agentos_contracts.gateway.lines import Lines
from agentos_contracts.gateway.shapes import compact_json, loads_line, plain_response, plain_tool_result

ID_PREFIX = "agentos-gw-"
ID_PREFIX_BYTES = ID_PREFIX.encode("ascii")
# the session's stamp on every request of a 2026-07-28 connection (what it adds, and nothing per-request)
ENVELOPE_KEYS = (types.PROTOCOL_VERSION_META_KEY, types.CLIENT_INFO_META_KEY, types.CLIENT_CAPABILITIES_META_KEY,
                 types.LOG_LEVEL_META_KEY)
LINE_LIMIT = 64 * 1024 * 1024
EXIT_GRACE_S = 2.0  # as the SDK: standard input closed, then this long to exit, then the process group is killed
KILL_GRACE_S = 2.0


class MalformedReply(Exception):
    """The upstream answered a direct request with something that is not a conforming JSON-RPC response."""


class StdioLink:
    """One upstream process and its pipes; :meth:`open` is the ``Transport`` the SDK's ``Client`` runs on."""

    def __init__(self, command: Sequence[str], *, on_closed: Callable[[], None]) -> None:
        self.command = tuple(command)
        self._on_closed = on_closed
        self._ids = count(1)
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._stdin: asyncio.StreamWriter | None = None
        self._closed = False
        self.envelope: dict[str, Any] | None = None  # the session's 2026-07-28 stamp, once it sent a request

    # --- the transport under the SDK's session -----------------------------------------------------

    @asynccontextmanager
    async def open(self) -> AsyncIterator[tuple[Any, Any]]:
        """Start the server and yield ``(read_stream, write_stream)`` for the SDK's session; stop it on exit."""
        try:
            errlog: Any = sys.stderr.fileno()
        except (AttributeError, OSError, ValueError):
            errlog = None
        loop = asyncio.get_running_loop()
        # asyncio.create_subprocess_exec, with replies to direct requests settled where the bytes arrive
        transport, protocol = await loop.subprocess_exec(
            lambda: _Settling(self._take, loop), *self.command, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=errlog, env=get_default_environment() | dict(os.environ),
            start_new_session=True)
        proc = asyncio.subprocess.Process(transport, protocol, loop)
        assert proc.stdin is not None and proc.stdout is not None
        self._stdin = proc.stdin
        to_session, session_reads = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        session_writes, from_session = anyio.create_memory_object_stream[SessionMessage](0)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._read, proc.stdout, to_session)
                tg.start_soon(self._write_session, from_session, to_session)
                try:
                    yield session_reads, session_writes
                finally:
                    with anyio.CancelScope(shield=True):
                        await self._stop(proc)
                    tg.cancel_scope.cancel()
        finally:
            self._fail_pending()
            for stream in (to_session, session_reads, session_writes, from_session):
                stream.close()

    async def _stop(self, proc: asyncio.subprocess.Process) -> None:
        """The SDK's shutdown order: close standard input, give the server time to exit, then kill its group."""
        assert proc.stdin is not None
        self._closed = True
        proc.stdin.close()
        with anyio.move_on_after(EXIT_GRACE_S):
            while proc.returncode is None:
                await anyio.sleep(0.01)
        if proc.returncode is None:
            await terminate_posix_process_tree(cast(Any, proc), KILL_GRACE_S)
            with anyio.move_on_after(KILL_GRACE_S):
                while proc.returncode is None:
                    await anyio.sleep(0.01)

    async def _write_session(self, from_session: Any, to_session: Any) -> None:
        """The session's messages, framed as the SDK's stdio transport frames them."""
        try:
            async for item in from_session:
                message = item.message
                if isinstance(message, types.JSONRPCRequest):
                    self._observe(message)
                self._send(_encode(message.model_dump_json(by_alias=True, exclude_unset=True)))
                await self._drain()
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError, MCPError):
            await to_session.aclose()  # the session sees the connection end instead of waiting forever

    def _observe(self, request: types.JSONRPCRequest) -> None:
        """Keep the stamp the session puts on its requests once the connection is negotiated."""
        if request.method in ("initialize", "server/discover") or not isinstance(request.params, dict):
            return
        meta = request.params.get("_meta")
        if isinstance(meta, dict) and types.PROTOCOL_VERSION_META_KEY in meta:
            self.envelope = {k: meta[k] for k in ENVELOPE_KEYS if k in meta}

    async def _read(self, stdout: asyncio.StreamReader, to_session: Any) -> None:
        """Every line the server writes: a reply to a direct request settles it; anything else goes to the session."""
        session_open = True
        try:
            while True:
                try:
                    raw = await stdout.readline()
                except (ValueError, OSError):  # a line over the limit, or the pipe broke: the connection is over
                    break
                if not raw.endswith(b"\n"):
                    break  # end of output (a last unterminated fragment is dropped, as the SDK does)
                line = raw[:-1].decode("utf-8")  # replies to direct requests never get here (_Settling)
                if session_open:
                    try:
                        await to_session.send(_parse_line(line))
                    except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                        session_open = False
        except UnicodeDecodeError:
            pass  # not UTF-8: the SDK's transport stops reading too
        finally:
            self._closed = True
            self._fail_pending()
            to_session.close()
            self._on_closed()

    def _take(self, raw: bytes) -> bool:
        """A line of the server's output, as it arrives: True when it answered a direct request."""
        if ID_PREFIX_BYTES not in raw:
            return False
        try:
            return self._settle(raw.decode("utf-8"))
        except UnicodeDecodeError:
            return False  # the reader meets it and stops, as the SDK's transport does
        except Exception:  # never raise into the pipe's callback: the line goes on to the session
            return False

    def _settle(self, line: str) -> bool:
        """True when ``line`` answers a direct request (which it then settles)."""
        try:
            message = loads_line(line)
        except ValueError:
            return False
        if not isinstance(message, dict) or "method" in message:
            return False
        rid = message.get("id")
        future = self._pending.get(rid) if isinstance(rid, str) else None
        if future is None or future.done():
            return rid is not None and isinstance(rid, str) and rid.startswith(ID_PREFIX)  # late: dropped
        result = plain_response(message)  # the SDK's models read it as this response (tests/gateway/test_shapes.py)
        if result is not None:
            future.set_result(result)
            return True
        try:
            parsed = types.jsonrpc_message_adapter.validate_python(message, by_name=False)
        except ValidationError as exc:
            future.set_exception(MalformedReply(f"the reply is not a JSON-RPC response ({_first_error(exc)})"))
            return True
        if isinstance(parsed, types.JSONRPCError):
            future.set_exception(MCPError.from_jsonrpc_error(parsed))
        elif isinstance(parsed, types.JSONRPCResponse):
            future.set_result(parsed.result)
        else:
            future.set_exception(MalformedReply("the reply is not a JSON-RPC response"))
        return True

    def _fail_pending(self) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(MCPError(code=types.CONNECTION_CLOSED, message="Connection closed"))

    # --- direct requests ---------------------------------------------------------------------------

    def _send(self, line: bytes) -> None:
        if self._closed or self._stdin is None or self._stdin.is_closing():
            raise MCPError(code=types.CONNECTION_CLOSED, message="Connection closed")
        self._stdin.write(line)

    async def _drain(self) -> None:
        assert self._stdin is not None
        try:
            await self._stdin.drain()
        except (ConnectionError, OSError):
            raise MCPError(code=types.CONNECTION_CLOSED, message="Connection closed") from None

    def ready(self, version: str | None) -> bool:
        """Whether a direct request can be framed as the session would frame it at ``version``."""
        if self._closed or version is None:
            return False
        if version not in MODERN_PROTOCOL_VERSIONS:
            return True
        return self.envelope is not None and self.envelope.get(types.PROTOCOL_VERSION_META_KEY) == version

    async def request(self, method: str, params: dict[str, Any], version: str, timeout_s: float) -> dict[str, Any]:
        """Send one request as the session would at ``version``; its raw result, checked as the session checks it.

        Raises ``MCPError`` (an error reply, or ``CONNECTION_CLOSED``), :class:`MalformedReply`,
        pydantic's ``ValidationError`` (a result that does not conform to ``version``), or
        ``TimeoutError`` after ``timeout_s`` (a timer on the loop: cheaper than a cancel scope per call)."""
        meta: dict[str, Any] = dict(self.envelope or {}) if version in MODERN_PROTOCOL_VERSIONS else {}
        _inject_trace_context(meta)
        if meta:
            params = {**params, "_meta": meta}
        rid = f"{ID_PREFIX}{next(self._ids)}"
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        timer = loop.call_later(timeout_s, _expire, future)
        self._pending[rid] = future
        try:
            self._send(_dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}))
            await self._drain()
            raw = await future
        except BaseException as exc:
            if isinstance(exc, TimeoutError) or future.cancelled() or not future.done():
                self._cancel(rid)  # abandoned: the courtesy cancel the SDK's session sends too
            raise
        finally:
            timer.cancel()
            self._pending.pop(rid, None)
        return checked_result(method, version, raw)

    def _cancel(self, rid: str) -> None:
        try:
            self._send(_dumps({"jsonrpc": "2.0", "method": "notifications/cancelled",
                               "params": {"requestId": rid, "reason": "the gateway stopped waiting"}}))
        except MCPError:
            pass


class _Settling(asyncio.subprocess.SubprocessStreamProtocol):
    """The server's process protocol (as ``create_subprocess_exec`` makes it) whose standard output first
    passes :class:`Lines`: a reply to a direct request settles its call without waking the reader task."""

    def __init__(self, take: Callable[[bytes], bool], loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(limit=LINE_LIMIT, loop=loop)
        self._lines = Lines(take, LINE_LIMIT)

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if fd == 1:
            data = self._lines.feed(data)
            if not data:
                return
        super().pipe_data_received(fd, data)

    def pipe_connection_lost(self, fd: int, exc: BaseException | None) -> None:
        if fd == 1:
            rest = self._lines.finish()
            if rest:
                super().pipe_data_received(fd, rest)
        super().pipe_connection_lost(fd, exc)


def _expire(future: asyncio.Future[dict[str, Any]]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


def checked_result(method: str, version: str, raw: dict[str, Any]) -> dict[str, Any]:
    """What the SDK's session returns for a raw result: validated against ``version``, fields that only later
    revisions define dropped."""
    ttl = raw.get("ttlMs")
    if isinstance(ttl, (int, float)) and not isinstance(ttl, bool) and ttl < 0:
        raw["ttlMs"] = 0
    if method != "tools/call" or plain_tool_result(version, raw) is None:  # a plain one is valid (shapes.py)
        try:
            surface.validate_server_result(method, version, raw)
        except KeyError:
            pass
    foreign = _later_revision_fields(method, version)
    if not foreign.isdisjoint(raw):
        raw = {k: v for k, v in raw.items() if k not in foreign}
    return raw


@cache
def _later_revision_fields(method: str, version: str) -> frozenset[str]:
    """Result keys a revision newer than ``version`` declares for ``method`` and ``version`` does not."""
    current = surface.SERVER_RESULTS.get((method, version))
    if current is None or version not in KNOWN_PROTOCOL_VERSIONS:
        return frozenset()
    later: set[str] = set()
    for revision in KNOWN_PROTOCOL_VERSIONS[KNOWN_PROTOCOL_VERSIONS.index(version) + 1:]:
        row = surface.SERVER_RESULTS.get((method, revision))
        if row is not None:
            later |= _wire_fields(row)
    return frozenset(later) - _wire_fields(current)


def _wire_fields(target: Any) -> frozenset[str]:
    members = getattr(target, "__args__", (target,))
    return frozenset(field.alias or name for m in members if isinstance(m, type) and issubclass(m, BaseModel)
                     for name, field in m.model_fields.items())


def _parse_line(line: str) -> SessionMessage | Exception:
    """One line for the session, parsed as the SDK's stdio transport parses it (errors are passed on as values)."""
    try:
        return SessionMessage(types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValueError as exc:
        return exc


def _dumps(message: Mapping[str, Any]) -> bytes:
    """One JSON-RPC line, compact as the SDK writes it."""
    return _encode(compact_json(message))


def _encode(text: str) -> bytes:
    """UTF-8 with the newline; a string holding a lone surrogate (JSON allows one as an escape, UTF-8 cannot
    carry it) is written with its non-ASCII characters escaped: the same JSON value, never a broken line."""
    try:
        return text.encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        return json.dumps(json.loads(text), separators=(",", ":")).encode("ascii") + b"\n"


def _first_error(exc: ValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "invalid"
    where = ".".join(str(p) for p in errors[0].get("loc", ()))
    return f"{where}: {errors[0].get('msg', 'invalid')}" if where else str(errors[0].get("msg", "invalid"))


def _inject_trace_context(meta: dict[str, Any]) -> None:
    """W3C trace context into ``_meta``, as the SDK's dispatcher does; without a current span or baggage
    there is nothing to carry, and asking the propagators to find that out costs more than the check
    (an empty OpenTelemetry context, the usual case, holds neither)."""
    if get_current_context() and (get_current_span().get_span_context().is_valid or get_all_baggage()):
        inject(meta)
