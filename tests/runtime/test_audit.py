"""The audit hash chain: every tamper case is found at its position; crashes lose nothing acknowledged."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agentos_contracts.runtime import audit, chain
from agentos_contracts.runtime.logstore import export_jsonl, read_log
from agentos_contracts.seal import keys

REPO = Path(__file__).resolve().parents[2]


def _fields(i: int) -> dict:
    return {"type": "tool.allowed", "trace_id": "trace-1", "agent": "planner", "tenant": "city",
            "manifest": "sha256:" + "ab" * 32, "action": "web.fetch", "rules": [f"p.policy:{i}"],
            "decision": "allow", "stage": "policy", "reason": "allowed", "args_digest": "sha256:" + "cd" * 32}


def _write(path: Path, n: int, key=None, **kw) -> None:
    with audit.AuditLog.open(path, checkpoint_key=key, **kw) as log:
        for i in range(1, n + 1):
            log.append(_fields(i))


def _sql(path: Path, *statements: tuple) -> None:
    conn = sqlite3.connect(path)
    for stmt in statements:
        conn.execute(*stmt)
    conn.commit()
    conn.close()


def _body(path: Path, seq: int) -> bytes:
    conn = sqlite3.connect(path)
    (body,) = conn.execute("SELECT body FROM records WHERE seq=?", (seq,)).fetchone()
    conn.close()
    return bytes(body)


@pytest.fixture()
def key():
    return keys.generate_private_key()


def test_intact_log_verifies_and_records_hold_no_args(tmp_path: Path, key) -> None:
    log = tmp_path / "a.db"
    _write(log, 5, key)
    report = audit.verify(log, [key.public_key()])
    assert report.ok and report.records == 5 and report.last_seq == 5 and report.attested_seq == 5
    assert report.warnings == ()
    record = json.loads(_body(log, 3))
    assert record["seq"] == 3 and "args" not in record
    assert record["prev"] == chain.sha256_digest(_body(log, 2))


def test_hash_covers_the_whole_record(tmp_path: Path) -> None:
    """Changing any single field (decision, rule ids, reason, time...) breaks the record's hash."""
    log = tmp_path / "a.db"
    _write(log, 3)
    original = json.loads(_body(log, 2))
    for name in original:
        if name in ("seq",):
            continue
        changed = dict(original)
        changed[name] = "tampered" if not isinstance(original[name], list) else ["tampered"]
        copy = tmp_path / f"copy-{name}.db"
        copy.write_bytes(log.read_bytes())
        _sql(copy, ("UPDATE records SET body=? WHERE seq=2", (chain.canonicalize(changed),)))
        report = audit.verify(copy)
        assert not report.ok, name
        assert report.first_problem.seq == 2 and report.first_problem.kind == "modified", name


def test_modification_with_recomputed_hash_breaks_the_next_link(tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    _write(log, 5)
    rec = json.loads(_body(log, 3))
    rec["decision"] = "deny"
    body = chain.canonicalize(rec)
    _sql(log, ("UPDATE records SET body=?, hash=? WHERE seq=3", (body, chain.sha256_digest(body))))
    report = audit.verify(log)
    assert not report.ok
    assert (report.first_problem.seq, report.first_problem.kind) == (4, "broken-link")


def test_deletion_is_found_at_the_missing_position(tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    _write(log, 6)
    _sql(log, ("DELETE FROM records WHERE seq IN (3, 4)",))
    report = audit.verify(log)
    assert [(p.seq, p.kind) for p in report.problems] == [(3, "deleted")]
    assert "3..4" in report.problems[0].message


def test_reordering_is_found(tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    _write(log, 5)
    b3, b4 = _body(log, 3), _body(log, 4)
    h3, h4 = chain.sha256_digest(b3), chain.sha256_digest(b4)
    _sql(log, ("UPDATE records SET body=?, hash=? WHERE seq=3", (b4, h4)),
         ("UPDATE records SET body=?, hash=? WHERE seq=4", (b3, h3)))
    report = audit.verify(log)
    assert [(p.seq, p.kind) for p in report.problems] == [(3, "reordered"), (4, "reordered")]


def test_insertion_is_found(tmp_path: Path) -> None:
    """A forged record slipped in at 3 (later rows renumbered in storage) shows as a duplicate seq."""
    log = tmp_path / "a.db"
    _write(log, 4)
    rows = [(s, _body(log, s)) for s in range(1, 5)]
    forged = json.loads(rows[2][1])
    forged.update(reason="forged", prev=chain.sha256_digest(rows[1][1]))
    fbody = chain.canonicalize(forged)
    stmts = [("DELETE FROM records WHERE seq >= 3",),
             ("INSERT INTO records VALUES (3, ?, ?)", (fbody, chain.sha256_digest(fbody)))]
    for s, body in rows[2:]:
        stmts.append(("INSERT INTO records VALUES (?, ?, ?)", (s + 1, body, chain.sha256_digest(body))))
    _sql(log, *stmts)
    report = audit.verify(log)
    assert not report.ok
    assert report.first_problem.seq == 3 and report.first_problem.kind == "inserted"


def test_appended_forgery_is_caught_only_by_a_checkpoint(tmp_path: Path, key) -> None:
    log = tmp_path / "a.db"
    _write(log, 3, key)
    # forge a 4th record with a correct link and hash, and drop the signed checkpoints of it
    last = _body(log, 3)
    forged = json.loads(last)
    forged.update(seq=4, prev=chain.sha256_digest(last), event_id="f" * 32)
    fbody = chain.canonicalize(forged)
    _sql(log, ("INSERT INTO records VALUES (4, ?, ?)", (fbody, chain.sha256_digest(fbody))))
    assert audit.verify(log).ok  # a hash chain alone cannot tell
    report = audit.verify(log, [key.public_key()])
    assert report.attested_seq == 3
    assert [(p.seq, p.kind) for p in report.problems] == [(4, "inserted")]


def test_truncated_tail_is_found_with_the_checkpoint(tmp_path: Path, key) -> None:
    log = tmp_path / "a.db"
    _write(log, 8, key)
    _sql(log, ("DELETE FROM records WHERE seq > 5",), ("DELETE FROM checkpoints WHERE seq > 5",))
    assert audit.verify(log).ok  # without a key, truncation is invisible
    report = audit.verify(log, [key.public_key()])
    assert [(p.seq, p.kind) for p in report.problems] == [(6, "truncated")]
    assert "attests record 8" in report.problems[0].message


def test_rewritten_history_contradicts_a_checkpoint(tmp_path: Path, key) -> None:
    log = tmp_path / "a.db"
    _write(log, 4, key)
    prev = chain.sha256_digest(_body(log, 1))
    stmts = []
    for s in range(2, 5):  # rewrite records 2..4 consistently, as someone without the key could
        rec = json.loads(_body(log, s))
        rec.update(prev=prev, reason="rewritten")
        body = chain.canonicalize(rec)
        prev = chain.sha256_digest(body)
        stmts.append(("UPDATE records SET body=?, hash=? WHERE seq=?", (body, prev, s)))
    _sql(log, *stmts)
    assert audit.verify(log).ok
    report = audit.verify(log, [key.public_key()])
    assert not report.ok and report.problems[0].kind == "modified"


def test_wrong_key_does_not_attest(tmp_path: Path, key) -> None:
    log = tmp_path / "a.db"
    _write(log, 2, key)
    report = audit.verify(log, [keys.generate_private_key().public_key()])
    assert not report.ok and report.problems[0].kind == "checkpoint"


def test_second_writer_gets_a_clear_error(tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    first = audit.AuditLog.open(log)
    try:
        with pytest.raises(audit.AuditLocked, match="already open for writing"):
            audit.AuditLog.open(log)
        first.append(_fields(1))
        assert audit.verify(log).ok  # readers are not blocked
    finally:
        first.close()
    with audit.AuditLog.open(log) as again:  # released on close
        again.append(_fields(2))
    assert audit.verify(log).records == 2


def test_reopening_continues_the_chain(tmp_path: Path, key) -> None:
    log = tmp_path / "a.db"
    _write(log, 3, key)
    _write(log, 2, key)
    report = audit.verify(log, [key.public_key()])
    assert report.ok and report.last_seq == 5 and report.attested_seq == 5


def test_batched_commits_on_flush_and_close(tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    writer = audit.AuditLog.open(log, durability="batched", batch_size=10)
    for i in range(4):
        writer.append(_fields(i))
    assert len(read_log(log).rows) == 0  # not yet committed: not acknowledged
    writer.flush()
    assert len(read_log(log).rows) == 4
    for i in range(12):
        writer.append(_fields(i))
    assert len(read_log(log).rows) == 14  # one batch of 10 committed itself
    writer.close()
    assert audit.verify(log).records == 16


def test_a_large_batch_is_stored_whole_and_in_order(tmp_path: Path) -> None:
    """A batch is written in multi-row chunks plus a remainder: every record and retained argument
    lands at its own position, the chain verifies, and the bytes are the records' canonical form."""
    log = tmp_path / "a.db"
    n = audit.INSERT_CHUNK * 2 + 7
    with audit.AuditLog.open(log, durability="batched", batch_size=n - 3) as writer:
        acked = [writer.append(_fields(i), retain_args={"i": i} if i % 3 == 0 else None) for i in range(n)]
    stored = read_log(log)
    assert [r.position for r in stored.rows] == list(range(1, n + 1))
    assert [r.hash for r in stored.rows] == [a.hash for a in acked]
    assert all(json.loads(r.body)["rules"] == [f"p.policy:{i}"] for i, r in enumerate(stored.rows))
    assert stored.retained_args == {a.seq: f'{{"i":{i}}}'.encode() for i, a in enumerate(acked) if i % 3 == 0}
    report = audit.verify(log)
    assert report.ok and report.records == n


def test_unknown_fields_and_raw_args_are_refused(tmp_path: Path) -> None:
    with audit.AuditLog.open(tmp_path / "a.db") as log:
        with pytest.raises(chain.RecordError, match="args"):
            log.append({**_fields(1), "args": {"to": "x"}})
        with pytest.raises(chain.RecordError, match="event type"):
            log.append({**_fields(1), "type": "tool.maybe"})
        with pytest.raises(chain.RecordError, match="canonical"):
            log.append({**_fields(1), "context": {"x": float("nan")}})
        assert log.append(_fields(1)).seq == 1  # a refused record takes no sequence number


def test_jsonl_export_verifies_and_carries_tampering(tmp_path: Path, key) -> None:
    log = tmp_path / "a.db"
    _write(log, 4, key)
    out = io.StringIO()
    assert export_jsonl(log, out) == 4
    exported = tmp_path / "a.jsonl"
    exported.write_text(out.getvalue())
    assert audit.verify(exported, [key.public_key()]).ok
    lines = out.getvalue().splitlines()
    doc = json.loads(lines[2])
    doc["record"]["decision"] = "deny"
    lines[2] = json.dumps(doc)
    exported.write_text("\n".join(lines) + "\n")
    report = audit.verify(exported, [key.public_key()])
    assert report.first_problem.seq == 2 and report.first_problem.kind == "modified"
    del lines[2]
    exported.write_text("\n".join(lines) + "\n")
    assert audit.verify(exported).first_problem.kind == "deleted"


def test_not_a_log_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("hello\n")
    with pytest.raises(audit.AuditError):
        audit.verify(junk)
    with pytest.raises(audit.AuditError):
        audit.verify(tmp_path / "missing.db")


_CHILD = textwrap.dedent("""
    import sys
    from agentos_contracts.runtime import audit
    from agentos_contracts.seal import keys
    key = keys.read_private_key(sys.argv[2])
    log = audit.AuditLog.open(sys.argv[1], durability="durable", checkpoint_key=key)
    i = 0
    while True:
        i += 1
        got = log.append({"type": "tool.allowed", "trace_id": "t", "agent": "a", "tenant": None,
                          "manifest": "sha256:" + "00" * 32, "action": "x.y", "reason": "r" * (i % 200)})
        sys.stdout.write(f"{got.seq}\\n")
        sys.stdout.flush()
""")


@pytest.mark.parametrize("acked_before_kill", [1, 40, 150])
def test_kill_9_mid_append_loses_no_acknowledged_record(tmp_path: Path, acked_before_kill: int) -> None:
    log = tmp_path / "a.db"
    private, public = keys.save_key_pair(keys.generate_private_key(), tmp_path, "k")
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(log), str(private)], stdout=subprocess.PIPE,
                             cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, text=True)
    acked = 0
    try:
        assert child.stdout is not None
        while acked < acked_before_kill:
            line = child.stdout.readline()
            assert line, "child died early"
            acked = int(line)
        os.kill(child.pid, signal.SIGKILL)  # while it is in the middle of further appends
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    report = audit.verify(log, [keys.read_public_key(public)])
    assert report.ok, report.problems
    assert report.last_seq >= acked
    # the lock died with the writer: a new runtime continues the same chain (a signed log needs its key)
    with pytest.raises(audit.AuditError, match="signed audit log"):
        audit.AuditLog.open(log)
    with audit.AuditLog.open(log, checkpoint_key=keys.read_private_key(private)) as again:
        assert again.append(_fields(0)).seq == report.last_seq + 1
    assert audit.verify(log, [keys.read_public_key(public)]).ok
