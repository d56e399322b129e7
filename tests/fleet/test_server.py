"""The collector's HTTP face: what it accepts, what it refuses, and a port it cannot take."""

from __future__ import annotations

import http.client
import json
import socket
import sqlite3
from pathlib import Path
from typing import Any

from agentos_contracts.fleet.events import BATCH, STRUCTURED
from agentos_contracts.fleet.ship import Cursor, next_events


def _post(port: int, body: bytes, content_type: str) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/", body=body, headers={"Content-Type": content_type})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def test_structured_and_batched_events_are_taken_anything_else_refused(fleet: Any, tmp_path: Path) -> None:
    log = fleet.run_agent("alpha", 3)
    collector = fleet.collector(tmp_path / "store", None, "--checkpoint-every", "1")


    cursor = Cursor(log=sqlite3.connect(log).execute("SELECT value FROM meta WHERE key = 'log'").fetchone()[0])
    events = next_events(log, cursor, 100).events
    status, answer = _post(collector.port, events[0], STRUCTURED + "; charset=utf-8")
    assert status == 200 and answer["accepted"] == 1
    status, answer = _post(collector.port, b"[" + b",".join(events) + b"]", BATCH)
    assert status == 200 and answer["accepted"] == 4 and answer["duplicates"] == 1
    assert _post(collector.port, b"[]", "application/json")[0] == 415
    assert _post(collector.port, b"{not json", BATCH)[0] == 400
    conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=30)
    conn.request("GET", "/checkpoint")
    note = conn.getresponse().read().decode()
    conn.close()
    assert note.split("\n")[1] == "5"  # the newest checkpoint, signed with the batch
    code, report = collector.stop()
    assert code == 0 and report["size"] == 5


def test_a_port_in_use_is_a_usage_error(fleet: Any, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = fleet.agentos("audit", "collect", "--listen", f"127.0.0.1:{port}", "--store", str(tmp_path / "s"),
                               "--key", str(fleet.keys.collector), "--format", "json")
    assert result.returncode == 2
    assert json.loads(result.stdout)["diagnostics"][0]["code"] == "AC877"


def test_concurrent_senders_each_get_their_own_answer(fleet: Any, tmp_path: Path) -> None:
    """Deliveries that arrive together may share a commit; each is still answered with its own counts."""
    import threading

    from agentos_contracts.runtime.audit import AuditLog

    bodies: list[list[bytes]] = []
    for n, agent in enumerate(("alpha", "beta", "gamma")):
        path = tmp_path / f"{agent}.db"
        with AuditLog.open(path, durability="batched", batch_size=50) as log:
            for i in range(40 + n):
                log.append({"type": "tool.allowed", "agent": agent, "rules": [f"r{i}"]})
        cursor = Cursor(log=sqlite3.connect(path).execute("SELECT value FROM meta WHERE key = 'log'").fetchone()[0])
        events = next_events(path, cursor, 1000).events
        bodies.append([b"[" + b",".join(events[i:i + 7]) + b"]" for i in range(0, len(events), 7)])
    collector = fleet.collector(tmp_path / "store", None, "--checkpoint-every", "10")
    answers: list[list[tuple[int, Any]]] = [[], [], []]

    def send(n: int) -> None:
        for body in bodies[n] + bodies[n][:2]:  # and the first two again: re-delivered, dropped
            answers[n].append(_post(collector.port, body, BATCH))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n in range(3):
        assert all(status == 200 for status, _ in answers[n])
        assert sum(a["accepted"] for _, a in answers[n]) == 40 + n
        assert [a["duplicates"] for _, a in answers[n][-2:]] == [7, 7]
    code, report = collector.stop()
    assert code == 0 and report["size"] == 123 and not report["problems"]
