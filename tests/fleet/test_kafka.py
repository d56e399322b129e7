"""Shipping and collecting through Kafka: confluent-kafka against librdkafka's in-process mock cluster."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_structured
from cloudevents.core.formats.json import JSONFormat
from confluent_kafka import Consumer, Producer

TOPIC = "agentos-audit"
AGENTS = ("alpha", "beta", "gamma")


@pytest.fixture()
def brokers() -> Iterator[str]:
    """A mock Kafka cluster owned by this process, reachable on loopback by the CLI's processes."""
    owner = Producer({"test.mock.num.brokers": 1, "bootstrap.servers": "", "log_level": 3})
    broker = next(iter(owner.list_topics(timeout=10).brokers.values()))
    yield f"{broker.host}:{broker.port}"
    owner.flush(5)


def _leaves(store: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{store / 'fleet.db'}?mode=ro", uri=True)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM leaves").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _ship(fleet: Any, log: Path, brokers: str) -> dict[str, Any]:
    result = fleet.agentos("audit", "ship", str(log), "--to", f"kafka://{brokers}/{TOPIC}", "--batch", "9",
                           "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_kafka_ship_and_collect_every_record_once_through_kill_9(fleet: Any, tmp_path: Path, brokers: str) -> None:
    logs = {a: fleet.run_agent(a, 40) for a in AGENTS}
    conn = sqlite3.connect(logs["gamma"])
    conn.execute("DELETE FROM records WHERE seq = 11")
    conn.commit()
    conn.close()
    for log in logs.values():
        _ship(fleet, log, brokers)
    logs["alpha"].with_name("alpha.db.ship").unlink()  # a shipper that lost its cursor sends everything again
    assert _ship(fleet, logs["alpha"], brokers)["shipped"] == 42

    store = tmp_path / "store"
    source = f"kafka://{brokers}/{TOPIC}"
    first = fleet.collect_from(store, source, "--batch", "10")
    deadline = time.monotonic() + 120
    while _leaves(store) < 20:
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    again = fleet.collect_from(store, source, "--batch", "10", "--exit-when-idle", "4")
    out, _ = again.communicate(timeout=180)
    report = json.loads(out)
    assert again.returncode == 1  # gamma's gap is a finding
    assert [(p["agent"], p["kind"], p["seq"]) for p in report["problems"]] == [("gamma", "gap", 12)]
    received = fleet.store_event_ids(store)
    assert len(received) == len(set(received)) == 42 + 42 + 41
    for a in AGENTS:
        in_log = fleet.log_event_ids(logs[a])
        assert [e for e in received if e in set(in_log)] == in_log
    checked = fleet.agentos("audit", "check", "--store", str(store), "--pub", str(fleet.keys.collector_pub),
                            "--format", "json")
    assert json.loads(checked.stdout)["verified_checkpoints"] >= 1
    assert [d["code"] for d in json.loads(checked.stdout)["diagnostics"]] == ["AC860"]


def test_kafka_messages_are_cloudevents_keyed_by_agent(fleet: Any, brokers: str) -> None:
    log = fleet.run_agent("alpha", 5)
    _ship(fleet, log, brokers)
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": "sdk-check", "auto.offset.reset": "earliest",
                         "log_level": 3})
    consumer.subscribe([TOPIC])
    events = []
    deadline = time.monotonic() + 60
    try:
        while len(events) < 7 and time.monotonic() < deadline:
            for msg in consumer.consume(10, 0.5):
                if msg.error() is None:
                    message = KafkaMessage(headers=dict(msg.headers() or []), key=msg.key(), value=msg.value())
                    events.append(from_structured(message, JSONFormat()))
    finally:
        consumer.close()
    records = [e for e in events if e.get_type() != "dev.agentos.audit.checkpoint"]
    assert len(records) == 7
    assert {e.get_extension("partitionkey") for e in events} == {"alpha"}
    assert [e.get_data()["seq"] for e in records] == list(range(1, 8))
    assert [e.get_id() for e in records] == fleet.log_event_ids(log)
