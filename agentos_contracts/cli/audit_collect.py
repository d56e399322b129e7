"""``agentos audit collect``: receive shipped chains (HTTP or Kafka) into one signed Merkle log."""

from __future__ import annotations

import signal
import sys
from typing import Any, Optional

import typer

from agentos_contracts.cli.audit_report import KIND_CODES, diag, emit, key_or_diag
from agentos_contracts.cli.options import FORMAT, Format, guarded, start


def collect_command(
    listen: Optional[str] = typer.Option(None, "--listen", help="Serve the CloudEvents HTTP binding here.",
                                         metavar="HOST:PORT"),
    source: Optional[str] = typer.Option(None, "--from", help="Read a Kafka topic instead.",
                                         metavar="kafka://BROKERS/TOPIC"),
    store: str = typer.Option(..., "--store", help="The collector's folder (created if missing).", metavar="DIR"),
    key: str = typer.Option(..., "--key", help="Ed25519 private key that signs the checkpoints.", metavar="K"),
    runtime_pub: list[str] = typer.Option([], "--runtime-pub", metavar="KEY",
                                          help="Public key of a runtime's checkpoint key (repeatable): check them."),
    origin: Optional[str] = typer.Option(None, "--origin", help="The log's name in checkpoints (first run only)."),
    every: int = typer.Option(1000, "--checkpoint-every", min=1, help="Sign a checkpoint every N records..."),
    interval: float = typer.Option(1.0, "--checkpoint-interval", min=0.01, help="...or every T seconds."),
    batch: int = typer.Option(500, "--batch", min=1, help="Kafka: messages per store transaction."),
    group: str = typer.Option("agentos-collect", "--group", help="Kafka consumer group."),
    idle_exit: Optional[float] = typer.Option(None, "--exit-when-idle", metavar="SECONDS",
                                              help="Kafka: stop after this long without a message."),
    fmt: Optional[Format] = FORMAT,
) -> None:
    """Check each agent's chain, log every record once, sign checkpoints; runs until interrupted."""
    guarded(lambda: _collect(listen, source, store, key, runtime_pub, origin, every, interval, batch, group,
                             idle_exit, start(fmt)))


def register(app: typer.Typer) -> None:
    app.command("collect")(collect_command)


def _collect(listen: str | None, source: str | None, store: str, key_file: str, runtime_pubs: list[str],
             origin: str | None, every: int, interval: float, batch: int, group: str, idle_exit: float | None,
             fmt: Format) -> int:
    from urllib.parse import urlsplit

    from agentos_contracts.fleet.collect import Collector, OutdatedStore, StoreError

    diags: list[Any] = []
    doc: dict[str, Any] = {"store": store}
    if (listen is None) == (source is None):
        return emit(fmt, doc, [diag("AC901", "<command line>", "pass exactly one of `--listen` and `--from`",
                                    hint="`--listen 127.0.0.1:PORT` for HTTP, `--from kafka://BROKERS/TOPIC`")])
    key = key_or_diag(key_file, True, diags)
    runtime_keys = [key_or_diag(p, False, diags) for p in runtime_pubs]
    host, port, brokers, topic = "", 0, "", ""
    if listen is not None:
        host, _, port_text = listen.rpartition(":")
        if not host or not port_text.isdigit() or int(port_text) > 65535:
            diags.append(diag("AC877", "<command line>", f"`{listen}` is not HOST:PORT"))
        port = int(port_text) if port_text.isdigit() else 0
    else:
        parts = urlsplit(source or "")
        brokers, topic = parts.netloc, parts.path.strip("/")
        if parts.scheme != "kafka" or not brokers or not topic:
            diags.append(diag("AC877", "<command line>", f"`{source}` is not kafka://BROKERS/TOPIC"))
    if diags:
        return emit(fmt, doc, diags)
    try:
        collector = Collector.open(store, key, origin=origin, runtime_keys=runtime_keys, every=every,
                                   interval_s=interval)
    except OutdatedStore as exc:
        return emit(fmt, doc, [diag("AC878", store, str(exc))])
    except StoreError as exc:
        return emit(fmt, doc, [diag("AC868", store, str(exc))])
    taken = [0]
    try:
        if listen is not None:
            _serve(collector, host, port, taken, diags)
        else:
            taken[0] = _consume(collector, brokers, topic, group, batch, idle_exit, diags)
    except StoreError as exc:
        diags.append(diag("AC877", source or listen or "", str(exc)))
    finally:
        collector.close()
    return _report(store, taken[0], diags, fmt)


def _serve(collector: Any, host: str, port: int, taken: list[int], diags: list[Any]) -> None:
    from agentos_contracts.fleet.server import serve

    def counted(result: Any) -> None:
        taken[0] += result.accepted

    def ready(bound: int) -> None:
        sys.stderr.write(f"agentos: collecting on http://{host}:{bound}/\n")
        sys.stderr.flush()

    for sig in (signal.SIGTERM, signal.SIGINT):  # uvicorn re-raises the signal after its graceful shutdown
        signal.signal(sig, lambda _signum, _frame: None)
    try:
        serve(collector, host, port, on_batch=counted, on_ready=ready)
    except (OSError, SystemExit) as exc:  # uvicorn exits when it cannot bind
        diags.append(diag("AC877", f"{host}:{port}", f"cannot listen on {host}:{port}: {exc}"))


def _consume(collector: Any, brokers: str, topic: str, group: str, batch: int, idle_exit: float | None,
             diags: list[Any]) -> int:
    from agentos_contracts.fleet.kafka import consume_kafka

    stopping: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stopping.append(signum))
    return consume_kafka(collector, brokers, topic, group=group, batch=batch, stop=lambda: bool(stopping),
                         idle_exit_s=idle_exit)


def _report(store: str, taken: int, diags: list[Any], fmt: Format) -> int:
    from agentos_contracts.fleet.proofs import status

    summary = status(store)
    for p in summary["problems"]:
        diags.append(diag(KIND_CODES.get(p["kind"], "AC861"), store, p["message"],
                          path=f"/chains/{p['log']}/{p['seq'] if p['seq'] is not None else ''}"))
    latest = summary["latest"]["size"] if summary["latest"] else 0
    text = (f"collected {taken} new record(s); fleet log `{summary['origin']}` holds {summary['size']} from "
            f"{len(summary['chains'])} chain(s), signed through {latest}; {len(summary['problems'])} chain problem(s)")
    return emit(fmt, {"store": store, "collected": taken, **summary}, diags, text)
