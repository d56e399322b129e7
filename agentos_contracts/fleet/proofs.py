"""Reading a fleet store as an auditor: status, inclusion proofs, checkpoint consistency.

Readers open the store read-only and never take the collector's lock, so they work
while it runs; they read every store format (:mod:`agentos_contracts.fleet.layout`) and
give the same answers, byte for byte, from a store and from its migrated copy. Nothing
here trusts a stored digest it can recompute: every leaf is re-derived from the stored
record bytes, every root from the leaves, every checkpoint's signature from the public
key; a changed byte anywhere shows as a finding.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from agentos_contracts.fleet import merkle
from agentos_contracts.fleet.collect import STORE_FILE, ChainProblem, StoreError
from agentos_contracts.fleet.layout import LAYOUTS, Layout, event_id_of, event_key
from agentos_contracts.seal import keys as keys_


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One thing an auditor should know: a kind (stable, maps to a code) and a message."""

    kind: str  # signature | root | inconsistent | leaf | uncovered | missing | <chain problem kinds>
    message: str


@dataclass(slots=True, kw_only=True)
class CheckReport:
    """Every checkpoint checked against the one before, and the chains' stored breaks."""

    origin: str
    size: int
    checkpoints: int = 0
    verified: int = 0
    latest: merkle.Checkpoint | None = None
    findings: list[Finding] = field(default_factory=list)
    chains: list[dict[str, Any]] = field(default_factory=list)
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings and not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"origin": self.origin, "size": self.size, "checkpoints": self.checkpoints,
                "verified_checkpoints": self.verified, "latest": self.latest.to_json() if self.latest else None,
                "chains": self.chains, "problems": [p.to_json() for p in self.problems]}


@dataclass(frozen=True, slots=True, kw_only=True)
class InclusionProof:
    """Everything needed to check one record against a signed checkpoint, and the verdict here."""

    event_id: str
    log: str
    agent: str
    seq: int | None
    record: Any
    record_hash: str
    leaf_index: int  # from 0, as in RFC 9162
    tree_size: int
    path: tuple[bytes, ...]
    checkpoint: merkle.Checkpoint
    verified: bool
    signature_checked: bool

    def to_json(self) -> dict[str, Any]:
        return {"event": self.event_id, "log": self.log, "agent": self.agent, "seq": self.seq,
                "record": self.record, "record_hash": self.record_hash, "leaf_index": self.leaf_index,
                "tree_size": self.tree_size, "inclusion_path": [merkle.b64(p) for p in self.path],
                "checkpoint": self.checkpoint.note, "root_hash": merkle.b64(self.checkpoint.root),
                "verified": self.verified, "signature_checked": self.signature_checked}


class ProofError(StoreError):
    """No proof can be given (unknown event, no checkpoint yet, not covered yet); the message says why."""


def open_store(directory: str | Path) -> tuple[sqlite3.Connection, dict[str, str], Layout]:
    """The store, read-only, its meta and its format's queries; raises StoreError when it is not a fleet store."""
    path = Path(directory) / STORE_FILE
    if not path.is_file():
        raise StoreError(f"`{directory}` holds no fleet store ({STORE_FILE})")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.Error as exc:
        raise StoreError(f"`{path}` is not a readable fleet store: {exc}") from None
    layout = LAYOUTS.get(meta.get("format", ""))
    if layout is None or "origin" not in meta:
        conn.close()
        raise StoreError(f"`{path}` is not a fleet store of a known format ({', '.join(LAYOUTS)})")
    return conn, meta, layout


def prove(directory: str | Path, event_id: str, public_key: keys_.PublicKey | None = None) -> InclusionProof:
    """Inclusion proof of one event against the newest checkpoint; raises ProofError/StoreError."""
    conn, _meta, layout = open_store(directory)
    try:
        row = conn.execute(layout.event, (event_key(event_id) if layout.keyed else event_id,)).fetchone()
        if row is None:
            raise ProofError(f"event `{event_id}` is not in the fleet log")
        note = conn.execute("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1").fetchone()
        if note is None:
            raise ProofError("the fleet log has no signed checkpoint yet")
        idx, log, agent, seq, body, stored_hash, stored_leaf = row
        body = merkle.as_bytes(body)
        cp = merkle.open_checkpoint(note[0], public_key) if public_key is not None else \
            merkle.read_checkpoint_note(note[0])
        if cp is None:
            raise ProofError("the newest checkpoint's signature does not verify" if public_key is not None
                             else "the newest checkpoint is not a checkpoint note")
        if idx > cp.size:
            raise ProofError(f"event `{event_id}` (leaf {idx - 1}) is not covered by the newest checkpoint "
                             f"(size {cp.size}) yet")
        tree = merkle.StoreTree(conn)
        path = tuple(merkle.inclusion_path(tree, idx, cp.size))
        record_hash = "sha256:" + hashlib.sha256(body).hexdigest()
        leaf = merkle.leaf_hash(merkle.leaf_entry(record_hash))
        verified = (stored_hash in (None, record_hash) and merkle.as_bytes(stored_leaf) == leaf
                    and merkle.verify_inclusion(leaf, idx - 1, cp.size, list(path), cp.root))
        try:
            record: Any = json.loads(body)
        except ValueError:
            record = body.decode("utf-8", "replace")
        return InclusionProof(event_id=event_id, log=log, agent=agent, seq=seq, record=record,
                              record_hash=record_hash, leaf_index=idx - 1, tree_size=cp.size, path=path,
                              checkpoint=cp, verified=verified, signature_checked=public_key is not None)
    finally:
        conn.close()


def check(directory: str | Path, public_key: keys_.PublicKey) -> CheckReport:
    """Re-derive every leaf, verify every checkpoint's signature and its consistency with the one before."""
    conn, meta, layout = open_store(directory)
    try:
        tree = merkle.StoreTree(conn, cached=False)  # everything from the leaves, nothing from derived data
        report = CheckReport(origin=meta["origin"], size=tree.get_size())
        report.findings.extend(leaf_findings(conn, layout))
        previous: merkle.Checkpoint | None = None
        for (note,) in conn.execute("SELECT note FROM checkpoints ORDER BY size").fetchall():
            report.checkpoints += 1
            cp = merkle.open_checkpoint(note, public_key)
            if cp is None or cp.origin != report.origin:
                report.findings.append(Finding(kind="signature", message=f"checkpoint {report.checkpoints} does "
                                               f"not verify with the given key for log `{report.origin}`"))
                continue
            report.verified += 1
            if cp.size > report.size:
                report.findings.append(Finding(kind="inconsistent", message=f"checkpoint of size {cp.size} covers "
                                               f"more records than the store holds ({report.size}): truncated"))
            elif previous is None and tree.get_root(cp.size) != cp.root:
                report.findings.append(Finding(kind="root", message=f"the records stored do not give the root "
                                               f"signed at size {cp.size}"))
            elif previous is not None and not merkle.is_consistent(tree, previous, cp):
                report.findings.append(Finding(kind="inconsistent", message=f"checkpoint {previous.size} -> "
                                               f"{cp.size}: the later tree does not extend the earlier one"))
            previous = cp
            report.latest = cp
        if report.checkpoints == 0:
            report.findings.append(Finding(kind="missing", message="the fleet log has no signed checkpoint"))
        elif report.latest is not None and report.latest.size < report.size:
            report.findings.append(Finding(kind="uncovered", message=f"records {report.latest.size + 1}.."
                                           f"{report.size} are not covered by a signed checkpoint yet"))
        report.chains, report.problems = chains(conn, layout), list(stored_problems(conn))
        return report
    finally:
        conn.close()


def leaf_findings(conn: sqlite3.Connection, layout: Layout) -> Iterator[Finding]:
    """Each leaf must be the hash of the record bytes stored with it (and of the stored hash, where one is kept),
    at consecutive positions."""
    expected = 1
    for idx, stored_hash, leaf, body in conn.execute(layout.leaves):
        if idx != expected:
            yield Finding(kind="leaf", message=f"leaf positions jump from {expected - 1} to {idx}")
        expected = idx + 1
        digest = "sha256:" + hashlib.sha256(merkle.as_bytes(body)).hexdigest()
        if stored_hash not in (None, digest) or merkle.leaf_hash(merkle.leaf_entry(digest)) != merkle.as_bytes(leaf):
            yield Finding(kind="leaf", message=f"leaf {idx - 1}: the stored record does not hash to its leaf")


def chains(conn: sqlite3.Connection, layout: Layout) -> list[dict[str, Any]]:
    """Per agent chain: how many records arrived, the last position and what its runtime signed."""
    counts = dict(conn.execute(layout.counts).fetchall())
    return [{"log": log, "agent": agent, "records": counts.get(log, 0), "last_seq": seq, "attested_seq": att}
            for log, agent, seq, att in conn.execute(layout.heads)]


def event_ids(directory: str | Path) -> list[str]:
    """Every event id in the log, in leaf order."""
    conn, _meta, layout = open_store(directory)
    try:
        return [event_id_of(key) for (key,) in conn.execute(layout.event_ids)]
    finally:
        conn.close()


def stored_problems(conn: sqlite3.Connection) -> Iterator[ChainProblem]:
    for log, agent, seq, kind, message, event_id in conn.execute(
            "SELECT log, agent, seq, kind, message, event_id FROM problems ORDER BY id"):
        yield ChainProblem(log=log, agent=agent, seq=seq, kind=kind, message=message, event_id=event_id)


def status(directory: str | Path) -> dict[str, Any]:
    """What a collector reports when it stops: size, newest checkpoint, chains and their breaks."""
    conn, meta, layout = open_store(directory)
    try:
        note = conn.execute("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1").fetchone()
        cp = merkle.read_checkpoint_note(note[0]) if note else None
        return {"origin": meta["origin"], "size": merkle.StoreTree(conn).get_size(),
                "latest": cp.to_json() if cp else None, "chains": chains(conn, layout),
                "format": layout.format,
                "problems": [p.to_json() for p in stored_problems(conn)]}
    finally:
        conn.close()
