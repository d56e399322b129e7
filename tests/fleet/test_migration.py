"""Migrating a real format-1 store (made by the collector that wrote format 1): same proofs, same checks, after."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentos_contracts.fleet import merkle, proofs
from agentos_contracts.fleet.collect import Collector, OutdatedStore
from agentos_contracts.fleet.layout import FORMAT_1, FORMAT_2, SCHEMA_1, StoreError
from agentos_contracts.fleet.migration import MigrationRefused, migrate_store
from agentos_contracts.runtime.locks import take_file_lock
from agentos_contracts.seal import keys

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "fleet" / "store-v1"
PUB = keys.read_public_key(FIXTURE / "collector.pub")


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    copy = tmp_path / "store"
    shutil.copytree(FIXTURE / "store", copy)
    return copy


def _answers(store: Path) -> dict[str, Any]:
    """What the readers answer for a store, as JSON text (byte for byte comparable)."""
    ids = proofs.event_ids(store)
    status = proofs.status(store)
    del status["format"]
    return json.loads(json.dumps({"proofs": {e: proofs.prove(store, e, PUB).to_json() for e in ids},
                                  "check": proofs.check(store, PUB).to_json(), "status": status}))


def _format(store: Path) -> str:
    conn = sqlite3.connect(store / "fleet.db")
    try:
        return str(conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()[0])
    finally:
        conn.close()


def test_readers_answer_for_a_format_1_store_as_its_own_collector_did(store: Path) -> None:
    recorded = json.loads((FIXTURE / "answers-v1.json").read_text(encoding="utf-8"))
    assert _format(store) == FORMAT_1
    assert _answers(store) == recorded
    assert _format(store) == FORMAT_1  # reading never rewrites


def test_migration_keeps_every_proof_check_and_root_byte_for_byte(store: Path) -> None:
    recorded = json.loads((FIXTURE / "answers-v1.json").read_text(encoding="utf-8"))
    done = migrate_store(store)
    assert (done.before, done.after, done.migrated, done.records, done.chains) == (FORMAT_1, FORMAT_2, True, 49, 2)
    assert _format(store) == FORMAT_2
    after = _answers(store)
    assert after == recorded
    assert json.dumps(after["proofs"], sort_keys=True) == json.dumps(recorded["proofs"], sort_keys=True)
    ids = set(recorded["proofs"])
    assert {"custom-id-3"} <= ids and any(e.isupper() for e in ids)  # the ids kept as text came through
    again = migrate_store(store)
    assert not again.migrated and again.root == done.root and _format(store) == FORMAT_2


def test_a_collector_refuses_a_format_1_store_and_leaves_it_untouched(store: Path) -> None:
    snapshot = (store / "fleet.db").read_bytes()
    with pytest.raises(OutdatedStore, match="migrate-store"):
        Collector.open(store, keys.read_private_key(FIXTURE / "collector.key"))
    assert (store / "fleet.db").read_bytes() == snapshot


def _event(proof: dict[str, Any], event_id: str, record: dict[str, Any]) -> dict[str, Any]:
    return {"specversion": "1.0", "id": event_id, "source": f"urn:agentos:audit:{proof['log']}",
            "type": "dev.agentos.audit." + record["type"], "auditlog": proof["log"], "auditagent": proof["agent"],
            "audithash": proof["record_hash"], "datacontenttype": "application/json", "data": record}


def test_a_migrated_store_dedups_exactly_and_grows_consistently(store: Path) -> None:
    recorded = json.loads((FIXTURE / "answers-v1.json").read_text(encoding="utf-8"))["proofs"]
    migrate_store(store)
    again = [_event(p, e, p["record"]) for e, p in recorded.items()]
    hexid = next(e for e in recorded if len(e) == 32 and e == e.lower() and e != "custom-id-3")
    changed = dict(recorded[hexid]["record"], action="files.delete")
    upper = next(e for e in recorded if e.isupper())
    with Collector.open(store, keys.read_private_key(FIXTURE / "collector.key")) as collector:
        result = collector.accept(again)
        assert (result.accepted, result.duplicates, result.problems) == (0, 49, [])
        # the upper-case spelling of a stored hex id is another id; the lower-case one is the stored record
        other = collector.accept([_event(recorded[upper], upper.lower(), recorded[upper]["record"])])
        conflict = collector.accept([_event(recorded[hexid], hexid, changed)])
    assert other.accepted == 1
    assert [p.kind for p in other.problems] == ["fork"]  # position already taken by the record under its own id
    assert [p.kind for p in conflict.problems] == ["conflict"]
    report = proofs.check(store, PUB)
    assert report.size == 50 and report.verified == report.checkpoints == 5 and not report.findings
    assert proofs.prove(store, upper.lower(), PUB).verified and proofs.prove(store, "custom-id-3", PUB).verified


def test_a_store_that_does_not_verify_is_not_migrated(store: Path) -> None:
    conn = sqlite3.connect(store / "fleet.db")
    conn.execute("UPDATE leaves SET hash = 'sha256:' || hex(zeroblob(32)) WHERE idx = 7")
    conn.commit()
    conn.close()
    snapshot = (store / "fleet.db").read_bytes()
    with pytest.raises(MigrationRefused, match="leaf 6"):
        migrate_store(store)
    assert _format(store) == FORMAT_1 and (store / "fleet.db").read_bytes() == snapshot


def test_a_store_in_use_or_missing_is_not_migrated(store: Path, tmp_path: Path) -> None:
    lock = take_file_lock(store / "fleet.db", "fleet store")
    try:
        with pytest.raises(StoreError, match="stop the collector"):
            migrate_store(store)
    finally:
        lock.close()
    with pytest.raises(StoreError, match="holds no fleet store"):
        migrate_store(tmp_path / "nothing")
    assert _format(store) == FORMAT_1


HEX = "0123456789abcdef"
ids = st.one_of(st.text(min_size=1, max_size=34), st.text(alphabet=HEX + "ABCDEF ", min_size=32, max_size=32),
                st.binary(min_size=16, max_size=16).map(bytes.hex),
                st.binary(min_size=16, max_size=16).map(lambda b: b.hex().upper()))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(ids, st.sampled_from(["L1", "L2", "L3"]), st.sampled_from(["a", "b"])),
                min_size=1, max_size=40, unique_by=lambda t: t[0]),
       st.integers(min_value=1, max_value=40))
def test_any_format_1_store_migrates_with_the_same_proofs(tmp_path: Path, rows: list[tuple[str, str, str]],
                                                          every: int) -> None:
    key = keys.generate_private_key()
    folder = Path(tempfile.mkdtemp(dir=tmp_path)) / "store"  # hypothesis may run one example twice
    _format_1_store(folder, rows, every, key)
    pub = key.public_key()

    def answers() -> str:
        return json.dumps({"proofs": [proofs.prove(folder, e, pub).to_json() for e, _, _ in rows],
                           "check": proofs.check(folder, pub).to_json()}, sort_keys=True)

    before = answers()
    assert proofs.event_ids(folder) == [e for e, _, _ in rows]
    migrate_store(folder)
    assert _format(folder) == FORMAT_2 and answers() == before
    assert proofs.event_ids(folder) == [e for e, _, _ in rows]


def _format_1_store(folder: Path, rows: list[tuple[str, str, str]], every: int, key: keys.PrivateKey) -> None:
    """A format-1 store written row by row as its collector wrote them, checkpoints every ``every`` leaves."""
    folder.mkdir()
    conn = sqlite3.connect(folder / "fleet.db", isolation_level=None)
    conn.executescript(SCHEMA_1)
    conn.executemany("INSERT INTO meta VALUES (?, ?)", [("format", FORMAT_1), ("origin", "example.org/fleet")])
    tree = merkle.StoreTree(conn, cached=False)
    heads: dict[str, tuple[str, int, str]] = {}
    for idx, (event_id, log, agent) in enumerate(rows, start=1):
        seq = heads.get(log, ("", 0, ""))[1] + 1
        body = json.dumps({"agent": agent, "event_id": event_id, "seq": seq}, sort_keys=True).encode()
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        conn.execute("INSERT INTO leaves VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (idx, event_id, log, agent, seq, digest, merkle.record_leaf_hash(digest), body))
        heads[log] = (agent, seq, digest)
        if idx % every == 0 or idx == len(rows):
            cp = merkle.sign_checkpoint("example.org/fleet", idx, tree.get_root(idx), key)
            conn.execute("INSERT INTO checkpoints VALUES (?, ?)", (cp.size, cp.note))
    conn.executemany("INSERT INTO chains (log, agent, last_seq, last_hash) VALUES (?, ?, ?, ?)",
                     [(log, *head) for log, head in heads.items()])
    conn.close()
