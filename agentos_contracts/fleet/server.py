"""The collector's HTTP face: CloudEvents HTTP binding (structured and batched mode) into the store.

Starlette and uvicorn live here only. Each POST is answered after its batch is committed
(200: acknowledged, the sender may move its cursor); a body that is not CloudEvents JSON
is refused (400/415) and nothing of it is kept. Bodies are parsed on the event loop;
the store is written by one worker thread at a time, so deliveries that arrive while a
commit is being fsynced wait and are then committed together (group commit): one
transaction and one fsync for all of them, each answered with its own result.
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

    writer = asyncio.Lock()  # the store's one writer (and the collector's state) is used under this
    waiting: list[tuple[Any, asyncio.Future[Any]]] = []

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
        del body
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        waiting.append((docs, answer))
        del docs
        async with writer:  # whoever holds the writer commits everything waiting, this delivery included
            if not answer.done():
                group, waiting[:] = waiting[:], []
                work = asyncio.ensure_future(asyncio.to_thread(_accept_group, [d for d, _ in group]))
                try:
                    await _until_done(work)
                finally:
                    _settle(group, work)
        return JSONResponse((await answer).to_json())

    def _accept_group(deliveries: list[Any]) -> list[Any]:
        """Each delivery's result, or the exception that stopped it: a group that fails is retried one by one."""
        with cycle_collection_paused():  # parsed JSON holds no cycles: refcounting frees it after the commit
            try:
                return list(collector.accept_many(deliveries))
            except Exception:
                if len(deliveries) == 1:
                    raise
            outcomes: list[Any] = []
            for docs in deliveries:  # so that one delivery that cannot be stored fails alone
                try:
                    outcomes.append(collector.accept(docs))
                except Exception as exc:
                    outcomes.append(exc)
            return outcomes

    def _settle(group: list[tuple[Any, asyncio.Future[Any]]], work: asyncio.Future[Any]) -> None:
        """Answer every delivery of a group: its own result, or the group's failure (none acknowledged)."""
        failure = None if not work.done() or work.cancelled() else work.exception()
        for i, (_, answer) in enumerate(group):
            if answer.done():
                continue
            if not work.done() or work.cancelled():
                answer.cancel()
            elif failure is not None:
                answer.set_exception(failure)
            elif isinstance(work.result()[i], Exception):
                answer.set_exception(work.result()[i])
            else:
                answer.set_result(work.result()[i])
                if on_batch is not None:
                    on_batch(work.result()[i])

    async def checkpoint(_request: Request) -> Response:
        async with writer:
            row = collector.latest_checkpoint()
        return PlainTextResponse(row, status_code=200) if row else PlainTextResponse("", status_code=404)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async def ticker() -> None:  # checkpoints every T seconds even when no batch arrives
            while True:
                await asyncio.sleep(tick_s)
                async with writer:
                    await _until_done(asyncio.ensure_future(asyncio.to_thread(collector.tick)))

        task = asyncio.create_task(ticker())
        try:
            yield
        finally:
            task.cancel()

    return Starlette(routes=[Route("/", receive, methods=["POST"]), Route("/checkpoint", checkpoint)],
                     lifespan=lifespan)


async def _until_done(work: asyncio.Future[Any]) -> None:
    """Wait for a store write in the worker thread; if cancelled, still let it finish before going on.

    Why: the writer lock must not be let go while the thread still uses the store (a
    shutdown cancels the tasks; the collector is closed right after).
    """
    try:
        await asyncio.shield(work)
    finally:
        if not work.done():
            await asyncio.wait([work])


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

