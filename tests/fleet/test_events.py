"""Audit records as CloudEvents: the SDK parses them, and the chain re-verifies from the events alone."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path
from typing import Any

from cloudevents.core.formats.json import JSONFormat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.fleet.events import EventError, Received, log_agent, read_event, record_event
from agentos_contracts.fleet.ship import export_events
from agentos_contracts.runtime import chain
from agentos_contracts.runtime.audit import AuditLog
from agentos_contracts.seal.canonical import canonicalize


def _export(log: Path) -> list[str]:
    out = io.StringIO()
    export_events(log, out)
    return out.getvalue().splitlines()


def _chain_from_events(lines: list[str]) -> chain.ChainReport:
    """Re-verify a chain from parsed CloudEvents only: ``data`` is the record, ``audithash`` its stored hash."""
    events = [JSONFormat().read(None, line) for line in lines]
    records = [e for e in events if e.get_type() != "dev.agentos.audit.checkpoint"]
    log_id = records[0].get_extension("auditlog")
    rows = [chain.Row(position=None, body=canonicalize(e.get_data()), hash=e.get_extension("audithash"))
            for e in records]
    return chain.walk(rows, log_id)


def test_exported_events_parse_with_the_sdk_and_reverify_the_chain(tmp_path: Path, fleet: Any) -> None:
    log = fleet.run_agent("permit-helper", 12)
    result = fleet.agentos("audit", "export", str(log), "--format", "cloudevents")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    events = [JSONFormat().read(None, line) for line in lines]
    records = [e for e in events if e.get_type() != "dev.agentos.audit.checkpoint"]
    assert len(records) == 14  # agent.started, 12 decisions, agent.completed
    first = records[0]
    assert first.get_specversion() == "1.0"
    assert first.get_type() == "dev.agentos.audit.agent.started"
    assert first.get_subject() == "permit-helper"
    assert first.get_source() == "urn:agentos:audit:" + first.get_extension("auditlog")
    assert first.get_id() == first.get_data()["event_id"]
    assert first.get_time() is not None
    assert len({e.get_id() for e in events}) == len(events)
    assert any(e.get_type() == "dev.agentos.audit.checkpoint" for e in events)  # the runtime signed checkpoints
    report = _chain_from_events(lines)
    assert report.problems == [] and report.count == 14
    for e in records:  # today's records name their schema, trace and span: receivers get W3C trace context
        data = e.get_data()
        assert e.get_extension("dataschema") == f"urn:agentos:audit-record:{data['schema_version']}"
        if data.get("span_id"):
            assert e.get_extension("traceparent") == f"00-{data['trace_id']}-{data['span_id']}-01"
    assert any(e.get_extension("traceparent") for e in records)


def test_export_is_stable_bytes(tmp_path: Path, fleet: Any) -> None:
    log = fleet.run_agent("permit-helper", 3)
    assert _export(log) == _export(log)


def test_an_edited_event_no_longer_reverifies(tmp_path: Path, fleet: Any) -> None:
    log = fleet.run_agent("permit-helper", 5)
    lines = _export(log)
    doc = json.loads(lines[3])
    doc["data"]["decision"] = "allow" if doc["data"].get("decision") != "allow" else "deny"
    lines[3] = json.dumps(doc)
    problems = _chain_from_events(lines).problems
    assert [p.kind for p in problems] == ["modified"] and problems[0].seq == 4


def test_a_record_without_agent_takes_the_logs_agent(tmp_path: Path) -> None:
    """Older records (no agent field) still map: the subject comes from the log's first record."""
    with AuditLog.open(tmp_path / "old.db") as log:
        log.append({"type": "agent.started", "agent": "legacy-bot"})
        log.append({"type": "tool.allowed", "action": "web.fetch"})
    conn = sqlite3.connect(tmp_path / "old.db")
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    rows = [chain.Row(position=s, body=b, hash=h) for s, b, h in conn.execute("SELECT seq, body, hash FROM records")]
    agent = log_agent(meta, rows[0].body, meta["log"])
    event = record_event(rows[1], meta["log"], agent)
    assert agent == "legacy-bot" and event["subject"] == "legacy-bot" and event["auditagent"] == "legacy-bot"
    assert "traceparent" not in event and event["dataschema"] == "urn:agentos:audit-record:1"


def test_trace_and_span_become_a_traceparent() -> None:
    record = {"type": "tool.allowed", "seq": 1, "event_id": "e1", "schema_version": 2,
              "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"}
    row = chain.Row(position=1, body=canonicalize(record), hash="sha256:" + "0" * 64)
    event = record_event(row, "L", "a")
    assert event["traceparent"] == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert event["dataschema"] == "urn:agentos:audit-record:2"
    assert "traceparent" not in record_event(chain.Row(position=1, body=canonicalize({**record, "span_id": "x"}),
                                                       hash=""), "L", "a")


def test_malformed_events_are_refused_with_the_attribute_named() -> None:
    base = {"specversion": "1.0", "id": "x", "source": "urn:agentos:audit:L", "type": "dev.agentos.audit.tool.allowed",
            "auditlog": "L", "auditagent": "a", "audithash": "sha256:00", "data": {"seq": 1}}
    for change, word in (({"specversion": "0.3"}, "specversion"), ({"id": ""}, "id"),
                         ({"source": "urn:agentos:audit:other"}, "source"), ({"data": [1]}, "data")):
        try:
            read_event({**base, **change})
        except EventError as exc:
            assert word in str(exc)
        else:
            raise AssertionError(change)


_json = st.recursive(st.none() | st.booleans() | st.integers(-2**53 + 1, 2**53 - 1) | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                  max_size=3), max_leaves=8)


@settings(max_examples=150, deadline=None)
@given(extra=st.dictionaries(st.sampled_from(["detail", "context", "reason", "usage"]), _json, max_size=4),
       seq=st.integers(1, 10**6))
def test_any_record_survives_the_round_trip_with_its_hash(extra: dict[str, Any], seq: int) -> None:
    """Whatever a record holds (unicode keys, nesting), the receiver recomputes exactly the stored hash."""
    record = {"type": "tool.allowed", "seq": seq, "prev": "sha256:" + "0" * 64, "event_id": f"e{seq}", **extra}
    body = canonicalize(record)
    row = chain.Row(position=seq, body=body, hash="sha256:" + __import__("hashlib").sha256(body).hexdigest())
    event = json.loads(json.dumps(record_event(row, "L", "a")))
    got = read_event(event)
    assert isinstance(got, Received)
    assert got.body == body and got.hash == row.hash == got.claimed_hash and got.seq == seq


# integers past 64 bits that are exact doubles (RFC 8785 numbers are IEEE 754 doubles)
_wide = st.recursive(st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.integers(-2**16, 2**16).map(
                         lambda i: i * 2**60)
                     | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                  max_size=3), max_leaves=8)


def _record_event(record: dict[str, Any], claimed: str) -> dict[str, Any]:
    return {"specversion": "1.0", "id": "e1", "source": "urn:agentos:audit:L", "type": "dev.agentos.audit.x",
            "auditlog": "L", "auditagent": "a", "audithash": claimed, "data": record}


@settings(max_examples=200, deadline=None)
@given(extra=st.dictionaries(st.text(min_size=1, max_size=6), _wide, max_size=4))
def test_the_receivers_hash_and_leaf_are_those_of_the_canonical_bytes(extra: dict[str, Any]) -> None:
    """Floats, integers past 64 bits, non-ASCII keys: the fast encoding is kept only when it is RFC 8785's."""
    import hashlib

    from agentos_contracts.fleet import merkle

    record = {**extra, "seq": 3, "prev": "sha256:" + "1" * 64}
    body = canonicalize(record)
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    for claimed in (digest, "sha256:" + "0" * 64):  # as stored, and a claim the record does not meet
        got = read_event(json.loads(json.dumps(_record_event(record, claimed))))
        assert isinstance(got, Received)
        assert got.body == body and got.hash == digest and got.claimed_hash == claimed
        assert got.leaf == merkle.record_leaf_hash(digest) and (got.seq, got.prev) == (3, record["prev"])


def test_a_record_whose_fast_spelling_differs_is_hashed_canonically() -> None:
    """orjson writes 1e+21 as 1e21 and big integers not at all: the canonical bytes decide, not the guess."""
    import hashlib

    for record in ({"seq": 1, "x": 1e21}, {"seq": 1, "x": 2**65}, {"seq": 1, "\u00e9t\u00e9": -0.0, "y": 5e-324}):
        body = canonicalize(record)
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        got = read_event(_record_event(record, digest))
        assert isinstance(got, Received) and got.body == body and got.hash == digest == got.claimed_hash
    with pytest.raises(EventError, match="no canonical form"):  # not a double: no RFC 8785 bytes to hash
        read_event(_record_event({"seq": 1, "x": 2**53 + 1}, "sha256:" + "0" * 64))
