"""Shipping over loopback HTTP between real processes: runtimes, shippers, one collector, kill -9 included."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

from agentos_contracts.fleet.events import BATCH
from agentos_contracts.runtime.chain import seal_record

AGENTOS = [sys.executable, "-m", "agentos_contracts"]

AGENTS = ("alpha", "beta", "gamma")


def _wait(what: str, condition: Callable[[], bool], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _count(db: Path, table: str) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _cursor(log: Path) -> int:
    try:
        return int(json.loads(log.with_name(log.name + ".ship").read_text())["seq"])
    except (OSError, ValueError, KeyError):
        return 0


def test_three_runtimes_one_collector_every_record_once_through_kill_9(fleet: Any, tmp_path: Path) -> None:
    store = tmp_path / "store"
    pub = str(fleet.keys.runtime_pub)
    collector = fleet.collector(store, None, "--checkpoint-every", "40", "--runtime-pub", pub)
    runtimes = [fleet.run_agent(a, 120, pace_s=0.01, background=True) for a in AGENTS]
    logs = {a: tmp_path / f"{a}.db" for a in AGENTS}
    for a in AGENTS:
        _wait(f"{a}'s first record", lambda a=a: _count(logs[a], "records") > 0)
    shippers = {a: fleet.shipper(logs[a], collector.url, "--batch", "7") for a in AGENTS}

    _wait("alpha's shipper to get going", lambda: _cursor(logs["alpha"]) > 0)
    shippers["alpha"].send_signal(signal.SIGKILL)  # wherever it is: reading, sending, or saving its cursor
    shippers["alpha"].wait(timeout=30)
    shippers["alpha"] = fleet.shipper(logs["alpha"], collector.url, "--batch", "7")

    _wait("the collector to hold some records", lambda: _count(store / "fleet.db", "leaves") > 60)
    collector.kill()  # kill -9 with batches in flight; shippers keep retrying until it is back
    collector = fleet.collector(store, collector.port, "--checkpoint-every", "40", "--runtime-pub", pub)

    for proc in runtimes:
        assert proc.wait(timeout=180) == 0
    for a in AGENTS:
        total = _count(logs[a], "records")
        _wait(f"{a}'s shipper to catch up", lambda a=a, total=total: _cursor(logs[a]) == total)
        shippers[a].send_signal(signal.SIGTERM)
        out, _ = shippers[a].communicate(timeout=60)
        assert shippers[a].returncode == 0 and json.loads(out)["ok"]

    code, report = collector.stop()
    assert code == 0, report["diagnostics"]
    received = fleet.store_event_ids(store)
    assert len(received) == len(set(received))
    for a in AGENTS:
        in_log = fleet.log_event_ids(logs[a])
        assert len(in_log) == 122  # agent.started + 120 decisions + agent.completed
        assert [e for e in received if e in set(in_log)] == in_log  # each once, in chain order
    assert len(received) == 3 * 122
    chains = {c["agent"]: c for c in report["chains"]}
    assert {a: (chains[a]["records"], chains[a]["attested_seq"]) for a in AGENTS} == {a: (122, 122) for a in AGENTS}

    checked = fleet.agentos("audit", "check", "--store", str(store), "--pub", str(fleet.keys.collector_pub),
                            "--format", "json")
    assert checked.returncode == 0, checked.stdout
    assert json.loads(checked.stdout)["verified_checkpoints"] >= 3 * 122 // 40
    for a in AGENTS:
        proved = fleet.agentos("audit", "prove", "--store", str(store), "--event", fleet.log_event_ids(logs[a])[5],
                               "--pub", str(fleet.keys.collector_pub), "--format", "json")
        assert proved.returncode == 0 and json.loads(proved.stdout)["verified"], proved.stdout


def _ship_once(fleet: Any, log: Path, url: str) -> None:
    result = fleet.agentos("audit", "ship", str(log), "--to", url, "--batch", "5", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr


def _tamper_rehash(log: Path, seq: int) -> None:
    conn = sqlite3.connect(log)
    record = json.loads(conn.execute("SELECT body FROM records WHERE seq = ?", (seq,)).fetchone()[0])
    record["decision"] = "allow" if record.get("decision") != "allow" else "deny"
    body, digest = seal_record(record)
    conn.execute("UPDATE records SET body = ?, hash = ? WHERE seq = ?", (body, digest, seq))
    conn.commit()
    conn.close()


def test_deleted_and_altered_records_are_reported_for_their_agent(fleet: Any, tmp_path: Path) -> None:
    logs = {a: fleet.run_agent(a, 15) for a in AGENTS}
    conn = sqlite3.connect(logs["alpha"])
    conn.execute("DELETE FROM records WHERE seq = 7")
    conn.commit()
    conn.close()
    _tamper_rehash(logs["beta"], 4)
    store = tmp_path / "store"
    collector = fleet.collector(store)
    for log in logs.values():
        _ship_once(fleet, log, collector.url)
    code, report = collector.stop()
    assert code == 1
    found = sorted((d["code"], d["message"]) for d in report["diagnostics"])
    assert [c for c, _ in found] == ["AC860", "AC861"]
    assert "record(s) 7 of `alpha` never arrived" in found[0][1]
    assert "record 5 of `beta` does not link to record 4" in found[1][1]
    assert {(p["agent"], p["kind"]) for p in report["problems"]} == {("alpha", "gap"), ("beta", "fork")}
    checked = fleet.agentos("audit", "check", "--store", str(store), "--pub", str(fleet.keys.collector_pub))
    assert checked.returncode == 1 and "AC860" in checked.stderr and "AC861" in checked.stderr


def test_proofs_fail_when_a_byte_of_the_store_changes(fleet: Any, tmp_path: Path) -> None:
    log = fleet.run_agent("alpha", 20)
    store = tmp_path / "store"
    collector = fleet.collector(store, None, "--checkpoint-every", "8")
    _ship_once(fleet, log, collector.url)
    assert collector.stop()[0] == 0
    event = fleet.log_event_ids(log)[3]
    pub = str(fleet.keys.collector_pub)

    def run(folder: Path, *args: str) -> tuple[int, dict[str, Any]]:
        result = fleet.agentos("audit", *args, "--store", str(folder), "--pub", pub, "--format", "json")
        return result.returncode, json.loads(result.stdout)

    assert run(store, "prove", "--event", event)[0] == 0
    assert run(store, "check")[0] == 0

    def tampered(name: str, sql: str) -> Path:
        copy = tmp_path / name
        shutil.copytree(store, copy)
        conn = sqlite3.connect(copy / "fleet.db")
        conn.execute(sql)
        conn.commit()
        conn.close()
        return copy

    body = tampered("body", "UPDATE leaves SET body = CAST(replace(CAST(body AS TEXT), 'alpha', 'alphb') AS BLOB) "
                            "WHERE idx = 4")
    code, doc = run(body, "prove", "--event", event)
    assert code == 1 and not doc["verified"] and [d["code"] for d in doc["diagnostics"]] == ["AC871"]
    assert [d["code"] for d in run(body, "check")[1]["diagnostics"]] == ["AC874"]

    leaf = tampered("leaf", "UPDATE leaves SET leaf = zeroblob(32) WHERE idx = 2")
    assert run(leaf, "prove", "--event", event)[0] == 1
    assert "AC873" in {d["code"] for d in run(leaf, "check")[1]["diagnostics"]}

    note = tampered("note", "UPDATE checkpoints SET note = substr(note, 1, instr(note, char(10))) || "
                            "CAST(size + 1 AS TEXT) || substr(note, instr(note, char(10)) + length(size) + 1) "
                            "WHERE size = (SELECT MIN(size) FROM checkpoints)")
    assert [d["code"] for d in run(note, "check")[1]["diagnostics"]] == ["AC872"]

    other = fleet.agentos("audit", "check", "--store", str(store), "--pub", str(fleet.keys.runtime_pub))
    assert other.returncode == 1 and "AC872" in other.stderr


def test_usage_errors_exit_2_with_one_json_document(fleet: Any, tmp_path: Path) -> None:
    log = fleet.run_agent("alpha", 2)
    nothing = fleet.agentos("audit", "ship", str(log), "--to", "http://127.0.0.1:9/", "--format", "json")
    assert nothing.returncode == 2 and json.loads(nothing.stdout)["diagnostics"][0]["code"] == "AC866"
    bad_url = fleet.agentos("audit", "ship", str(log), "--to", "ftp://x/", "--format", "json")
    assert bad_url.returncode == 2 and json.loads(bad_url.stdout)["diagnostics"][0]["code"] == "AC866"
    (tmp_path / "wrong.ship").write_text('{"log": "another", "seq": 1, "checkpoint": 0}')
    cursor = fleet.agentos("audit", "ship", str(log), "--to", "http://127.0.0.1:9/", "--state",
                           str(tmp_path / "wrong.ship"), "--format", "json")
    assert cursor.returncode == 2 and json.loads(cursor.stdout)["diagnostics"][0]["code"] == "AC867"
    store = fleet.agentos("audit", "check", "--store", str(tmp_path / "none"), "--pub",
                          str(fleet.keys.collector_pub), "--format", "json")
    assert store.returncode == 2 and json.loads(store.stdout)["diagnostics"][0]["code"] == "AC868"
    both = fleet.agentos("audit", "collect", "--store", str(tmp_path / "s"), "--key", str(fleet.keys.collector),
                         "--format", "json")
    assert both.returncode == 2 and json.loads(both.stdout)["diagnostics"][0]["code"] == "AC901"


class KillingProxy(threading.Thread):
    """A loopback HTTP relay that, on request ``kill_at``, lets the collector commit the batch and then
    kills the shipper before the acknowledgement reaches it: a SIGKILL exactly mid-batch."""

    def __init__(self, upstream_port: int, kill_at: int) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.upstream_port = upstream_port
        self.kill_at = kill_at
        self.victim: subprocess.Popen[str] | None = None
        self.requests = 0

    def run(self) -> None:
        client, _ = self.sock.accept()
        stream = client.makefile("rb")
        while True:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                line = stream.readline()
                if not line:
                    return
                head += line
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            body = stream.read(length)
            upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
            upstream.request("POST", "/", body=body, headers={"Content-Type": BATCH})
            answer = upstream.getresponse().read()
            upstream.close()
            self.requests += 1
            if self.requests == self.kill_at and self.victim is not None:
                self.victim.send_signal(signal.SIGKILL)  # committed by the collector, never acknowledged
                self.victim.wait()
                client.close()
                return
            client.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                           + str(len(answer)).encode() + b"\r\n\r\n" + answer)


def test_a_shipper_killed_between_commit_and_acknowledgement_resends_and_nothing_doubles(
        fleet: Any, tmp_path: Path) -> None:
    log = fleet.run_agent("alpha", 58)  # 60 records
    store = tmp_path / "store"
    collector = fleet.collector(store)
    proxy = KillingProxy(collector.port, kill_at=3)
    proxy.start()
    proxy.victim = subprocess.Popen([*AGENTOS, "audit", "ship", str(log), "--to", f"http://127.0.0.1:{proxy.port}/",
                                     "--batch", "10"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    proxy.join(timeout=120)
    assert proxy.victim.returncode == -signal.SIGKILL
    assert _cursor(log) == 20 and _count(store / "fleet.db", "leaves") == 30  # the third batch is in, unacknowledged
    again = fleet.agentos("audit", "ship", str(log), "--to", collector.url, "--batch", "10", "--format", "json")
    assert again.returncode == 0 and json.loads(again.stdout)["shipped"] == 40
    code, report = collector.stop()
    assert code == 0 and report["size"] == 60
    assert fleet.store_event_ids(store) == fleet.log_event_ids(log)
