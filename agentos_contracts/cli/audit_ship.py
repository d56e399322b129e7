"""``agentos audit ship``: send a log's records as CloudEvents to a collector (HTTP) or Kafka, resumably."""

from __future__ import annotations

import signal
from typing import Any, Optional

import typer

from agentos_contracts.cli.audit_report import diag, emit
from agentos_contracts.cli.options import FORMAT, Format, guarded, start


def ship_command(
    log: str = typer.Argument(..., help="The audit log (SQLite) a runtime writes."),
    to: str = typer.Option(..., "--to", help="http://HOST:PORT/PATH (batched CloudEvents) or kafka://BROKERS/TOPIC.",
                           metavar="URL"),
    batch: int = typer.Option(500, "--batch", min=1, help="Records per delivery."),
    state: Optional[str] = typer.Option(None, "--state", help="The cursor file (default: LOG.ship).", metavar="FILE"),
    follow: bool = typer.Option(False, "--follow", help="Keep shipping as the log grows, until interrupted."),
    poll: float = typer.Option(0.2, "--poll", min=0.01, help="With --follow: seconds between looks at the log."),
    fmt: Optional[Format] = FORMAT,
) -> None:
    """Send the records after the cursor, in order, at least once; the receiver drops duplicates by event id."""
    guarded(lambda: _ship(log, to, batch, state, follow, poll, start(fmt)))


def register(app: typer.Typer) -> None:
    app.command("ship")(ship_command)


def _ship(log: str, to: str, batch: int, state: str | None, follow: bool, poll: float, fmt: Format) -> int:
    from pathlib import Path

    from agentos_contracts.fleet.ship import CursorError, ShipError, default_state, open_transport, ship
    from agentos_contracts.runtime.logstore import AuditError

    stopping: list[int] = []
    if follow:  # finish the batch in flight, save the cursor, report
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, _frame: stopping.append(signum))
    cursor_file = Path(state) if state else default_state(log)
    doc: dict[str, Any] = {"log": log, "to": to, "state": str(cursor_file)}
    try:
        transport = open_transport(to)
    except ShipError as exc:
        return emit(fmt, doc, [diag("AC866", "<command line>", str(exc))])
    try:
        report = ship(log, transport, state=cursor_file, batch=batch, follow=follow, stop=lambda: bool(stopping),
                      poll_s=poll)
    except CursorError as exc:
        return emit(fmt, doc, [diag("AC867", str(cursor_file), str(exc))])
    except ShipError as exc:
        return emit(fmt, doc, [diag("AC866", to, str(exc))])
    except AuditError as exc:
        return emit(fmt, doc, [diag("AC716", log, str(exc))])
    finally:
        transport.close()
    doc.update(report.to_json())
    text = (f"shipped {report.shipped} record(s) and {report.checkpoints} checkpoint(s) of `{report.agent}` "
            f"to {to}; cursor at record {report.cursor.seq}")
    return emit(fmt, doc, [], text)
