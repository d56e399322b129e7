"""The fleet Merkle log: RFC 9162 proofs agree with pymerkle, tampering fails them, notes verify."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from pymerkle import InmemoryTree, verify_inclusion as pymerkle_verify_inclusion

from agentos_contracts.fleet import merkle
from agentos_contracts.seal import keys
from agentos_contracts.seal.note import key_hash, sign_note, split_note, verifier_key, verify_note


def _tree(n: int) -> tuple[sqlite3.Connection, merkle.StoreTree]:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE leaves (idx INTEGER PRIMARY KEY, leaf BLOB NOT NULL)")
    for i in range(1, n + 1):
        entry = hashlib.sha256(f"record {i}".encode()).digest()
        conn.execute("INSERT INTO leaves VALUES (?, ?)", (i, merkle.leaf_hash(entry)))
    return conn, merkle.StoreTree(conn)


def test_root_is_the_rfc6962_root_pymerkle_computes_in_memory() -> None:
    _, tree = _tree(37)
    reference = InmemoryTree("sha256")
    for i in range(1, 38):
        reference.append_entry(hashlib.sha256(f"record {i}".encode()).digest())
    for size in (1, 2, 3, 16, 17, 37):
        assert tree.get_root(size) == reference.get_root(size)


def test_empty_tree_root_is_the_hash_of_nothing() -> None:
    _, tree = _tree(0)
    assert tree.get_root(0) == hashlib.sha256(b"").digest()


def test_every_inclusion_proof_verifies_by_the_rfc_algorithm_and_by_pymerkle() -> None:
    _, tree = _tree(33)
    for size in range(1, 34):
        root = tree.get_root(size)
        for index in range(1, size + 1):
            path = merkle.inclusion_path(tree, index, size)
            leaf = tree.get_leaf(index)
            assert merkle.verify_inclusion(leaf, index - 1, size, path, root), (index, size)
            pymerkle_verify_inclusion(leaf, root, tree.prove_inclusion(index, size))


def test_a_changed_byte_anywhere_fails_the_inclusion_proof() -> None:
    _, tree = _tree(21)
    root, leaf, path = tree.get_root(21), tree.get_leaf(6), merkle.inclusion_path(tree, 6, 21)
    flip = lambda b: bytes([b[0] ^ 1]) + b[1:]  # noqa: E731
    assert not merkle.verify_inclusion(flip(leaf), 5, 21, path, root)
    assert not merkle.verify_inclusion(leaf, 5, 21, path, flip(root))
    for i in range(len(path)):
        assert not merkle.verify_inclusion(leaf, 5, 21, path[:i] + [flip(path[i])] + path[i + 1:], root)
    assert not merkle.verify_inclusion(leaf, 6, 21, path, root)  # wrong position
    assert not merkle.verify_inclusion(leaf, 5, 40, path, root)  # another tree shape (size comes signed)
    assert not merkle.verify_inclusion(leaf, 5, 21, path[:-1], root)  # short path


def test_consistency_holds_for_growth_and_fails_for_a_rewrite() -> None:
    key = keys.generate_private_key()
    conn, tree = _tree(40)
    cps = [merkle.sign_checkpoint("example/log", s, tree.get_root(s), key) for s in (1, 7, 8, 25, 40)]
    for old, new in zip(cps, cps[1:]):
        assert merkle.is_consistent(tree, old, new)
    conn.execute("UPDATE leaves SET leaf = ? WHERE idx = 3", (b"\x00" * 32,))
    rewritten = merkle.StoreTree(conn)
    assert not merkle.is_consistent(rewritten, cps[1], cps[4])
    assert not merkle.is_consistent(rewritten, cps[4], cps[1])  # shrinking is never consistent


def test_checkpoint_note_signs_and_verifies_and_names_its_key() -> None:
    key, other = keys.generate_private_key(), keys.generate_private_key()
    cp = merkle.sign_checkpoint("agentos.example/fleet", 5, b"\x07" * 32, key)
    lines = cp.note.split("\n")
    assert lines[:3] == ["agentos.example/fleet", "5", "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="]
    assert lines[3] == "" and lines[4].startswith("\u2014 agentos.example/fleet ")
    parsed = split_note(cp.note)
    assert parsed is not None and parsed[1][0].key_hash == key_hash("agentos.example/fleet", key.public_key())
    assert merkle.open_checkpoint(cp.note, key.public_key()) == cp
    assert merkle.open_checkpoint(cp.note, other.public_key()) is None
    assert merkle.open_checkpoint(cp.note.replace("\n5\n", "\n6\n"), key.public_key()) is None
    assert verifier_key("agentos.example/fleet", key.public_key()).startswith("agentos.example/fleet+")


@pytest.mark.parametrize("text", ["no newline", "two\n\nblank lines\n"])
def test_a_note_must_be_lines_without_a_blank_one(text: str) -> None:
    with pytest.raises(ValueError):
        sign_note(text, "k", keys.generate_private_key())


def test_a_note_signature_by_another_name_does_not_count() -> None:
    key = keys.generate_private_key()
    note = sign_note("hello\n", "alice", key)
    assert verify_note(note, "alice", key.public_key()) == "hello\n"
    assert verify_note(note, "bob", key.public_key()) is None
    assert verify_note(note.replace("\u2014", "-"), "alice", key.public_key()) is None


def test_kept_subtree_roots_give_the_same_roots_and_proofs() -> None:
    conn, plain = _tree(5000)
    conn.execute("CREATE TABLE subtrees (start INTEGER, width INTEGER, hash BLOB, PRIMARY KEY (start, width))")
    keeping = merkle.StoreTree(conn, keep=True)
    assert keeping.get_root(5000) == merkle.StoreTree(conn, cached=False).get_root(5000)
    assert conn.execute("SELECT COUNT(*) FROM subtrees").fetchone()[0] > 0
    reading = merkle.StoreTree(conn)
    for size in (2049, 4096, 5000):
        for index in (1, 1500, size):
            assert merkle.inclusion_path(reading, index, size) == merkle.inclusion_path(plain, index, size)
    conn.execute("UPDATE subtrees SET hash = zeroblob(32)")  # derived data gone wrong: proofs fail, never pass
    wrong = merkle.StoreTree(conn)
    assert not merkle.verify_inclusion(wrong.get_leaf(7), 6, 5000, merkle.inclusion_path(wrong, 7, 5000),
                                       plain.get_root(5000))
