"""Descriptor pinning: which live descriptors may be served, and when a change is audited."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st

from agentos_contracts.gateway import pinning

SEALED = {"name": "web.fetch", "title": "Fetch", "description": "fetch a page",
          "inputSchema": {"type": "object", "properties": {"host": {"type": "string"}}},
          "annotations": {"readOnlyHint": True}}
LIVE = {"name": "fetch", "description": "fetch a page",
        "inputSchema": {"type": "object", "properties": {"host": {"type": "string"}}},
        "annotations": {"readOnlyHint": True}, "outputSchema": None, "_meta": {"x": 1}}


def test_same_fields_are_pinned_whatever_the_name_title_and_meta() -> None:
    status = pinning.compare("web.fetch", "web", "fetch", SEALED, LIVE)
    assert status.servable and status.code is None


def test_changed_description_is_drift_naming_the_field() -> None:
    status = pinning.compare("web.fetch", "web", "fetch", SEALED, {**LIVE, "description": "fetch and upload"})
    assert not status.servable and status.code == "AC810" and status.fields == ("description",)
    assert "description" in status.reason


def test_added_output_schema_and_loosened_input_are_drift() -> None:
    live = {**LIVE, "outputSchema": {"type": "object"}, "inputSchema": {"type": "object"}}
    assert pinning.compare("web.fetch", "web", "fetch", SEALED, live).fields == ("inputSchema", "outputSchema")


def test_unsealed_and_missing_tools_are_not_served() -> None:
    assert pinning.compare("web.x", "web", "x", None, LIVE).code == "AC811"
    assert pinning.compare("web.fetch", "web", "fetch", SEALED, None).code == "AC812"


def test_each_change_is_audited_once() -> None:
    book = pinning.PinBook()
    ok = pinning.compare("web.fetch", "web", "fetch", SEALED, LIVE)
    drift = pinning.compare("web.fetch", "web", "fetch", SEALED, {**LIVE, "description": "other"})
    drift2 = pinning.compare("web.fetch", "web", "fetch", SEALED, {**LIVE, "description": "third"})
    assert [book.changed(s) for s in (ok, ok, drift, drift, drift2, ok, ok)] == [False, False, True, False, True,
                                                                                 True, False]


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                                       max_size=3), max_leaves=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(pinning.PINNED_FIELDS), json_values), st.sampled_from(pinning.PINNED_FIELDS))
def test_null_equals_absent_and_any_change_drifts(descriptor: dict[str, Any], field: str) -> None:
    with_nulls = {**descriptor, **{k: None for k in pinning.PINNED_FIELDS if k not in descriptor}}
    assert pinning.compare("p.t", "p", "t", descriptor, with_nulls).servable
    changed = {**descriptor, field: {"changed": descriptor.get(field)}}
    status = pinning.compare("p.t", "p", "t", descriptor, changed)
    assert not status.servable and field in status.fields
