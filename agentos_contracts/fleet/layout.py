"""The fleet store's on-disk formats: what each table holds, and the queries readers need of each.

Why two formats: ``agentos-fleet/1`` repeated the chain's ``log`` and ``agent`` text, the
record hash and the event id as text in every leaf row; format 2 keeps a 16-byte event
key, an integer chain number and nothing that can be recomputed from the record bytes, so
each collected record costs fewer bytes to insert, index and fsync. The Merkle leaves, the
record bytes, the checkpoints and the proofs are the same bytes in both: a reader answers
alike from either format. New stores are format 2; ``agentos audit migrate-store``
rewrites a format-1 store (see :mod:`agentos_contracts.fleet.migration`).
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

from agentos_contracts.runtime.logstore import AuditError

FORMAT_1 = "agentos-fleet/1"
FORMAT_2 = "agentos-fleet/2"
FORMAT = FORMAT_2  # what a collector writes

class StoreError(AuditError):
    """The store cannot be opened or used; the message says why."""


class OutdatedStore(StoreError):
    """The store is of an older format: readers read it, a collector writes it only once migrated."""


_SHARED = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS problems (id INTEGER PRIMARY KEY, log TEXT NOT NULL, agent TEXT NOT NULL,
    seq INTEGER, kind TEXT NOT NULL, message TEXT NOT NULL, event_id TEXT);
CREATE TABLE IF NOT EXISTS runtime_checkpoints (event_id TEXT PRIMARY KEY, log TEXT NOT NULL, seq INTEGER NOT NULL,
    envelope BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subtrees (start INTEGER NOT NULL, width INTEGER NOT NULL, hash BLOB NOT NULL,
    PRIMARY KEY (start, width));
"""

# format 1, as collectors before format 2 wrote it (kept to build test fixtures and to read old stores)
SCHEMA_1 = _SHARED + """
CREATE TABLE IF NOT EXISTS leaves (idx INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, log TEXT NOT NULL,
    agent TEXT NOT NULL, seq INTEGER, hash TEXT NOT NULL, leaf BLOB NOT NULL, body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS leaves_by_position ON leaves (log, seq);
CREATE TABLE IF NOT EXISTS chains (log TEXT PRIMARY KEY, agent TEXT NOT NULL, last_seq INTEGER NOT NULL,
    last_hash TEXT NOT NULL, attested_seq INTEGER NOT NULL DEFAULT 0);
"""

# format 2: ``event_key`` has BLOB affinity, so SQLite stores each value as given (a 16-byte blob
# or a text) and never converts one into the other: the UNIQUE index compares event ids exactly
CHAINS_2 = "CREATE TABLE IF NOT EXISTS chains (id INTEGER PRIMARY KEY, log TEXT NOT NULL, agent TEXT NOT NULL, " \
           "UNIQUE (log, agent))"
LEAVES_2 = ("CREATE TABLE IF NOT EXISTS {name} (idx INTEGER PRIMARY KEY, event_key BLOB NOT NULL UNIQUE, "
            "chain INTEGER NOT NULL, seq INTEGER, leaf BLOB NOT NULL, body BLOB NOT NULL)")
POSITION_2 = "CREATE INDEX IF NOT EXISTS leaves_by_position ON leaves (chain, seq)"
HEADS_2 = ("CREATE TABLE IF NOT EXISTS heads (log TEXT PRIMARY KEY, agent TEXT NOT NULL, last_seq INTEGER NOT NULL, "
           "last_hash TEXT NOT NULL, attested_seq INTEGER NOT NULL DEFAULT 0)")
SCHEMA_2 = _SHARED + ";\n".join([CHAINS_2, LEAVES_2.format(name="leaves"), POSITION_2, HEADS_2]) + ";\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class Layout:
    """The queries a reader runs, spelled for one store format (same columns, same order, in both)."""

    format: str
    # idx, log, agent, seq, body, stored record hash (format 1) or NULL, leaf; bound to event_key(id) in format 2
    event: str
    # idx, stored record hash or NULL, leaf, body; in leaf order
    leaves: str
    # the event ids, in leaf order (an event key in format 2)
    event_ids: str
    # log, number of records
    counts: str
    # log, agent, last_seq, attested_seq
    heads: str
    # the leaf of the first record at (log, seq)
    position: str
    keyed: bool  # event ids are stored as event keys


LAYOUTS = {
    FORMAT_1: Layout(
        format=FORMAT_1,
        event="SELECT idx, log, agent, seq, body, hash, leaf FROM leaves WHERE event_id = ?",
        leaves="SELECT idx, hash, leaf, body FROM leaves ORDER BY idx",
        event_ids="SELECT event_id FROM leaves ORDER BY idx",
        counts="SELECT log, COUNT(*) FROM leaves GROUP BY log",
        heads="SELECT log, agent, last_seq, attested_seq FROM chains ORDER BY agent, log",
        position="SELECT leaf FROM leaves WHERE log = ? AND seq = ? ORDER BY idx LIMIT 1",
        keyed=False),
    FORMAT_2: Layout(
        format=FORMAT_2,
        event="SELECT l.idx, c.log, c.agent, l.seq, l.body, NULL, l.leaf FROM leaves l JOIN chains c "
              "ON c.id = l.chain WHERE l.event_key = ?",
        leaves="SELECT idx, NULL, leaf, body FROM leaves ORDER BY idx",
        event_ids="SELECT event_key FROM leaves ORDER BY idx",
        counts="SELECT c.log, COUNT(*) FROM leaves l JOIN chains c ON c.id = l.chain GROUP BY c.log",
        heads="SELECT log, agent, last_seq, attested_seq FROM heads ORDER BY agent, log",
        position="SELECT leaf FROM leaves WHERE chain IN (SELECT id FROM chains WHERE log = ?) AND seq = ? "
                 "ORDER BY idx LIMIT 1",
        keyed=True),
}


def event_key(event_id: str) -> bytearray | str:
    """How format 2 stores an event id: 32 lowercase hex digits as their 16 bytes, anything else as text.

    Exact both ways: only a text that is exactly the hex spelling of its bytes becomes a
    blob, and a blob and a text are never equal in SQLite, so two ids share a key only
    when they are the same id. A ``bytearray``: the ``sqlite3`` module binds it without the
    adapter look-up it makes for every ``bytes`` parameter.
    """
    if len(event_id) == 32:
        try:
            key = _fromhex(event_id)
        except ValueError:
            return event_id
        # 16 bytes from 32 characters: no whitespace; then only upper-case digits could differ from ``key.hex()``
        if len(key) == 16 and (event_id.islower() or event_id.isdigit()):
            return key
    return event_id


def event_id_of(key: object) -> str:
    """The event id an event key (or a format-1 event id) stands for."""
    if isinstance(key, (bytes, bytearray)):
        return key.hex()
    return str(key)


_fromhex = bytearray.fromhex


def writable_meta(conn: sqlite3.Connection, folder: Path, origin: str | None) -> dict[str, str]:
    """The store's meta, for a collector: a new store is made format 2, another format is refused untouched."""
    _refuse_other_format(conn, folder)  # before the schema below touches an older store
    conn.executescript(SCHEMA_2)
    return _ensure_meta(conn, origin)


def _ensure_meta(conn: sqlite3.Connection, origin: str | None) -> dict[str, str]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if not meta:
            meta = {"format": FORMAT, "origin": origin or f"agentos.local/fleet/{uuid.uuid4().hex[:12]}"}
            conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", sorted(meta.items()))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    if meta.get("format") != FORMAT:
        raise StoreError(f"unknown store format `{meta.get('format')}`")
    if origin is not None and origin != meta["origin"]:
        raise StoreError(f"the store's log is `{meta['origin']}`, not `{origin}`")
    return meta


def _refuse_other_format(conn: sqlite3.Connection, folder: Path) -> None:
    """A store of another format is refused before anything is written to it.

    Why not migrate it here: a collector starts unattended (a service, a container), and
    rewriting an audit store is a step its owner should take knowingly, once, with no
    collector running, as database servers ask for an explicit upgrade of an old data folder.
    """
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
    except sqlite3.OperationalError:  # no meta table: a new store
        return
    if row is None or row[0] == FORMAT:
        return
    if row[0] == FORMAT_1:
        raise OutdatedStore(f"`{folder}` is a fleet store of format {FORMAT_1}; this collector writes {FORMAT}: "
                            f"run `agentos audit migrate-store --store {folder}` once, with no collector running")
    raise StoreError(f"`{folder}` is a fleet store of unknown format `{row[0]}`")
