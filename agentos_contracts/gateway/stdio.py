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
from typing import Any, AsyncIterator

from mcp.server.stdio import stdio_server


class _LineReader:
    """``async for line in reader`` over an asyncio stream (what ``stdio_server`` iterates)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def __aiter__(self) -> _LineReader:
        return self

    async def __anext__(self) -> str:
        line = await self._reader.readline()
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


class _LineWriter:
    """``write``/``flush`` over an asyncio pipe transport (what ``stdio_server`` awaits)."""

    def __init__(self, transport: asyncio.WriteTransport, protocol: Any) -> None:
        self._transport = transport
        self._writer = asyncio.StreamWriter(transport, protocol, None, asyncio.get_running_loop())

    async def write(self, text: str) -> None:
        self._transport.write(text.encode("utf-8"))

    async def flush(self) -> None:
        await self._writer.drain()


def _is_pipe(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)


@asynccontextmanager
async def pipe_stdio() -> AsyncIterator[tuple[Any, Any]]:
    """``(read_stream, write_stream)`` for ``Server.run``; the SDK's own transport when not on pipes."""
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
    reader = asyncio.StreamReader(limit=64 * 1024 * 1024)
    read_transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader),
                                                     os.fdopen(wire_in, "rb", buffering=0))
    write_transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin,
                                                              os.fdopen(wire_out, "wb", buffering=0))
    try:
        async with stdio_server(stdin=_LineReader(reader), stdout=_LineWriter(write_transport, protocol)) as streams:
            yield streams
    finally:
        read_transport.close()
        write_transport.close()
