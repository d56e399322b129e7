"""One writer per FILE, whatever its name: real processes through hard links and symlinks,
killed with SIGKILL mid-run; every acknowledged record is in the log afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from agentos_contracts.runtime import audit
from agentos_contracts.runtime.logstore import iter_records, read_log

# a writer process: opens the log (waiting while another writer holds it), appends N durable
# records and prints each one's event id once `append` has returned (the acknowledgement)
WRITER = Path(__file__).resolve().parents[1] / "fixtures" / "fuzz" / "audit_writer.py"


def start(path: Path, n: int, tag: str, hold: float = 0.0, key: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(WRITER), str(path), str(n), tag, str(hold), str(key or "-")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def acked(out: str) -> list[str]:
    return [line.split()[2] for line in out.splitlines() if line.startswith("ack ")]


def stored_ids(path: Path) -> list[str]:
    return [r["event_id"] for r in iter_records(read_log(path))]


@pytest.fixture(params=["hardlink", "symlink"])
def two_names(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Path]:
    first = tmp_path / "one" / "audit.db"
    first.parent.mkdir()
    (tmp_path / "two").mkdir()
    second = tmp_path / "two" / "other-name.db"
    audit.AuditLog.open(first).close()  # the file must exist to be linked
    if request.param == "hardlink":
        os.link(first, second)
    else:
        second.symlink_to(first)
    return first, second


def test_two_writers_through_two_names_never_lose_an_acknowledged_record(two_names: tuple[Path, Path]) -> None:
    # regression: through a hard link both writers held "the" lock; the log kept 107 of 209 records
    first, second = two_names
    a, b = start(first, 40, "a", hold=0.002), start(second, 40, "b", hold=0.002)
    out_a, _ = a.communicate(timeout=120)
    out_b, _ = b.communicate(timeout=120)
    assert a.returncode == 0 and b.returncode == 0
    acks = acked(out_a) + acked(out_b)
    assert len(acks) == 80
    for name in (first, second):
        ids = stored_ids(name)
        assert sorted(ids) == sorted(acks) and len(ids) == 80
        report = audit.verify(name)
        assert report.ok and report.records == 80, report.problems


def test_a_writer_killed_mid_run_loses_nothing_acknowledged_to_the_next_writer(two_names: tuple[Path, Path]) -> None:
    # the killed writer's last commits live in its WAL, beside the name it opened: the next
    # writer, coming in through the other name, must open that same WAL
    first, second = two_names
    victim = start(first, 10_000, "victim", hold=0.001)
    seen: list[str] = []
    assert victim.stdout is not None
    while len(seen) < 30:
        line = victim.stdout.readline()
        if line.startswith("ack "):
            seen.append(line.split()[2])
    victim.send_signal(signal.SIGKILL)  # no close, no checkpoint of the WAL
    rest, _ = victim.communicate(timeout=60)
    seen += acked(rest)
    heir = start(second, 20, "heir")  # the next writer comes in through the other name
    out, err = heir.communicate(timeout=120)
    assert heir.returncode == 0, err
    ids = stored_ids(second)
    assert set(seen) <= set(ids) and set(acked(out)) <= set(ids)
    assert stored_ids(first) == ids
    report = audit.verify(first)
    assert report.ok and report.records == len(ids), report.problems


def test_verify_through_another_name_sees_the_writers_recent_commits(two_names: tuple[Path, Path]) -> None:
    first, second = two_names
    with audit.AuditLog.open(first) as log:
        for i in range(5):
            log.append({"type": "tool.allowed", "trace_id": "t", "agent": "a", "tenant": "t",
                        "manifest": "sha256:" + "ab" * 32, "action": "x", "rules": [], "decision": "allow",
                        "stage": "policy", "reason": "r", "args_digest": "sha256:" + "cd" * 32})
        report = audit.verify(second)  # while the writer holds it, its commits still in the WAL
        assert report.ok and report.records == 5
        with pytest.raises(audit.AuditLocked):
            audit.AuditLog.open(second)


def test_verify_with_the_key_while_a_runtime_appends_never_raises_a_false_alarm(tmp_path: Path) -> None:
    # regression: records and checkpoints were read in separate statements, so a commit in between
    # made a checkpoint attest a record the reader had not read: "tail truncated" (AC714) in 11 of 20 runs
    from agentos_contracts.seal import keys

    sk = keys.generate_private_key()
    (tmp_path / "k.key").write_bytes(keys.private_key_pem(sk))
    log = tmp_path / "busy.db"
    audit.AuditLog.open(log, checkpoint_key=sk).close()
    writer = start(log, 100_000, "busy", key=tmp_path / "k.key")
    assert writer.stdout is not None
    while not writer.stdout.readline().startswith("ack "):
        pass
    try:
        lengths = []
        for _ in range(40):
            report = audit.verify(log, [sk.public_key()])
            assert report.ok, report.problems
            assert report.attested_seq == report.last_seq == report.records  # one consistent snapshot
            lengths.append(report.records)
        assert lengths == sorted(lengths) and lengths[-1] > lengths[0]  # the writer really was appending
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.communicate(timeout=60)
