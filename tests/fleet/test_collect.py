"""The collector's checks, in-process: every record once, breaks in a chain stored and reported."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentos_contracts.fleet import proofs
from agentos_contracts.fleet.collect import Collector, StoreError
from agentos_contracts.fleet.ship import Cursor, next_events, ship
from agentos_contracts.runtime.audit import AuditLog
from agentos_contracts.runtime.chain import seal_record
from agentos_contracts.seal import keys


class Direct:
    """A transport that hands each batch to a collector in this process (the HTTP path has its own tests)."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector
        self.results: list[Any] = []

    def send(self, events: list[bytes], key: str) -> None:
        self.results.append(self.collector.accept([json.loads(e) for e in events]))

    def close(self) -> None:
        pass


def _log(path: Path, agent: str, n: int, key: keys.PrivateKey | None = None) -> Path:
    with AuditLog.open(path, checkpoint_key=key, durability="batched", batch_size=10) as log:
        log.append({"type": "agent.started", "agent": agent, "tenant": "city"})
        for i in range(n - 1):
            log.append({"type": "tool.allowed", "agent": agent, "action": "web.fetch", "rules": [f"r{i}"]})
    return path


@pytest.fixture()
def key() -> keys.PrivateKey:
    return keys.generate_private_key()


def _kinds(store: Path) -> list[tuple[str, int | None]]:
    return [(p["kind"], p["seq"]) for p in proofs.status(store)["problems"]]


def test_three_chains_each_record_once_and_checkpoints_verify(tmp_path: Path, key: keys.PrivateKey) -> None:
    logs = [_log(tmp_path / f"{a}.db", a, 45) for a in ("alpha", "beta", "gamma")]
    with Collector.open(tmp_path / "store", key, every=20) as c:
        for log in logs:
            ship(log, Direct(c), state=tmp_path / f"{log.name}.ship", batch=7)
    report = proofs.check(tmp_path / "store", key.public_key())
    assert report.ok, report.findings
    assert report.size == 135 and report.checkpoints >= 135 // 20
    assert sorted((ch["agent"], ch["records"], ch["last_seq"]) for ch in report.chains) == [
        ("alpha", 45, 45), ("beta", 45, 45), ("gamma", 45, 45)]


def test_a_batch_delivered_twice_is_kept_once(tmp_path: Path, key: keys.PrivateKey) -> None:
    """The shipper died after the receiver acknowledged but before it saved its cursor: it sends again."""
    log = _log(tmp_path / "a.db", "alpha", 30)
    with Collector.open(tmp_path / "store", key) as c:
        transport = Direct(c)
        first = next_events(log, Cursor(log=proofs_log_id(log)), 12)
        transport.send(first.events, first.agent)  # acknowledged; cursor never written
        ship(log, transport, state=tmp_path / "a.db.ship", batch=12)
        assert transport.results[1].duplicates == 12
    assert proofs.status(tmp_path / "store")["size"] == 30
    assert proofs.check(tmp_path / "store", key.public_key()).ok


def proofs_log_id(log: Path) -> str:
    conn = sqlite3.connect(log)
    try:
        return str(conn.execute("SELECT value FROM meta WHERE key = 'log'").fetchone()[0])
    finally:
        conn.close()


def _edit(log: Path, sql: str, *params: Any) -> None:
    conn = sqlite3.connect(log)
    conn.execute(sql, params)
    conn.commit()
    conn.close()


def _collect(tmp_path: Path, key: keys.PrivateKey, *logs: Path, **options: Any) -> Path:
    with Collector.open(tmp_path / "store", key, **options) as c:
        for log in logs:
            ship(log, Direct(c), state=tmp_path / f"{log.name}.ship", batch=8)
    return tmp_path / "store"


def test_a_deleted_record_is_a_gap_for_that_agent_only(tmp_path: Path, key: keys.PrivateKey) -> None:
    bad, good = _log(tmp_path / "a.db", "alpha", 20), _log(tmp_path / "b.db", "beta", 20)
    _edit(bad, "DELETE FROM records WHERE seq = 9")
    store = _collect(tmp_path, key, bad, good)
    problems = proofs.status(store)["problems"]
    assert [(p["agent"], p["kind"], p["seq"]) for p in problems] == [("alpha", "gap", 10)]
    assert "record(s) 9 of `alpha` never arrived" in problems[0]["message"]
    report = proofs.check(store, key.public_key())
    assert not report.ok and not report.findings  # the log itself is sound; the chain break is the finding


def test_a_record_rewritten_with_a_fresh_hash_is_a_fork(tmp_path: Path, key: keys.PrivateKey) -> None:
    log = _log(tmp_path / "a.db", "alpha", 20)
    record = json.loads(sqlite3.connect(log).execute("SELECT body FROM records WHERE seq = 5").fetchone()[0])
    record["action"] = "email.send"
    body, digest = seal_record(record)
    _edit(log, "UPDATE records SET body = ?, hash = ? WHERE seq = 5", body, digest)
    assert _kinds(_collect(tmp_path, key, log)) == [("fork", 6)]


def test_a_record_edited_in_place_is_modified(tmp_path: Path, key: keys.PrivateKey) -> None:
    log = _log(tmp_path / "a.db", "alpha", 20)
    _edit(log, "UPDATE records SET body = replace(body, 'r3', 'r4') WHERE seq = 5")
    assert _kinds(_collect(tmp_path, key, log)) == [("modified", 5)]


def test_runtime_checkpoints_attest_and_catch_a_cut_tail(tmp_path: Path, key: keys.PrivateKey) -> None:
    runtime = keys.generate_private_key()
    whole, cut = _log(tmp_path / "a.db", "alpha", 25, runtime), _log(tmp_path / "b.db", "beta", 25, runtime)
    _edit(cut, "DELETE FROM records WHERE seq > 22")  # the tail goes; the checkpoint over record 25 stays
    store = _collect(tmp_path, key, whole, cut, runtime_keys=[runtime.public_key()])
    chains = {c["agent"]: c for c in proofs.status(store)["chains"]}
    assert chains["alpha"]["attested_seq"] == 25
    assert _kinds(store) == [("gap", 25)]


def test_a_checkpoint_by_another_key_is_reported(tmp_path: Path, key: keys.PrivateKey) -> None:
    log = _log(tmp_path / "a.db", "alpha", 12, keys.generate_private_key())
    store = _collect(tmp_path, key, log, runtime_keys=[keys.generate_private_key().public_key()])
    assert {k for k, _ in _kinds(store)} == {"checkpoint"}


def test_one_id_with_two_records_is_a_conflict_and_malformed_events_are_kept_as_problems(
        tmp_path: Path, key: keys.PrivateKey) -> None:
    log = _log(tmp_path / "a.db", "alpha", 3)
    chunk = next_events(log, Cursor(log=proofs_log_id(log)), 10)
    events = [json.loads(e) for e in chunk.events]
    twin = json.loads(json.dumps(events[1]))
    twin["data"]["rules"] = ["forged"]
    with Collector.open(tmp_path / "store", key) as c:
        c.accept(events)
        result = c.accept([twin, {"specversion": "1.0", "id": "x"}])
    assert result.accepted == 0
    assert sorted(p.kind for p in result.problems) == ["conflict", "rejected"]
    assert proofs.status(tmp_path / "store")["size"] == 3


def test_checkpoints_every_n_records_and_on_close(tmp_path: Path, key: keys.PrivateKey) -> None:
    log = _log(tmp_path / "a.db", "alpha", 50)
    store = _collect(tmp_path, key, log, every=16, interval_s=3600)
    conn = sqlite3.connect(store / "fleet.db")
    sizes = [s for (s,) in conn.execute("SELECT size FROM checkpoints ORDER BY size")]
    assert sizes == [16, 32, 48, 50]  # batches of 8: a checkpoint each time 16 more arrived, and one at close


def test_one_collector_per_store(tmp_path: Path, key: keys.PrivateKey) -> None:
    with Collector.open(tmp_path / "store", key):
        with pytest.raises(StoreError, match="already open"):
            Collector.open(tmp_path / "store", key)


def test_proofs_need_a_checkpoint_that_covers_the_event(tmp_path: Path, key: keys.PrivateKey) -> None:
    log = _log(tmp_path / "a.db", "alpha", 10)
    store = _collect(tmp_path, key, log)
    ids = [json.loads(b)["event_id"] for (b,) in sqlite3.connect(log).execute("SELECT body FROM records")]
    proof = proofs.prove(store, ids[3], key.public_key())
    assert proof.verified and proof.leaf_index == 3 and proof.tree_size == 10
    with pytest.raises(proofs.ProofError, match="not in the fleet log"):
        proofs.prove(store, "nope", key.public_key())
    with pytest.raises(proofs.ProofError, match="signature"):
        proofs.prove(store, ids[3], keys.generate_private_key().public_key())


def _events_of(log: Path) -> list[dict[str, Any]]:
    chunk = next_events(log, Cursor(log=proofs_log_id(log)), 10_000)
    return [json.loads(e) for e in chunk.events]


@pytest.fixture(scope="module")
def forty(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return _events_of(_log(tmp_path_factory.mktemp("forty") / "a.db", "alpha", 40))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(1, 39), max_size=6), replays=st.lists(st.tuples(st.integers(0, 39),
       st.integers(1, 12)), max_size=4), deleted=st.sets(st.integers(2, 39), max_size=4))
def test_replays_never_double_and_every_deletion_is_one_gap(forty: list[dict[str, Any]], cuts: list[int],
                                                             replays: list[tuple[int, int]], deleted: set[int]) -> None:
    """Any batching, any re-delivery of earlier ranges: each record once, in order; a deleted run is one gap."""
    sent = [e for e in forty if e["data"]["seq"] not in deleted]
    bounds = sorted(set(cuts) | {0, len(sent)})
    batches: list[list[dict[str, Any]]] = []
    for a, b in zip(bounds, bounds[1:]):
        batches.append(sent[a:b])
        # a shipper that lost its cursor sends again a stretch that was already delivered
        batches += [sent[start:min(start + length, b)] for start, length in replays if start < b]
    with tempfile.TemporaryDirectory() as folder:
        with Collector.open(Path(folder), keys.generate_private_key()) as c:
            for batch in batches:
                c.accept(batch)
        stored = proofs.event_ids(folder)
        problems = proofs.status(folder)["problems"]
    assert sorted(stored) == sorted(e["id"] for e in sent) and len(stored) == len(set(stored))
    runs = {s for s in deleted if s - 1 not in deleted}  # first seq of each deleted run
    expected = sorted(max(d for d in deleted if d >= s and all(x in deleted for x in range(s, d + 1))) + 1
                      for s in runs)
    assert sorted(p["seq"] for p in problems) == [x for x in expected if x <= 40]
    assert {p["kind"] for p in problems} <= {"gap"}


def test_a_batch_of_known_and_new_records_keeps_the_new_ones_once(tmp_path: Path, key: keys.PrivateKey) -> None:
    """Known ids in a batch (a re-delivery overlapping new records) are dropped, never reported as forks."""
    events = _events_of(_log(tmp_path / "a.db", "alpha", 20))
    twin = json.loads(json.dumps(events[2]))
    twin["data"]["rules"] = ["forged"]
    with Collector.open(tmp_path / "store", key) as c:
        c.accept(events[:8])
        overlap = c.accept(events[4:14])
        mixed = c.accept([twin] + events[14:20] + [events[15]])
    assert (overlap.accepted, overlap.duplicates, overlap.problems) == (6, 4, [])
    assert (mixed.accepted, mixed.duplicates) == (6, 1) and [p.kind for p in mixed.problems] == ["conflict"]
    status = proofs.status(tmp_path / "store")
    assert status["size"] == 20 and [p["kind"] for p in status["problems"]] == ["conflict"]
    assert status["chains"][0]["last_seq"] == 20


def test_deliveries_committed_together_each_get_their_own_result(tmp_path: Path, key: keys.PrivateKey) -> None:
    """Group commit: one transaction for several senders' batches, each answered as if it came alone."""
    alpha = _events_of(_log(tmp_path / "a.db", "alpha", 12))
    beta = _events_of(_log(tmp_path / "b.db", "beta", 9))
    with Collector.open(tmp_path / "store", key, every=20) as c:
        c.accept(alpha[:3])
        results = c.accept_many([alpha[:6], beta, alpha[6:] + [beta[0]], [{"specversion": "1.0"}]])
    assert [(r.accepted, r.duplicates, len(r.problems)) for r in results] == [(3, 3, 0), (9, 0, 0), (6, 1, 0),
                                                                              (0, 0, 1)]
    assert {r.checkpoint.size if r.checkpoint else None for r in results} == {21}  # signed once, over them all
    report = proofs.check(tmp_path / "store", key.public_key())
    assert report.size == 21 and [p.kind for p in report.problems] == ["rejected"]
