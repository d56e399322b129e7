"""Reading stored audit logs: the SQLite database and its JSON Lines export.

Readers never take the writer lock, so `agentos audit verify` works while a runtime is
writing: a reader sees one snapshot of the log. Both forms become the same :class:`StoredLog`, which :mod:`chain` checks.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, TypeVar

from agentos_contracts.runtime import chain
from agentos_contracts.runtime.chain import Row
from agentos_contracts.seal.canonical import CanonicalError, canonicalize


_T = TypeVar("_T")


class AuditError(Exception):
    """The log cannot be opened, read or written; the message says why and is safe to show."""


def checkpoint_path(log: Path) -> Path:
    """Where the newest signed checkpoint is kept beside the log."""
    return log.with_name(log.name + ".checkpoint")


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredLog:
    """Everything a reader needs from a log file."""

    log_id: str
    rows: tuple[Row, ...]
    checkpoints: tuple[bytes, ...]
    retained_args: dict[int, bytes]


def read_log(path: str | Path) -> StoredLog:
    """Read a log (SQLite, or the JSON Lines export); raises AuditError when it is neither."""
    target = Path(path)
    try:
        with open(target, "rb") as fh:
            magic = fh.read(16)
    except OSError as exc:
        raise AuditError(f"cannot read `{target}`: {exc.strerror or exc}") from None
    if magic.startswith(b"SQLite format 3"):
        return _read_sqlite(target)
    return _read_jsonl(target)


def canonical_name(path: Path) -> Path:
    """The name the log's writers open it by, whatever name (hard link, symlink) was given.

    SQLite keeps a WAL database's newest commits in ``NAME-wal`` beside the name it was
    opened by, so two names of one file would each see their own recent commits, and a
    writer opening a second name after a crash (``kill -9``) would not see the first one's
    acknowledged records. The writer records its name in the ``meta`` table, copied into
    the database file itself at once; every opener that finds that name still naming the
    same file (device and inode) opens it by that name.
    """
    real = path.resolve()
    try:
        conn = sqlite3.connect(str(real), timeout=5)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'path'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return real
    named = Path(str(row[0])) if row else None
    if named is not None and named != real and is_same_file(named, real):
        return named
    return real


def is_same_file(a: Path, b: Path) -> bool:
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _read_sqlite(given: Path) -> StoredLog:
    """One consistent snapshot: the sidecar checkpoint first (the writer replaces it only after
    its commit, so it never attests more than the snapshot read next holds), then records and
    checkpoints in one read transaction, so a writer appending meanwhile cannot make the
    checkpoints attest records the snapshot does not have."""
    target = canonical_name(given)
    sidecar = checkpoint_path(target)
    try:
        side = (sidecar.read_bytes(),) if sidecar.exists() else ()
    except OSError:
        side = ()

    def read(conn: sqlite3.Connection) -> tuple[tuple[Row, ...], tuple[bytes, ...], dict[int, bytes]]:
        rows = _rows(conn.execute("SELECT seq, body, hash FROM records ORDER BY seq"))
        cps = tuple(_bytes(e) for (e,) in conn.execute("SELECT envelope FROM checkpoints ORDER BY seq"))
        kept = {s: _bytes(a) for s, a in conn.execute("SELECT seq, args FROM retained_args")}
        return rows, cps, kept

    meta, (rows, cps, kept) = _snapshot(target, given, read)
    return StoredLog(log_id=meta["log"], rows=rows, checkpoints=cps + side, retained_args=kept)


def _snapshot(target: Path, shown: Path, read: Callable[[sqlite3.Connection], _T]) -> tuple[dict[str, str], _T]:
    """The log's ``meta`` and what ``read`` takes from it, in one read-only transaction (one writer
    commit's state); any SQLite error, or a database that is not an audit log, is an AuditError."""
    try:
        conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True, isolation_level=None)
        try:
            conn.execute("BEGIN")
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            found = read(conn)
            conn.execute("COMMIT")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise AuditError(f"`{shown}` is not a readable audit log: {exc}") from None
    if meta.get("format") != chain.FORMAT or "log" not in meta:
        raise AuditError(f"`{shown}` is not an audit log of format {chain.FORMAT}")
    return meta, found


def _rows(cursor: Iterable[tuple[Any, Any, Any]]) -> tuple[Row, ...]:
    """Stored rows exactly as written (a position that is not an integer reads as none: a tamper)."""
    return tuple(Row(position=s if isinstance(s, int) else None, body=_bytes(b), hash=str(h)) for s, b, h in cursor)


def _bytes(value: object) -> bytes:
    """A stored value as bytes, whatever type an edit left in the column (a tamper must not crash us)."""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass")


def _read_jsonl(target: Path) -> StoredLog:
    """The export: a header line, one ``{"hash", "record"}`` line per record, then checkpoints."""
    rows: list[Row] = []
    cps: list[bytes] = []
    log_id: str | None = None
    try:
        lines = target.read_bytes().splitlines()
    except OSError as exc:
        raise AuditError(f"cannot read `{target}`: {exc.strerror or exc}") from None
    not_a_log = AuditError(f"`{target}` is neither an SQLite audit log nor its JSON Lines export")
    for line in lines:
        if not line.strip():
            continue
        try:
            doc: Any = json.loads(line)
        except ValueError:
            if log_id is None:
                raise not_a_log from None
            rows.append(Row(position=None, body=line, hash=""))
            continue
        if log_id is None:
            if not isinstance(doc, dict) or doc.get("format") != chain.FORMAT or not isinstance(doc.get("log"), str):
                raise not_a_log
            log_id = doc["log"]
        elif isinstance(doc, dict) and set(doc) == {"checkpoint"}:
            cps.append(_canonical_or_raw(doc["checkpoint"], line))
        elif isinstance(doc, dict) and isinstance(doc.get("record"), dict) and isinstance(doc.get("hash"), str):
            rows.append(Row(position=None, body=_canonical_or_raw(doc["record"], line), hash=doc["hash"]))
        else:
            rows.append(Row(position=None, body=line, hash=""))
    if log_id is None:
        raise not_a_log
    return StoredLog(log_id=log_id, rows=tuple(rows), checkpoints=tuple(cps), retained_args={})


def _canonical_or_raw(value: Any, line: bytes) -> bytes:
    try:
        return canonicalize(value)
    except CanonicalError:
        return line


def export_jsonl(path: str | Path, out: IO[str]) -> int:
    """Write the log as JSON Lines (header, records with their hashes, checkpoints); returns the record count.

    Retained arguments are never exported: the export is for sharing, arguments are not.
    """
    log = read_log(path)
    out.write(json.dumps({"format": chain.FORMAT, "log": log.log_id}, sort_keys=True) + "\n")
    for row in log.rows:
        try:
            record: Any = json.loads(row.body)
        except ValueError:
            record = row.body.decode("utf-8", "replace")
        out.write(json.dumps({"hash": row.hash, "record": record}, sort_keys=True, ensure_ascii=False) + "\n")
    for env in log.checkpoints:
        try:
            out.write(json.dumps({"checkpoint": json.loads(env)}, sort_keys=True) + "\n")
        except ValueError:
            continue
    return len(log.rows)


def iter_records(log: StoredLog) -> Iterator[dict[str, Any]]:
    """The records that parse, in storage order (verification says whether to trust them)."""
    for row in log.rows:
        try:
            record = json.loads(row.body)
        except ValueError:
            continue
        if isinstance(record, dict):
            yield record


@dataclass(frozen=True, slots=True, kw_only=True)
class LogSlice:
    """Part of a log read for shipping: rows after a position, and the checkpoints stored so far."""

    log_id: str
    meta: dict[str, str]
    first_record: bytes | None  # record 1, for fields that name the log's owner (agent, tenant)
    rows: tuple[Row, ...]
    checkpoints: tuple[tuple[int, bytes], ...]


def read_after(path: str | Path, after_seq: int, limit: int, *, after_checkpoint: int = 0) -> LogSlice:
    """Records with ``seq > after_seq`` (at most ``limit``) from an SQLite log, without the writer lock.

    Why not :func:`read_log`: a shipper following a growing log must not re-read it whole
    on every poll. Rows come in storage order with their stored hash, exactly as written
    (a tampered row is shipped as it is, so the receiver sees what verification would).
    """
    target = Path(path)

    def read(conn: sqlite3.Connection) -> tuple[Any, tuple[Row, ...], tuple[tuple[int, bytes], ...]]:
        first = conn.execute("SELECT body FROM records ORDER BY seq LIMIT 1").fetchone()
        rows = _rows(conn.execute("SELECT seq, body, hash FROM records WHERE seq > ? ORDER BY seq LIMIT ?",
                                  (after_seq, limit)))
        cps = tuple((int(s), _bytes(e)) for s, e in conn.execute(
            "SELECT seq, envelope FROM checkpoints WHERE seq > ? ORDER BY seq", (after_checkpoint,)))
        return first, rows, cps

    meta, (first, rows, cps) = _snapshot(target, target, read)
    return LogSlice(log_id=meta["log"], meta=meta, first_record=_bytes(first[0]) if first else None,
                    rows=rows, checkpoints=cps)
