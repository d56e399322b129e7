"""The idempotency journal: which step ran on which inputs, and what it produced.

Keyed by (workflow, step id, digest of the step's inputs), written before and after
each step with ``synchronous=FULL``, so a run that is retried or restarted after a
crash finds completed steps and reuses their outputs instead of running them again.
A step that was *started* but never finished ran into the crash itself; it is run
again with the same idempotency key (``StepContext.idempotency_key``), which a step
with external effects passes on so the effect happens once.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable

from agentos_contracts.runtime.chain import format_time_ns
from agentos_contracts.runtime.locks import Locked, take_file_lock
from agentos_contracts.seal.canonical import canonicalize

_SCHEMA = """
CREATE TABLE IF NOT EXISTS steps (
  workflow TEXT NOT NULL, step TEXT NOT NULL, input_digest TEXT NOT NULL,
  status TEXT NOT NULL, attempts INTEGER NOT NULL, outputs BLOB, error TEXT, updated_at TEXT NOT NULL,
  PRIMARY KEY (workflow, step, input_digest)
);
"""

STATUSES = ("started", "completed", "failed", "compensated")


class JournalError(Exception):
    """The journal cannot be opened or written."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    status: str
    attempts: int
    outputs: dict[str, Any] | None
    error: str | None


class Journal:
    """The one writer of a journal file (a lock on the file itself keeps a second run out)."""

    def __init__(self, conn: sqlite3.Connection, lock: IO[bytes], clock: Callable[[], int]) -> None:
        self._conn = conn
        self._lock = lock
        self._clock = clock

    @classmethod
    def open(cls, path: str | Path, *, clock: Callable[[], int] = time.time_ns) -> Journal:
        target = Path(path)
        try:
            lock = take_file_lock(target, "journal")
        except Locked as exc:
            raise JournalError(str(exc)) from None
        try:
            conn = sqlite3.connect(str(target), isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            lock.close()
            raise JournalError(f"`{target}` is not a usable journal: {exc}") from None
        return cls(conn, lock, clock)

    def get(self, workflow: str, step: str, input_digest: str) -> Entry | None:
        row = self._conn.execute(
            "SELECT status, attempts, outputs, error FROM steps WHERE workflow=? AND step=? AND input_digest=?",
            (workflow, step, input_digest)).fetchone()
        if row is None:
            return None
        outputs = json.loads(row[2]) if row[2] is not None else None
        return Entry(status=row[0], attempts=row[1], outputs=outputs, error=row[3])

    def start(self, workflow: str, step: str, input_digest: str) -> int:
        """Mark a step started (before it runs); returns the attempt number."""
        now = format_time_ns(self._clock())
        self._conn.execute(
            "INSERT INTO steps (workflow, step, input_digest, status, attempts, updated_at) "
            "VALUES (?, ?, ?, 'started', 1, ?) ON CONFLICT (workflow, step, input_digest) "
            "DO UPDATE SET status='started', attempts=attempts+1, error=NULL, updated_at=excluded.updated_at",
            (workflow, step, input_digest, now))
        entry = self.get(workflow, step, input_digest)
        return entry.attempts if entry else 1

    def complete(self, workflow: str, step: str, input_digest: str, outputs: dict[str, Any]) -> None:
        self._set(workflow, step, input_digest, "completed", outputs=canonicalize(outputs))

    def fail(self, workflow: str, step: str, input_digest: str, error: str) -> None:
        self._set(workflow, step, input_digest, "failed", error=error)

    def compensated(self, workflow: str, step: str, input_digest: str) -> None:
        """After compensation the step's effects are undone: a later run may run it again."""
        self._set(workflow, step, input_digest, "compensated")

    def _set(self, workflow: str, step: str, input_digest: str, status: str, *,
             outputs: bytes | None = None, error: str | None = None) -> None:
        now = format_time_ns(self._clock())
        self._conn.execute(
            "UPDATE steps SET status=?, outputs=COALESCE(?, outputs), error=?, updated_at=? "
            "WHERE workflow=? AND step=? AND input_digest=?",
            (status, outputs, error, now, workflow, step, input_digest))

    def close(self) -> None:
        try:
            self._conn.close()
        finally:
            self._lock.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
