"""What the audit keeps of arguments: only sealed ``log_fields`` as values, and only for ``retention_days``.

The hash chain never holds argument values (only ``args_digest``); values are kept
beside it, opt-in (``retain_args``), for replay. The manifest's
``observability.log_fields`` says which argument fields may be kept as values: every
other field is kept as the digest of its canonical JSON, never the value. Retention is
enforced by :func:`prune_retained` (``agentos audit prune LOG --before DATE``), which
deletes kept values older than DATE and leaves every record and hash as it was, so
``audit verify`` passes afterwards.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from agentos_contracts.model.manifest import BindingManifest
from agentos_contracts.runtime.governed import section
from agentos_contracts.runtime.locks import Locked, take_file_lock
from agentos_contracts.runtime.logstore import AuditError
from agentos_contracts.seal.canonical import CanonicalError, canonical_digest


def log_fields(m: BindingManifest, step: str | None = None) -> frozenset[str] | None:
    """Argument names the audit may keep as values (``args.NAME`` or ``NAME``); None: not limited."""
    fields = section(m, "observability", step).get("logFields")
    if not isinstance(fields, list):
        return None
    return frozenset(f[5:] if f.startswith("args.") else f for f in fields if isinstance(f, str))


def retained_view(allowed: frozenset[str] | None, args: Any) -> Any:
    """The arguments as kept: fields outside ``allowed`` become ``{"sha256": digest}`` of their value."""
    if allowed is None or not isinstance(args, Mapping):
        return args
    out: dict[str, Any] = {}
    for key, value in args.items():
        if key in allowed:
            out[key] = value
            continue
        try:
            out[key] = {"sha256": canonical_digest({"v": value})}
        except (CanonicalError, TypeError, ValueError):
            out[key] = {"sha256": None}
    return out


def parse_before(text: str) -> datetime:
    """`2026-12-01` or an RFC 3339 instant (`2026-12-01T12:00:00Z`); a date means its start, UTC."""
    value = text.strip()
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"`{text}` is not a date (YYYY-MM-DD) or an RFC 3339 time") from None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def _occurred(body: bytes) -> datetime | None:
    try:
        text = json.loads(body).get("occurred_at")
        return parse_before(text[:26] + "Z" if isinstance(text, str) and len(text) > 27 else str(text))
    except (ValueError, AttributeError, TypeError):
        return None


def prune_retained(log: str | Path, before: datetime) -> tuple[int, int]:
    """Delete kept argument values of records that occurred before ``before``; (deleted, kept).

    Takes the log's writer lock (never while a runtime writes it). A record whose time
    cannot be read keeps its values (nothing is deleted on a guess).
    """
    path = Path(log)
    if not path.is_file():
        raise AuditError(f"`{log}` does not exist")
    try:
        lock = take_file_lock(path, "audit log")  # the lock the runtime's writer holds (runtime/audit.py)
    except Locked as exc:
        raise AuditError(str(exc)) from None
    try:
        conn = sqlite3.connect(str(path), isolation_level=None)
        try:
            rows = conn.execute("SELECT r.seq, r.body FROM retained_args a JOIN records r ON r.seq = a.seq").fetchall()
            old = [seq for seq, body in rows if (t := _occurred(bytes(body))) is not None and t < before]
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("DELETE FROM retained_args WHERE seq = ?", [(s,) for s in old])
            conn.execute("COMMIT")
            return len(old), len(rows) - len(old)
        except sqlite3.DatabaseError as exc:
            raise AuditError(f"`{log}` is not a usable audit log: {exc}") from None
        finally:
            conn.close()
    finally:
        lock.close()
