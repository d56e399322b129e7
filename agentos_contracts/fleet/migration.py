"""``agentos audit migrate-store``: rewrite a format-1 fleet store as format 2, in place, in one transaction.

Why explicit and not on open: readers open a store read-only and must never rewrite it,
and a collector starts unattended; an audit store changes format only when its owner
asks, with no collector running (the collector's lock is taken), as database servers ask
for an explicit upgrade of an old data folder. Why in place: the Merkle leaves, the record
bytes, the checkpoints and the signatures stay the same bytes, so every proof and every
signed checkpoint stays valid; only how rows are keyed changes.

The migration refuses a store whose records do not verify (a record that does not hash
to its stored hash or leaf): format 2 keeps no record hash, so migrating would drop the
very evidence ``agentos audit check`` reports. Before committing it compares every
migrated row with the original (event id, chain, position, leaf, record bytes) and the
Merkle root over all leaves; any difference rolls everything back.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentos_contracts.fleet import merkle
from agentos_contracts.fleet.collect import STORE_FILE
from agentos_contracts.fleet.layout import (CHAINS_2, FORMAT, FORMAT_1, LAYOUTS, LEAVES_2, POSITION_2, StoreError,
                                            event_id_of, event_key)
from agentos_contracts.fleet.proofs import leaf_findings
from agentos_contracts.runtime.locks import Locked, take_file_lock


class MigrationRefused(StoreError):
    """The store is readable but cannot be migrated as it is; the message says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Migration:
    """What a migration did: the formats before and after, and what was carried over."""

    store: str
    before: str
    after: str
    records: int
    chains: int
    root: bytes  # the Merkle root over every leaf, the same before and after

    @property
    def migrated(self) -> bool:
        return self.before != self.after

    def to_json(self) -> dict[str, Any]:
        return {"store": self.store, "format_before": self.before, "format": self.after, "migrated": self.migrated,
                "records": self.records, "chains": self.chains, "root_hash": merkle.b64(self.root)}


# every migrated row against the row it came from: any difference is counted
_DIFFERENCES = """
SELECT COUNT(*) FROM leaves o LEFT JOIN leaves_2 n ON n.idx = o.idx LEFT JOIN chains c ON c.id = n.chain
WHERE n.idx IS NULL OR o.event_id IS NOT agentos_event_id(n.event_key) OR o.log IS NOT c.log
   OR o.agent IS NOT c.agent OR o.seq IS NOT n.seq OR o.leaf IS NOT n.leaf OR o.body IS NOT n.body
"""


def migrate_store(directory: str | Path) -> Migration:
    """Bring the store in ``directory`` to the current format; a store already there is left as it is."""
    folder = Path(directory)
    if not (folder / STORE_FILE).is_file():
        raise StoreError(f"`{folder}` holds no fleet store ({STORE_FILE})")
    try:
        lock = take_file_lock(folder / STORE_FILE, "fleet store")
    except Locked as exc:
        raise StoreError(f"{exc}: stop the collector, then migrate") from None
    except OSError as exc:
        raise StoreError(f"cannot use `{folder}`: {exc.strerror or exc}") from None
    try:
        conn = sqlite3.connect(str(folder / STORE_FILE), isolation_level=None)
        try:
            return _migrate(conn, str(folder))
        except sqlite3.Error as exc:
            raise StoreError(f"`{folder}` could not be migrated (nothing was changed): {exc}") from None
        finally:
            conn.close()
    finally:
        lock.close()


def _migrate(conn: sqlite3.Connection, store: str) -> Migration:
    conn.execute("PRAGMA synchronous=FULL")
    conn.create_function("agentos_event_key", 1, event_key, deterministic=True)
    conn.create_function("agentos_event_id", 1, event_id_of, deterministic=True)
    conn.execute("BEGIN IMMEDIATE")
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        before = meta.get("format", "")
        if before not in LAYOUTS or "origin" not in meta:
            raise StoreError(f"`{store}` is not a fleet store of a known format ({', '.join(LAYOUTS)})")
        tree = merkle.StoreTree(conn, cached=False)
        size = tree.get_size()
        root = tree.get_root(size)
        if before == FORMAT:
            conn.execute("ROLLBACK")
            count = int(conn.execute("SELECT COUNT(*) FROM chains").fetchone()[0])
            return Migration(store=store, before=before, after=FORMAT, records=size, chains=count, root=root)
        assert before == FORMAT_1  # the only older format
        bad = [f.message for f in leaf_findings(conn, LAYOUTS[FORMAT_1])]
        if bad:
            raise MigrationRefused(f"`{store}` does not verify ({bad[0]}{'; ...' if len(bad) > 1 else ''}): "
                                   "format 2 keeps no record hash, so migrating would drop what `agentos audit "
                                   "check` reports; restore the store from a copy first")
        chains = _rewrite(conn)
        differences = int(conn.execute(_DIFFERENCES).fetchone()[0])
        _swap(conn)
        if differences or merkle.StoreTree(conn, cached=False).get_root(size) != root:
            raise StoreError(f"`{store}`: the migrated rows differ from the original ({differences}); "
                             "nothing was changed")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("VACUUM")  # give back the space of the format-1 rows
    return Migration(store=store, before=before, after=FORMAT, records=size, chains=chains, root=root)


def _rewrite(conn: sqlite3.Connection) -> int:
    """Format 2's tables beside format 1's: chain numbers in order of first leaf, then every leaf row."""
    conn.execute("ALTER TABLE chains RENAME TO heads")  # format 1's chain heads: the same columns as format 2's
    conn.execute(CHAINS_2)
    conn.execute("INSERT INTO chains (log, agent) SELECT log, agent FROM leaves GROUP BY log, agent "
                 "ORDER BY MIN(idx)")
    conn.execute(LEAVES_2.format(name="leaves_2"))
    conn.execute("INSERT INTO leaves_2 (idx, event_key, chain, seq, leaf, body) "
                 "SELECT l.idx, agentos_event_key(l.event_id), c.id, l.seq, l.leaf, l.body "
                 "FROM leaves l JOIN chains c ON c.log = l.log AND c.agent = l.agent ORDER BY l.idx")
    return int(conn.execute("SELECT COUNT(*) FROM chains").fetchone()[0])


def _swap(conn: sqlite3.Connection) -> None:
    """Format 1's leaf table out, format 2's in, and the store marked as format 2."""
    conn.execute("DROP INDEX IF EXISTS leaves_by_position")
    conn.execute("DROP TABLE leaves")
    conn.execute("ALTER TABLE leaves_2 RENAME TO leaves")
    conn.execute(POSITION_2)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'format'", (FORMAT,))
