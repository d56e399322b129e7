"""Collecting from Kafka: a consumer group reads structured-mode events into the fleet store.

Why offsets are committed after the store: a collector killed between the two reads the
batch again, and the event ids drop the copies (at-least-once, as over HTTP).
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable

from agentos_contracts.fleet.collect import Collector, StoreError, cycle_collection_paused


def consume_kafka(collector: Collector, brokers: str, topic: str, *, group: str, batch: int = 500,
                  stop: Callable[[], bool] = lambda: False, idle_exit_s: float | None = None) -> int:
    """Read events from a Kafka topic into the store until ``stop()`` (or idle that long); returns records taken.

    Offsets are committed only after the batch is in the store: a collector killed in
    between reads the batch again, and the event ids drop the copies.
    """
    from confluent_kafka import Consumer, KafkaException

    # a collector killed with -9 stays a group member until its session times out: keep that short
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": group, "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "session.timeout.ms": 10000, "log_level": 3})
    taken = 0
    idle_since = time.monotonic()
    try:
        consumer.subscribe([topic])
        while not stop():
            messages = consumer.consume(num_messages=max(1, batch), timeout=0.2)
            docs: list[Any] = []
            for msg in messages:
                if msg.error() is not None:
                    if msg.error().fatal():
                        raise StoreError(f"Kafka: {msg.error()}")
                    continue
                docs.append(_kafka_event(msg.value()))
            if docs:
                with cycle_collection_paused():
                    taken += collector.accept(docs).accepted
                consumer.commit(asynchronous=False)
                idle_since = time.monotonic()
            else:
                collector.tick()
                if not consumer.assignment():  # idle only counts once partitions are ours
                    idle_since = time.monotonic()
                elif idle_exit_s is not None and time.monotonic() - idle_since >= idle_exit_s:
                    break
    except KafkaException as exc:
        raise StoreError(f"Kafka: {exc}") from None
    finally:
        consumer.close()
    return taken


def _kafka_event(value: bytes | None) -> Any:
    """A structured-mode message value as JSON; anything else goes on as a value the store rejects."""
    try:
        return json.loads(value or b"")
    except ValueError:
        return {"unreadable": True}
