"""Shipping a chain: a resumable cursor, batches in order, HTTP and Kafka transports.

Delivery is at-least-once: the cursor (``LOG.ship``) moves only after the receiver
acknowledged a batch, and is replaced atomically, so a shipper killed at any moment
resends at most the batch it was sending; the receiver drops what it already has by
event id. Records go in log order and a runtime checkpoint only after the records it
covers, so a receiver can check each link as it arrives.
"""

from __future__ import annotations

import http.client
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Protocol
from urllib.parse import urlsplit

from agentos_contracts.fleet.events import BATCH, STRUCTURED, checkpoint_event, dump_batch, dump_event, log_agent
from agentos_contracts.fleet.events import record_event
from agentos_contracts.runtime.logstore import AuditError, read_after


class ShipError(AuditError):
    """Shipping cannot go on (bad destination, refused batch); the message says why."""


class DeliveryError(ShipError):
    """The receiver could not be reached or did not acknowledge in time (worth retrying)."""


class CursorError(ShipError):
    """The cursor file cannot be used for this log (unreadable, not a cursor, another log's)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Cursor:
    """Where shipping stands: the last acknowledged record and runtime checkpoint of one log."""

    log: str
    seq: int = 0
    checkpoint: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipReport:
    """What one run shipped and where the cursor ended."""

    log: str
    agent: str
    shipped: int
    checkpoints: int
    cursor: Cursor

    def to_json(self) -> dict[str, Any]:
        return {"log": self.log, "agent": self.agent, "shipped": self.shipped, "checkpoints": self.checkpoints,
                "cursor": {"seq": self.cursor.seq, "checkpoint": self.cursor.checkpoint}}


class Transport(Protocol):
    """Delivers one batch and returns only when the receiver acknowledged all of it."""

    def send(self, events: list[bytes], key: str) -> None: ...

    def close(self) -> None: ...


def default_state(log: str | Path) -> Path:
    path = Path(log)
    return path.with_name(path.name + ".ship")


def read_cursor(state: Path, log_id: str) -> Cursor:
    """The saved cursor, or a fresh one; raises ShipError when the file is not ours or not for this log."""
    try:
        doc = json.loads(state.read_bytes())
    except FileNotFoundError:
        return Cursor(log=log_id)
    except (OSError, ValueError) as exc:
        raise CursorError(f"cannot read the shipping cursor `{state}`: {exc}") from None
    ok = isinstance(doc, dict) and all(isinstance(doc.get(k), int) and not isinstance(doc.get(k), bool)
                                       for k in ("seq", "checkpoint"))
    if not ok:
        raise CursorError(f"`{state}` is not a shipping cursor")
    if doc.get("log") != log_id:
        raise CursorError(f"the cursor `{state}` belongs to log `{doc.get('log')}`, not `{log_id}`")
    return Cursor(log=log_id, seq=doc["seq"], checkpoint=doc["checkpoint"])


def write_cursor(state: Path, cursor: Cursor) -> None:
    """Replace the cursor atomically and durably (a crash leaves the old one or the new one)."""
    tmp = state.with_name(state.name + ".tmp")
    data = json.dumps({"log": cursor.log, "seq": cursor.seq, "checkpoint": cursor.checkpoint}, sort_keys=True)
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(data + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, state)


@dataclass(frozen=True, slots=True, kw_only=True)
class Chunk:
    """The next events of a log after a cursor, and the cursor once they are delivered."""

    events: list[bytes]
    records: int
    checkpoints: int
    agent: str
    after: Cursor


def next_events(log: str | Path, cursor: Cursor, limit: int, agent: str | None = None) -> Chunk:
    """Up to ``limit`` records after ``cursor`` as events, then the runtime checkpoints they complete."""
    part = read_after(log, cursor.seq, max(1, limit), after_checkpoint=cursor.checkpoint)
    if part.log_id != cursor.log:
        raise ShipError(f"`{log}` is log `{part.log_id}`, not `{cursor.log}`")
    owner = agent or log_agent(part.meta, part.first_record, part.log_id)
    last = part.rows[-1].position if part.rows else cursor.seq
    last = last if isinstance(last, int) else cursor.seq
    # a checkpoint follows the records it covers; at the end of the log every one left goes (the runtime
    # commits each with its records, so one beyond the last record means the tail was cut)
    at_end = len(part.rows) < max(1, limit)
    cps = [(s, env) for s, env in part.checkpoints if s <= last or at_end]
    events = [dump_event(record_event(row, part.log_id, owner)) for row in part.rows]
    events += [dump_event(checkpoint_event(s, env, part.log_id, owner)) for s, env in cps]
    after = Cursor(log=cursor.log, seq=last, checkpoint=max([cursor.checkpoint] + [s for s, _ in cps]))
    return Chunk(events=events, records=len(part.rows), checkpoints=len(cps), agent=owner, after=after)


def export_events(log: str | Path, out: IO[str], *, chunk: int = 1000) -> int:
    """Write the log as CloudEvents, one JSON event per line: the events ``ship`` sends; returns records."""
    cursor = Cursor(log=read_after(log, 0, 0).log_id)
    written = 0
    while True:
        part = next_events(log, cursor, chunk)
        if not part.events:
            return written
        out.write("\n".join(e.decode("utf-8") for e in part.events) + "\n")
        written += part.records
        cursor = part.after


def ship(log: str | Path, transport: Transport, *, state: Path, batch: int = 500, follow: bool = False,
         stop: Callable[[], bool] = lambda: False, poll_s: float = 0.2) -> ShipReport:
    """Send every record after the cursor, in order, ``batch`` at a time; with ``follow``, until ``stop()``."""
    cursor = read_cursor(state, read_after(log, 0, 0).log_id)
    shipped = sent_cps = 0
    agent: str | None = None
    backoff_s = poll_s
    while True:
        part = next_events(log, cursor, batch, agent)
        agent = part.agent
        if not part.events:
            if not follow or stop():
                break
            time.sleep(poll_s)
            continue
        try:
            transport.send(part.events, part.agent)
        except DeliveryError:
            if not follow or stop():
                raise
            time.sleep(backoff_s)  # following: wait for the receiver to come back, then resend this batch
            backoff_s = min(2.0, backoff_s * 2)
            continue
        backoff_s = poll_s
        cursor = part.after
        write_cursor(state, cursor)
        shipped += part.records
        sent_cps += part.checkpoints
        if stop():
            break
    return ShipReport(log=cursor.log, agent=agent or cursor.log, shipped=shipped, checkpoints=sent_cps,
                      cursor=cursor)


# --- transports ----------------------------------------------------------------------------------


class HttpTransport:
    """CloudEvents HTTP binding, batched mode: one POST per batch on a kept-alive connection."""

    def __init__(self, url: str, *, timeout_s: float = 30.0, retries: int = 3) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ShipError(f"`{url}` is not an http://HOST:PORT/PATH address")
        self._host, self._port = parts.hostname, parts.port or 80
        self._path = parts.path or "/"
        self._timeout_s = timeout_s
        self._retries = retries
        self._conn: http.client.HTTPConnection | None = None

    def send(self, events: list[bytes], key: str) -> None:
        body = dump_batch(events)
        for attempt in range(self._retries + 1):
            try:
                if self._conn is None:
                    self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout_s)
                self._conn.request("POST", self._path, body=body, headers={"Content-Type": BATCH})
                response = self._conn.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if attempt == self._retries:
                    raise DeliveryError(f"cannot deliver to http://{self._host}:{self._port}{self._path}: {exc}") from None
                time.sleep(min(2.0, 0.1 * 2 ** attempt))
                continue
            if 200 <= response.status < 300:
                return
            raise ShipError(f"the receiver refused the batch (HTTP {response.status}): "
                            f"{answer[:200].decode('utf-8', 'replace')}")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class KafkaTransport:
    """CloudEvents Kafka binding, structured mode; the message key is the log's agent (one partition, in order)."""

    def __init__(self, brokers: str, topic: str, *, timeout_s: float = 30.0) -> None:
        from confluent_kafka import Producer

        self._topic = topic
        self._timeout_s = timeout_s
        self._producer = Producer({"bootstrap.servers": brokers, "enable.idempotence": True, "acks": "all",
                                   "linger.ms": 5, "log_level": 3})

    def send(self, events: list[bytes], key: str) -> None:
        failures: list[str] = []

        def delivered(err: Any, _msg: Any) -> None:
            if err is not None:
                failures.append(str(err))

        for value in events:
            self._producer.produce(self._topic, value=value, key=key.encode("utf-8"),
                                   headers=[("content-type", STRUCTURED.encode("ascii"))], on_delivery=delivered)
            self._producer.poll(0)
        left = self._producer.flush(self._timeout_s)
        if left or failures:
            raise DeliveryError(f"Kafka did not acknowledge {left or len(failures)} event(s): "
                            f"{failures[0] if failures else 'timed out'}")

    def close(self) -> None:
        self._producer.flush(self._timeout_s)


def open_transport(url: str) -> Transport:
    """``http://HOST:PORT/PATH`` or ``kafka://BROKER[,BROKER...]/TOPIC``; raises ShipError otherwise."""
    parts = urlsplit(url)
    if parts.scheme == "http":
        return HttpTransport(url)
    if parts.scheme == "kafka":
        topic = parts.path.strip("/")
        if not parts.netloc or not topic or "/" in topic:
            raise ShipError(f"`{url}` is not a kafka://BROKERS/TOPIC address")
        return KafkaTransport(parts.netloc, topic)
    raise ShipError(f"`{url}`: ship to http://HOST:PORT/PATH or kafka://BROKERS/TOPIC")
