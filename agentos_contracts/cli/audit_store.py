"""``agentos audit migrate-store``: bring a fleet store written by an older collector to the current format."""

from __future__ import annotations

from typing import Any, Optional

import typer

from agentos_contracts.cli.audit_report import diag, emit
from agentos_contracts.cli.options import FORMAT, Format, guarded, start


def migrate_store_command(
    store: str = typer.Option(..., "--store", help="The collector's folder.", metavar="DIR"),
    fmt: Optional[Format] = FORMAT,
) -> None:
    """Rewrite a fleet store in the current format, in place; proofs and signed checkpoints stay valid."""
    guarded(lambda: _migrate(store, start(fmt)))


def register(app: typer.Typer) -> None:
    app.command("migrate-store")(migrate_store_command)


def _migrate(store: str, fmt: Format) -> int:
    from agentos_contracts.fleet.layout import StoreError
    from agentos_contracts.fleet.migration import MigrationRefused, migrate_store

    doc: dict[str, Any] = {"store": store}
    try:
        done = migrate_store(store)
    except MigrationRefused as exc:
        return emit(fmt, doc, [diag("AC879", store, str(exc))])
    except StoreError as exc:
        return emit(fmt, doc, [diag("AC868", store, str(exc))])
    doc.update(done.to_json())
    text = (f"migrated `{store}` from {done.before} to {done.after}: {done.records} record(s), "
            f"{done.chains} chain(s), same Merkle root" if done.migrated
            else f"`{store}` is already of format {done.after}; nothing to do")
    return emit(fmt, doc, [], text)
