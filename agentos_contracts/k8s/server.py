"""``agentos webhook serve``: the admission webhook over HTTPS (starlette + uvicorn live only here).

Routes: ``POST /validate`` (AdmissionReview v1), ``GET /healthz`` (the process answers),
``GET /readyz`` (platform loaded, store usable, certificate loaded). Decisions run in
worker threads so the event loop keeps answering probes; each review has a deadline, and
a review still running at its deadline is denied ("admission timed out") and abandoned.

Certificates rotate without a restart: every TLS handshake stats the certificate and key
files (the server-name callback runs for every ClientHello, with or without SNI) and,
when either changed, loads them into a fresh ``SSLContext`` that serves this and later
connections. A half-written pair (certificate renewed, key not yet) fails to load and the
previous pair keeps serving until the files change again.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from agentos_contracts.k8s.admission import Reviewer, Ticket, internal_error, subject, timed_out
from agentos_contracts.k8s.webhook import BadReview, error_body, parse_review, respond

WORKERS = 4


def _signature(*paths: str) -> tuple[tuple[int, int, int], ...]:
    out = []
    for p in paths:
        try:
            st = os.stat(p)
            out.append((st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            out.append((0, 0, 0))
    return tuple(out)


class CertificateReloader:
    """Serves the newest loadable certificate/key pair; ``context`` is what the listener uses."""

    def __init__(self, cert: str, key: str) -> None:
        self.cert, self.key = cert, key
        self._lock = threading.Lock()
        self._seen = _signature(cert, key)
        self.current = self._load()  # raises ssl.SSLError / OSError: a server never starts without TLS
        self.context = self._load()
        self.context.sni_callback = self._on_hello
        self.reloads = 0

    def _load(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.cert, self.key)
        return ctx

    def refresh(self) -> None:
        """Load the files again when they changed since the last attempt."""
        sig = _signature(self.cert, self.key)
        if sig == self._seen:
            return
        with self._lock:
            if sig == self._seen:
                return
            self._seen = sig
            try:
                self.current = self._load()
                self.reloads += 1
            except (ssl.SSLError, OSError) as exc:
                print(f"agentos webhook: keeping the previous certificate: {exc}", file=sys.stderr)

    def _on_hello(self, sock: Any, server_name: str | None, context: ssl.SSLContext) -> None:
        self.refresh()
        sock.context = self.current
        return None


def build_app(reviewer: Reviewer, reloader: CertificateReloader | None = None) -> Starlette:
    """The ASGI app; ``reloader`` is reported by ``/readyz``."""
    pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="agentos-review")
    budget_s = reviewer.settings.budget_ms / 1000

    async def validate(request: Request) -> JSONResponse:
        started = time.monotonic()
        body = await request.body()
        try:
            review = parse_review(body)
        except BadReview as exc:
            return JSONResponse(error_body(str(exc)), status_code=400)
        deadline = started + budget_s
        ticket = Ticket()
        future = asyncio.get_running_loop().run_in_executor(pool, reviewer.decide, review, deadline, ticket)
        try:
            verdict = await asyncio.wait_for(asyncio.shield(future), max(deadline - time.monotonic(), 0.0))
        except asyncio.TimeoutError:
            verdict = timed_out(reviewer.settings.budget_ms) if ticket.abandon() else await future
        except Exception as exc:  # noqa: BLE001 - the pool itself failed: deny, never a traceback
            ticket.abandon()
            verdict = internal_error(exc)
        return JSONResponse(respond(review, verdict, subject(review)))

    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def readyz(request: Request) -> JSONResponse:
        problems = []
        if not os.path.isfile(reviewer.settings.platform):
            problems.append(f"platform `{reviewer.settings.platform}` is gone")
        if reviewer.store is not None and not os.access(reviewer.store.folder, os.W_OK):
            problems.append(f"reservation folder `{reviewer.store.folder}` is not writable")
        body = {"ready": not problems, "problems": problems,
                "reservations": reviewer.store.count() if reviewer.store is not None and not problems else 0,
                "certificate_reloads": reloader.reloads if reloader is not None else 0}
        return JSONResponse(body, status_code=200 if not problems else 503)

    return Starlette(routes=[Route("/validate", validate, methods=["POST"]),
                             Route("/healthz", healthz, methods=["GET"]),
                             Route("/readyz", readyz, methods=["GET"])])


def make_server(reviewer: Reviewer, reloader: CertificateReloader, host: str, port: int) -> Any:
    """A uvicorn server (not yet started) that serves the app with the reloading TLS context."""
    import uvicorn

    config = uvicorn.Config(build_app(reviewer, reloader), host=host, port=port, log_level="warning",
                            lifespan="off", access_log=False)
    config.load()
    config.ssl = reloader.context  # ours, not uvicorn's: it swaps certificates per handshake
    return uvicorn.Server(config)


def serve(reviewer: Reviewer, reloader: CertificateReloader, host: str, port: int) -> None:
    """Serve until interrupted (SIGINT/SIGTERM end it gracefully)."""
    make_server(reviewer, reloader, host, port).run()
