"""The downstream stdio channel without worker threads: the client's pipes read and written by the event loop.

The SDK's ``stdio_server`` reads standard input and writes standard output through
``anyio.wrap_file``, a worker-thread hop per line each way; on a busy machine those hops
cost more than everything the gateway decides. When standard input and output are pipes
(as when an MCP client starts the gateway) they are served here by asyncio pipe
transports instead, through the same ``stdio_server`` (it accepts the streams), so the
framing and message parsing stay the SDK's. As the SDK does, the real descriptors are
moved aside while serving: stray output lands on standard error, never on the wire.
"""

from __future__ import annotations

import asyncio
import os
import stat
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable

from mcp.server.stdio import stdio_server

from agentos_contracts.gateway.fastpath import FastPath
from agentos_contracts.gateway.lines import Lines

LINE_LIMIT = 64 * 1024 * 1024


class _LineReader:
    """``async for line in reader`` over an asyncio stream (what ``stdio_server`` iterates): the lines the
    fast path did not take as they arrived (:class:`_Taking`)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def __aiter__(self) -> _LineReader:
        return self

    async def __anext__(self) -> str:
        line = await self._reader.readline()
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


class _Taking(asyncio.StreamReaderProtocol):
    """The client's pipe: each complete line is offered to the fast path where it arrives (no reader task
    wakes for a line it answers); the others go on to the stream the SDK's transport reads, in order."""

    def __init__(self, reader: asyncio.StreamReader, fast: FastPath | None) -> None:
        super().__init__(reader)
        self._stream = reader
        self._fast = fast
        self._lines = Lines(self._take, LINE_LIMIT) if fast is not None else None

    def _take(self, raw: bytes) -> bool:
        assert self._fast is not None
        try:
            return self._fast.take(raw.decode("utf-8", errors="replace"))
        except Exception:  # never lose a line: the SDK's loop answers whatever the fast path could not
            return False

    def data_received(self, data: bytes) -> None:
        if self._lines is not None:
            data = self._lines.feed(data)
        if data:
            super().data_received(data)

    def eof_received(self) -> bool | None:
        rest = self._lines.finish() if self._lines is not None else b""
        if rest:
            super().data_received(rest)
        return super().eof_received()


class _LineWriter:
    """``write``/``flush`` over an asyncio pipe transport (what ``stdio_server`` awaits)."""

    def __init__(self, transport: asyncio.WriteTransport, protocol: Any, fast: FastPath | None) -> None:
        self._transport = transport
        self._fast = fast
        self._writer = asyncio.StreamWriter(transport, protocol, None, asyncio.get_running_loop())

    async def write(self, text: str) -> None:
        if self._fast is not None:
            self._fast.outbound(text)
        self._transport.write(text.encode("utf-8"))

    async def flush(self) -> None:
        await self._writer.drain()


def _is_pipe(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)


DRAIN_S = 2.0
PRUNE_AT = 64
FastPathFactory = Callable[[Callable[[str], None], Callable[..., None]], FastPath]


class _Answers:
    """The fast path's calls in flight, as plain asyncio tasks (starting an anyio task per call costs more
    than the call's decision); when the client leaves they get ``DRAIN_S`` to answer, then are cancelled."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._prune_at = PRUNE_AT

    def spawn(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        # finished tasks are dropped in bulk now and then: a done-callback per task would cost the loop one
        # more turn per call, a wrapper coroutine a frame resumed at every step
        if len(self._tasks) >= self._prune_at:  # amortised: the next pruning waits until the set has doubled
            self._tasks = {task for task in self._tasks if not task.done()}
            self._prune_at = 2 * len(self._tasks) + PRUNE_AT
        self._tasks.add(asyncio.get_running_loop().create_task(fn(*args)))  # type: ignore[arg-type]

    async def drain(self, timeout_s: float) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_s)
        self.cancel()

    def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()


@asynccontextmanager
async def pipe_stdio(fast_path: FastPathFactory | None = None) -> AsyncIterator[tuple[Any, Any]]:
    """``(read_stream, write_stream)`` for ``Server.run``; the SDK's own transport when not on pipes.

    ``fast_path(send, spawn)`` builds the :class:`FastPath` that answers plain tool calls itself."""
    if not (_is_pipe(0) and _is_pipe(1)):
        async with stdio_server() as streams:
            yield streams
        return
    loop = asyncio.get_running_loop()
    wire_in, wire_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)  # stray prints go to standard error
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    write_transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin,
                                                              os.fdopen(wire_out, "wb", buffering=0))

    def send(text: str) -> None:
        if not write_transport.is_closing():
            write_transport.write(text.encode("utf-8"))

    answers = _Answers()
    fast = fast_path(send, answers.spawn) if fast_path is not None else None
    read_transport: asyncio.BaseTransport | None = None
    try:
        read_transport, _ = await loop.connect_read_pipe(lambda: _Taking(reader, fast),
                                                         os.fdopen(wire_in, "rb", buffering=0))
        async with stdio_server(stdin=_LineReader(reader),
                                stdout=_LineWriter(write_transport, protocol, fast)) as streams:
            yield streams
        await answers.drain(DRAIN_S)  # calls in flight may still answer
    finally:
        answers.cancel()
        if read_transport is not None:
            read_transport.close()
        write_transport.close()
