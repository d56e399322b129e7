"""The collector: every agent's chain checked link by link, every record once in one Merkle log.

Why here and not at the edge: a receiver that re-checks each chain catches what a
compromised or buggy shipper would hide. Each batch (or group of batches committed
together) is one SQLite transaction that appends the new leaves, updates each chain's
head, stores any break found and, every N records or T seconds, a signed checkpoint over
the new tree; a ``kill -9`` leaves either all of a batch or none, and the sender
(at-least-once) re-delivers what was not acknowledged.
Duplicates are dropped by event id. A gap or a fork is stored and reported, never bridged:
the chain continues from what arrived, and the break stays on record.
"""

from __future__ import annotations

import contextlib
import gc
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Sequence

from agentos_contracts.fleet import merkle
from agentos_contracts.fleet.events import EventError, Received, ReceivedCheckpoint, read_event
from agentos_contracts.fleet.layout import (FORMAT, LAYOUTS, OutdatedStore, StoreError, event_id_of, event_key,
                                            writable_meta)
from agentos_contracts.runtime.audit import read_checkpoint
from agentos_contracts.runtime.chain import genesis
from agentos_contracts.runtime.locks import Locked, take_file_lock
from agentos_contracts.seal import keys as keys_

STORE_FILE = "fleet.db"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainProblem:
    """A break in one agent's chain, as stored: where, which kind, in words."""

    log: str
    agent: str
    seq: int | None
    kind: str  # gap | fork | modified | conflict | checkpoint | rejected
    message: str
    event_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"log": self.log, "agent": self.agent, "seq": self.seq, "kind": self.kind,
                "message": self.message, "event_id": self.event_id}


@dataclass(slots=True)
class _Chain:
    agent: str
    last_seq: int
    last_hash: str
    attested_seq: int = 0
    chain_id: int = 0  # the leaf rows' chain number of (log, ``agent``); 0 until known


@dataclass(slots=True, kw_only=True)
class BatchResult:
    """What one delivery did: new records, duplicates dropped, breaks found, checkpoint signed."""

    accepted: int = 0
    duplicates: int = 0
    problems: list[ChainProblem] = field(default_factory=list)
    checkpoint: merkle.Checkpoint | None = None

    def to_json(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates,
                "problems": [p.to_json() for p in self.problems],
                "checkpoint": self.checkpoint.size if self.checkpoint else None}


class Collector:
    """The one writer of a fleet store; :meth:`open`, then :meth:`accept` batches, then :meth:`close`."""

    def __init__(self, conn: sqlite3.Connection, lock: IO[bytes], *, key: keys_.PrivateKey, origin: str,
                 runtime_keys: Sequence[keys_.PublicKey], every: int, interval_s: float,
                 clock: Callable[[], float]) -> None:
        self._conn = conn
        self._lock = lock
        self._key = key
        self.origin = origin
        self._runtime_keys = list(runtime_keys)
        self._every = max(1, every)
        self._interval_s = interval_s
        self._clock = clock
        self.tree = merkle.StoreTree(conn, keep=True)
        self._dirty: set[str] = set()  # chains whose head moved in the open batch
        self._chains: dict[str, _Chain] = {}  # head of each log's chain
        self._chain_ids: dict[tuple[str, str], int] = {}  # (log, agent) -> the leaf rows' chain number
        self._load()
        self._last_checkpoint_at = clock()

    @classmethod
    def open(cls, directory: str | Path, key: keys_.PrivateKey, *, origin: str | None = None,
             runtime_keys: Sequence[keys_.PublicKey] = (), every: int = 1000, interval_s: float = 1.0,
             clock: Callable[[], float] = time.monotonic) -> Collector:
        """Open (or create) the store in ``directory``; raises StoreError if another collector has it."""
        folder = Path(directory)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            lock = take_file_lock(folder / STORE_FILE, "fleet store")
        except Locked as exc:
            raise StoreError(str(exc)) from None
        except OSError as exc:
            raise StoreError(f"cannot use `{folder}`: {exc.strerror or exc}") from None
        try:
            conn = sqlite3.connect(str(folder / STORE_FILE), isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            meta = writable_meta(conn, folder, origin)
        except OutdatedStore:
            lock.close()
            raise
        except (sqlite3.Error, StoreError) as exc:
            lock.close()
            raise StoreError(f"`{folder}` is not a usable fleet store: {exc}") from None
        return cls(conn, lock, key=key, origin=meta["origin"], runtime_keys=runtime_keys, every=every,
                   interval_s=interval_s, clock=clock)

    # --- receiving -------------------------------------------------------------------------------

    def accept(self, docs: Sequence[Any]) -> BatchResult:
        """Take one delivery (parsed JSON events) in one transaction; acknowledged when this returns."""
        return self.accept_many([docs])[0]

    def accept_many(self, deliveries: Sequence[Sequence[Any]]) -> list[BatchResult]:
        """Take several deliveries in one transaction (group commit), each with its own result.

        Why: a server with several senders commits what arrived while the last commit was
        being fsynced in one go: one fsync, and the event-id index pages written once, for
        them all. Nothing is acknowledged before the commit, so a ``kill -9`` keeps all of
        them or none, as for one delivery.

        Event ids are first taken to be new (the usual case) and the leaf table's unique
        index on them is the check: a group that meets a known id is rolled back and stored
        again after looking its ids up, so duplicates and conflicts are found as before,
        and deliveries of only new records cost no look-up of their own.
        """
        parsed = [_read(docs) for docs in deliveries]
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            try:
                results = [self._store(events, signed, rejected, {}) for events, signed, rejected in parsed]
            except sqlite3.IntegrityError:  # a known event id: look them up and store the deliveries again
                self._rollback()
                self._conn.execute("BEGIN IMMEDIATE")
                results = [self._store(events, signed, rejected, self._known([e.event_id for e in events]))
                           for events, signed, rejected in parsed]
            self._save_chains()
            checkpoint = self._maybe_checkpoint(force=False)
            self._conn.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise
        for result in results:
            result.checkpoint = checkpoint
        return results

    def _store(self, events: list[Received], signed: list[ReceivedCheckpoint], rejected: list[ChainProblem],
               fresh: dict[str, bytes]) -> BatchResult:
        """One batch's writes, in the open transaction; ``fresh`` maps event ids known so far to their leaves."""
        result = BatchResult()
        for problem in rejected:
            self._problem(result, problem)
        rows: list[tuple[Any, ...]] = []
        chains, chain_ids, dirty, size = self._chains, self._chain_ids, self._dirty, self.size
        for event in events:
            event_id, log_id, agent, seq, prev, body, digest, claimed, leaf = event
            known = fresh.get(event_id)
            if known is not None:
                if known == leaf:
                    result.duplicates += 1
                else:
                    self._problem(result, _problem(event, "conflict", f"event id `{event_id}` was "
                                                   "received before with a different record (conflict)"))
                continue
            chain = chains.get(log_id)
            # the common case, checked here in full: the next record, linked, hashing as its log stored
            if (chain is not None and seq is not None and seq == chain.last_seq + 1 and prev == chain.last_hash
                    and digest == claimed and agent == chain.agent and chain.chain_id):
                chain.last_seq, chain.last_hash = seq, claimed
                dirty.add(log_id)
                chain_id = chain.chain_id
            else:
                self._link(event, result)
                chain_id = chain_ids.get((log_id, agent)) or self._new_chain_id(log_id, agent)
                chain = chains.get(log_id)
                if chain is not None and chain.agent == agent:
                    chain.chain_id = chain_id
            fresh[event_id] = leaf
            size += 1
            # bytearray: the sqlite3 module binds it without the adapter look-up it makes for bytes
            rows.append((size, event_key(event_id), chain_id, seq, _blob(leaf), _blob(body)))
        self.size = size
        self._conn.executemany("INSERT INTO leaves (idx, event_key, chain, seq, leaf, body) VALUES (?, ?, ?, ?, ?, ?)",
                               rows)
        result.accepted = len(rows)
        for cp in signed:
            self._take_checkpoint(cp, result)
        return result

    def latest_checkpoint(self) -> str | None:
        """The newest signed checkpoint note, as stored."""
        row = self._conn.execute("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1").fetchone()
        return str(row[0]) if row else None

    def tick(self, *, force: bool = False) -> merkle.Checkpoint | None:
        """Sign a checkpoint when the tree grew and the interval passed (or ``force``)."""
        if self.size == self.checkpointed:
            return None
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            cp = self._maybe_checkpoint(force=force)
            self._conn.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise
        return cp

    def close(self) -> None:
        """Sign a last checkpoint over everything received, then release the store."""
        try:
            self.tick(force=True)
        finally:
            self._conn.close()
            self._lock.close()

    def __enter__(self) -> Collector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- chain continuity ------------------------------------------------------------------------

    def _link(self, event: Received, result: BatchResult) -> None:
        """Check ``event`` against its chain's head; record any break; move the head forward."""
        chain = self._chains.get(event.log_id)
        if event.hash != event.claimed_hash:
            self._problem(result, _problem(event, "modified", f"record {event.seq} of `{event.agent}` does not "
                                           "hash to the hash its log stored (modified)"))
        if event.seq is None:
            self._problem(result, _problem(event, "modified", f"a record of `{event.agent}` is not readable "
                                           "(no sequence number)"))
            return
        last = chain.last_seq if chain else 0
        if event.seq == last + 1:
            expected_prev = chain.last_hash if chain else genesis(event.log_id)
            if event.prev != expected_prev:
                self._problem(result, _problem(event, "fork", f"record {event.seq} of `{event.agent}` does not link "
                                               f"to record {last} received before (fork: a record was altered or "
                                               "replaced)"))
        elif event.seq > last + 1:
            gap = f"{last + 1}" if event.seq == last + 2 else f"{last + 1}..{event.seq - 1}"
            self._problem(result, _problem(event, "gap", f"record(s) {gap} of `{event.agent}` never arrived before "
                                           f"record {event.seq} (gap)"))
        elif self._conn.execute(_LAYOUT.position, (event.log_id, event.seq)).fetchone():
            self._problem(result, _problem(event, "fork", f"two different records of `{event.agent}` claim position "
                                           f"{event.seq} (fork)"))
        if event.seq > last:
            # link on from what the sender's log stored: one edit is one report, not one per later record
            if chain is None:
                self._chains[event.log_id] = _Chain(event.agent, event.seq, event.claimed_hash)
            else:  # moved in place (a rollback reloads every head from the store)
                chain.agent, chain.last_seq, chain.last_hash = event.agent, event.seq, event.claimed_hash
        self._dirty.add(event.log_id)

    def _take_checkpoint(self, event: ReceivedCheckpoint, result: BatchResult) -> None:
        """Store a runtime checkpoint; with the runtime's key, check it against the records received."""
        inserted = self._conn.execute("INSERT OR IGNORE INTO runtime_checkpoints (event_id, log, seq, envelope) "
                                      "VALUES (?, ?, ?, ?)", (event.event_id, event.log_id, event.seq, event.envelope))
        if not inserted.rowcount or not self._runtime_keys:
            return
        where = dict(log=event.log_id, agent=event.agent, seq=event.seq, event_id=event.event_id)
        payload = read_checkpoint(event.envelope, self._runtime_keys)
        if payload is None or payload.get("log") != event.log_id or payload.get("seq") != event.seq:
            self._problem(result, ChainProblem(kind="checkpoint", message=f"a checkpoint of `{event.agent}` does not "
                                               "verify with the runtime key(s) given", **where))
            return
        row = self._conn.execute(_LAYOUT.position, (event.log_id, event.seq)).fetchone()
        if row is None or row[0] != _leaf_of(payload.get("head")):
            kind, what = ("gap", "was never received") if row is None else ("fork", "differs from what was received")
            self._problem(result, ChainProblem(kind=kind, message=f"record {event.seq} of `{event.agent}` is signed "
                                               f"by its runtime but {what} ({kind})", **where))
            return
        chain = self._chains.get(event.log_id)
        if chain is not None and event.seq > chain.attested_seq:
            chain.attested_seq = event.seq
            self._dirty.add(event.log_id)

    # --- storage ---------------------------------------------------------------------------------

    def _known(self, event_ids: list[str]) -> dict[str, bytes]:
        """Which of these event ids the log already holds, with their leaf hashes (one query per 500)."""
        found: dict[str, bytes] = {}
        for i in range(0, len(event_ids), 500):
            chunk = [event_key(e) for e in event_ids[i:i + 500]]
            found.update((event_id_of(k), leaf) for k, leaf in self._conn.execute(
                f"SELECT event_key, leaf FROM leaves WHERE event_key IN ({','.join('?' * len(chunk))})", chunk))
        return found

    def _new_chain_id(self, log_id: str, agent: str) -> int:
        """The chain number of a (log, agent) pair not seen before, stored in the open transaction."""
        cursor = self._conn.execute("INSERT INTO chains (log, agent) VALUES (?, ?)", (log_id, agent))
        chain_id = self._chain_ids[log_id, agent] = int(cursor.lastrowid or 0)
        return chain_id

    def _problem(self, result: BatchResult, problem: ChainProblem) -> None:
        self._conn.execute("INSERT INTO problems (log, agent, seq, kind, message, event_id) VALUES (?, ?, ?, ?, ?, ?)",
                           (problem.log, problem.agent, problem.seq, problem.kind, problem.message, problem.event_id))
        result.problems.append(problem)

    def _save_chains(self) -> None:
        dirty, self._dirty = self._dirty, set()
        self._conn.executemany(
            "INSERT OR REPLACE INTO heads (log, agent, last_seq, last_hash, attested_seq) VALUES (?, ?, ?, ?, ?)",
            [(log, c.agent, c.last_seq, c.last_hash, c.attested_seq) for log in sorted(dirty)
             for c in (self._chains[log],)])

    def _maybe_checkpoint(self, *, force: bool) -> merkle.Checkpoint | None:
        now = self._clock()
        grown = self.size - self.checkpointed
        if grown <= 0 or not (force or grown >= self._every or now - self._last_checkpoint_at >= self._interval_s):
            return None
        cp = merkle.sign_checkpoint(self.origin, self.size, self.tree.get_root(self.size), self._key)
        self._conn.execute("INSERT INTO checkpoints (size, note) VALUES (?, ?)", (cp.size, cp.note))
        self.checkpointed = cp.size
        self._last_checkpoint_at = now
        return cp

    def _rollback(self) -> None:
        """Undo the batch and forget state derived from it (cached subtrees, chain heads)."""
        self._conn.execute("ROLLBACK")
        self.tree.cache_clear()
        self._load()

    def _load(self) -> None:
        """Size, newest checkpoint, chain heads and chain numbers, as committed."""
        self.size = self.tree.get_size()
        row = self._conn.execute("SELECT COALESCE(MAX(size), 0) FROM checkpoints").fetchone()
        self.checkpointed = int(row[0])
        self._dirty = set()
        self._chains = {log: _Chain(agent, seq, head, att) for log, agent, seq, head, att in self._conn.execute(
            "SELECT log, agent, last_seq, last_hash, attested_seq FROM heads")}
        self._chain_ids = {(log, agent): chain_id for chain_id, log, agent in self._conn.execute(
            "SELECT id, log, agent FROM chains")}


@contextlib.contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while one delivery is parsed and stored.

    Why: a batch of 1,000 events is some 3,000 dicts and lists that live until the batch
    is committed, so the collector's generations would re-scan them several times per
    batch and find nothing to free. Parsed JSON holds no reference cycles; it is freed by
    reference counting when the batch is done, so nothing piles up.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


_blob = bytearray
_LAYOUT = LAYOUTS[FORMAT]


def _leaf_of(head: object) -> bytes | None:
    """The leaf hash of a runtime checkpoint's ``head`` (``sha256:<hex>``); None when it is no such hash."""
    if not isinstance(head, str) or len(head) != 71:
        return None
    try:
        return merkle.record_leaf_hash(head)
    except ValueError:
        return None


def _read(docs: Sequence[Any]) -> tuple[list[Received], list[ReceivedCheckpoint], list[ChainProblem]]:
    """One delivery's records, runtime checkpoints and rejected events (nothing stored yet)."""
    events: list[Received] = []
    signed: list[ReceivedCheckpoint] = []
    rejected: list[ChainProblem] = []
    for doc in docs:
        try:
            event = read_event(doc)
        except EventError as exc:
            rejected.append(ChainProblem(log=_text(doc, "auditlog"), agent=_text(doc, "auditagent"), seq=None,
                                         kind="rejected", message=str(exc), event_id=_text(doc, "id") or None))
            continue
        if isinstance(event, ReceivedCheckpoint):
            signed.append(event)  # checked once this delivery's records are in
        else:
            events.append(event)
    return events, signed, rejected


def _problem(event: Received, kind: str, message: str) -> ChainProblem:
    return ChainProblem(log=event.log_id, agent=event.agent, seq=event.seq, kind=kind, message=message,
                        event_id=event.event_id)


def _text(doc: Any, key: str) -> str:
    value = doc.get(key) if isinstance(doc, dict) else None
    return value if isinstance(value, str) else ""
