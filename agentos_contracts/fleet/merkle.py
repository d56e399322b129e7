"""The fleet log: a Merkle tree over every received record's hash, signed checkpoints, proofs.

Why a Merkle tree and not one more hash chain: a chain proves a record only by handing
over everything before it; a Merkle tree proves one record in log2(n) hashes and proves
that a later state extends an earlier one (nothing rewritten, nothing dropped), as
Certificate Transparency does (RFC 6962/9162). The tree is pymerkle's; this module
stores its leaves in the collector's SQLite table, so a leaf and the record it stands for
are committed in one transaction. Checkpoints are C2SP checkpoint notes signed with
Ed25519, readable by existing transparency-log tooling.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import sqlite3
from dataclasses import dataclass
from typing import Any

from pymerkle import BaseMerkleTree, InvalidProof, verify_consistency

from agentos_contracts.seal import keys as keys_
from agentos_contracts.seal.note import sign_note, verify_note

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


SUBTREE_MIN_WIDTH = 1024  # narrower subtrees are hashed from their leaves (32 KiB to read)


class StoreTree(BaseMerkleTree):  # type: ignore[misc]  # pymerkle ships no type hints
    """pymerkle's RFC 6962 tree over the ``leaves`` table (``idx`` from 1, ``leaf`` = leaf hash).

    Leaves are inserted by the store inside its own transaction (see :func:`leaf_hash`);
    the tree only reads them, through the same connection, so uncommitted leaves count
    when a checkpoint is computed in that transaction. Roots of complete subtrees wider
    than ``SUBTREE_MIN_WIDTH`` are kept in the ``subtrees`` table (``keep``, the
    collector) and read back (``cached``, ``prove``), so a proof costs about log2(n)
    reads instead of a pass over every leaf. Such a root is derived data: a wrong one
    only makes proofs fail against the signed root, and ``check`` never reads them.
    """

    def __init__(self, conn: sqlite3.Connection, *, cached: bool = True, keep: bool = False) -> None:
        self._conn = conn
        self._cached = cached
        self._keep = keep
        super().__init__("sha256")

    def _get_subroot(self, offset: int, width: int) -> bytes:
        if not self._cached or width <= SUBTREE_MIN_WIDTH:
            return bytes(super()._get_subroot(offset, width))
        try:
            row = self._conn.execute("SELECT hash FROM subtrees WHERE start = ? AND width = ?",
                                     (offset, width)).fetchone()
        except sqlite3.OperationalError:  # a store without the table: compute, keep nothing
            row, self._keep = None, False
        if row is not None and len(as_bytes(row[0])) == 32:
            return as_bytes(row[0])
        half = width >> 1  # pymerkle asks only for power-of-two widths
        value = bytes(self.hash_pair(self._get_subroot(offset, half), self._get_subroot(offset + half, half)))
        if self._keep:
            self._conn.execute("INSERT OR REPLACE INTO subtrees (start, width, hash) VALUES (?, ?, ?)",
                               (offset, width, value))
        return value

    def _get_subroot_uncached(self, offset: int, width: int) -> bytes:
        """RFC 6962 root of ``width`` (a power of two) leaves from ``offset``, one level at a time.

        The same hashes as pymerkle's own loop, with less Python work per node: a checkpoint
        hashes about one node per record received.
        """
        level = self._get_leaves(offset, width)
        while len(level) > 1:
            pairs = iter(level)
            level = [_sha256(NODE_PREFIX + left + right).digest() for left, right in zip(pairs, pairs)]
        return bytes(level[0])

    def _encode_entry(self, data: bytes) -> bytes:
        return data

    def _store_leaf(self, data: bytes, digest: bytes) -> int:
        raise TypeError("leaves are written by the collector's store, in its transaction")

    def _get_leaf(self, index: int) -> bytes:
        row = self._conn.execute("SELECT leaf FROM leaves WHERE idx = ?", (index,)).fetchone()
        return as_bytes(row[0])

    def _get_leaves(self, offset: int, width: int) -> list[bytes]:
        rows = self._conn.execute("SELECT leaf FROM leaves WHERE idx BETWEEN ? AND ? ORDER BY idx",
                                  (offset + 1, offset + width))
        return [r if type(r) is bytes else as_bytes(r) for (r,) in rows]  # one call per leaf only after an edit

    def _get_size(self) -> int:
        return int(self._conn.execute("SELECT COALESCE(MAX(idx), 0) FROM leaves").fetchone()[0])


def as_bytes(value: object) -> bytes:
    """A stored blob as bytes, whatever type an edit left in the column (a tamper must not crash a check)."""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass")


def leaf_entry(record_hash: str) -> bytes:
    """A leaf's data: the 32 raw bytes of the record hash (``sha256:<hex>``)."""
    if not record_hash.startswith("sha256:"):
        raise ValueError(f"not a sha256 digest: {record_hash!r}")
    return bytes.fromhex(record_hash[7:])


def leaf_hash(entry: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || entry)."""
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def record_leaf_hash(record_hash: str) -> bytes:
    """``leaf_hash(leaf_entry(record_hash))`` in one step: the collector computes one per record."""
    if not record_hash.startswith("sha256:"):
        raise ValueError(f"not a sha256 digest: {record_hash!r}")
    return _sha256(b"\x00" + bytes.fromhex(record_hash[7:])).digest()


_sha256 = hashlib.sha256


# --- checkpoints ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    """A signed statement that the log named ``origin`` had ``size`` leaves with root ``root``."""

    origin: str
    size: int
    root: bytes
    note: str  # the whole signed note, as stored and shown

    def to_json(self) -> dict[str, Any]:
        return {"origin": self.origin, "size": self.size, "root_hash": b64(self.root), "note": self.note}


def checkpoint_text(origin: str, size: int, root: bytes) -> str:
    """The C2SP checkpoint body: origin, decimal size, base64 root hash, each on its own line."""
    return f"{origin}\n{size}\n{b64(root)}\n"


def sign_checkpoint(origin: str, size: int, root: bytes, key: keys_.PrivateKey) -> Checkpoint:
    """A checkpoint note signed by ``key`` under the key name ``origin``."""
    note = sign_note(checkpoint_text(origin, size, root), origin, key)
    return Checkpoint(origin=origin, size=size, root=root, note=note)


def open_checkpoint(note: str, key: keys_.PublicKey) -> Checkpoint | None:
    """The checkpoint in ``note`` when its signature by ``key`` verifies; ``None`` otherwise."""
    origin = note.split("\n", 1)[0]
    return read_checkpoint_note(note) if verify_note(note, origin, key) is not None else None


def read_checkpoint_note(note: str) -> Checkpoint | None:
    """The checkpoint a note states, signature unchecked (for display, or before a key is at hand)."""
    lines = note.split("\n")
    if len(lines) < 4 or not lines[1].isdigit() or lines[3] != "":
        return None
    root = unb64(lines[2])
    if root is None or len(root) != 32:
        return None
    return Checkpoint(origin=lines[0], size=int(lines[1]), root=root, note=note)


# --- proofs --------------------------------------------------------------------------------------


def inclusion_path(tree: StoreTree, index: int, size: int) -> list[bytes]:
    """RFC 9162 inclusion path (siblings from the leaf upwards) of leaf ``index`` (from 1)."""
    proof = tree.prove_inclusion(index, size)
    return list(proof.path[1:])  # pymerkle's path starts with the leaf itself


def verify_inclusion(leaf: bytes, leaf_index: int, tree_size: int, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2, step by step: does ``path`` lead from ``leaf`` to ``root``?

    Written out (not delegated) because it is what an auditor re-implements with nothing
    but the checkpoint and the public key; the tests cross-check it against pymerkle.
    """
    if not 0 <= leaf_index < tree_size:
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = hashlib.sha256(NODE_PREFIX + p + r).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hashlib.sha256(NODE_PREFIX + r + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def is_consistent(tree: StoreTree, old: Checkpoint, new: Checkpoint) -> bool:
    """Does the tree prove that ``new`` extends ``old`` (RFC 9162 consistency, via pymerkle)?"""
    if new.size < old.size:
        return False
    if new.size == old.size:
        return new.root == old.root and tree.get_root(new.size) == new.root
    try:
        proof = tree.prove_consistency(old.size, new.size)
        verify_consistency(old.root, new.root, proof, prior_size=old.size, later_size=new.size)
    except InvalidProof:
        return False
    return True


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
