"""The collector's HTTP face: CloudEvents HTTP binding (structured and batched mode) into the store.

Starlette and uvicorn live here only. Each POST is answered after its batch is committed
(200: acknowledged, the sender may move its cursor); a body that is not CloudEvents JSON
is refused (400/415) and nothing of it is kept. Requests are handled one at a time on
the event loop: the store has one writer, and a batch commit is short.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from agentos_contracts.fleet.collect import Collector, cycle_collection_paused
from agentos_contracts.fleet.events import BATCH, STRUCTURED, EventError, read_body

ACCEPTED_TYPES = (BATCH, STRUCTURED)


def build_app(collector: Collector, *, on_batch: Callable[[Any], None] | None = None,
              tick_s: float = 0.2) -> Starlette:
    """The ASGI app: ``POST /`` takes events, ``GET /checkpoint`` shows the newest signed checkpoint."""

    async def receive(request: Request) -> Response:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind not in ACCEPTED_TYPES:
            return JSONResponse({"error": f"send {BATCH} or {STRUCTURED}, not `{kind}`"}, status_code=415)
        body = await request.body()
        with cycle_collection_paused():
            try:
                docs = read_body(body)
            except EventError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            result = collector.accept(docs)
            del docs, body  # freed here, by reference counting, while the cyclic collector is off
        if on_batch is not None:
            on_batch(result)
        return JSONResponse(result.to_json())

    async def checkpoint(_request: Request) -> Response:
        row = collector.latest_checkpoint()
        return PlainTextResponse(row, status_code=200) if row else PlainTextResponse("", status_code=404)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async def ticker() -> None:  # checkpoints every T seconds even when no batch arrives
            while True:
                await asyncio.sleep(tick_s)
                collector.tick()

        task = asyncio.create_task(ticker())
        try:
            yield
        finally:
            task.cancel()

    return Starlette(routes=[Route("/", receive, methods=["POST"]), Route("/checkpoint", checkpoint)],
                     lifespan=lifespan)


def serve(collector: Collector, host: str, port: int, *, on_batch: Callable[[Any], None] | None = None,
          on_ready: Callable[[int], None] | None = None) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn's graceful shutdown); the caller closes the collector."""
    import uvicorn

    config = uvicorn.Config(build_app(collector, on_batch=on_batch), host=host, port=port, log_level="warning",
                            access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    if on_ready is not None:
        original = server.startup

        async def startup(sockets: Any = None) -> None:
            await original(sockets=sockets)
            bound = [s.getsockname()[1] for srv in server.servers for s in srv.sockets]
            on_ready(bound[0] if bound else port)

        server.startup = startup  # type: ignore[method-assign]
    server.run()

