"""Format 2's event keys: 16 bytes for 32 lowercase hex digits, text otherwise, and exact either way."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from agentos_contracts.fleet.collect import Collector
from agentos_contracts.fleet.layout import event_id_of, event_key
from agentos_contracts.seal import keys

HEX = "0123456789abcdef"
ids = st.one_of(st.text(max_size=40),
                st.text(alphabet=HEX, min_size=30, max_size=34),
                st.text(alphabet=HEX + "ABCDEF \t", min_size=32, max_size=32),
                st.binary(min_size=16, max_size=16).map(bytes.hex),
                st.binary(min_size=16, max_size=16).map(lambda b: b.hex().upper()))


@given(ids)
def test_an_event_key_gives_back_its_id_and_is_bytes_only_for_lowercase_hex(event_id: str) -> None:
    key = event_key(event_id)
    assert event_id_of(key) == event_id
    lowercase_hex = len(event_id) == 32 and all(c in HEX for c in event_id)
    assert isinstance(key, bytearray) == lowercase_hex
    assert not isinstance(key, bytearray) or len(key) == 16


@given(st.lists(ids, min_size=2, max_size=8))
def test_the_unique_index_sees_two_keys_as_one_exactly_when_the_ids_are_one(event_ids: list[str]) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (event_key BLOB NOT NULL UNIQUE)")
    stored = set()
    for event_id in event_ids:
        try:
            conn.execute("INSERT INTO t VALUES (?)", (event_key(event_id),))
            stored.add(event_id)
        except sqlite3.IntegrityError:
            assert event_id in stored  # refused only as a repeat
    assert stored == set(event_ids)
    assert sorted(event_id_of(k) for (k,) in conn.execute("SELECT event_key FROM t")) == sorted(stored)


def test_a_collector_stores_hex_ids_as_16_bytes_and_other_ids_as_text(tmp_path: Path) -> None:
    events = []
    for seq, event_id in ((1, "0123456789abcdef0123456789abcdef"), (2, "0123456789ABCDEF0123456789ABCDEF"),
                          (3, "step-3")):
        record = {"type": "tool.allowed", "agent": "a", "seq": seq, "prev": "x", "event_id": event_id}
        events.append({"specversion": "1.0", "id": event_id, "source": "urn:agentos:audit:L",
                       "type": "dev.agentos.audit.x", "auditlog": "L", "auditagent": "a", "audithash": "sha256:00",
                       "data": record})
    with Collector.open(tmp_path / "store", keys.generate_private_key()) as collector:
        assert collector.accept(events).accepted == 3
    conn = sqlite3.connect(tmp_path / "store" / "fleet.db")
    assert [r for r in conn.execute("SELECT typeof(event_key), length(event_key) FROM leaves ORDER BY idx")] == \
        [("blob", 16), ("text", 32), ("text", 6)]
