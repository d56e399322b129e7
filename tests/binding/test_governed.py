"""Admission's governance checks on plain values: MCP hints, consent gates, uncatalogued actions, namespaces."""

from __future__ import annotations

from typing import Any

import pytest

from agentos_contracts.binding.governed import (
    consent_targets, high_risk_reasons, high_risk_why, risky_tools, shared_namespaces, uncatalogued_reasons,
)


@pytest.mark.parametrize("annotations, risky", [
    (None, True),                                              # MCP defaults: destructive, open world
    ({}, True),
    ({"readOnlyHint": True}, False),                          # the catalog marks its safe tools
    ({"readOnlyHint": True, "openWorldHint": True}, False),   # reading the web is not high-risk
    ({"readOnlyHint": True, "destructiveHint": True}, True),  # an explicit destructive hint is taken at its word
    ({"destructiveHint": False}, True),                       # open world by default
    ({"destructiveHint": False, "openWorldHint": False}, False),
    ({"destructiveHint": True, "openWorldHint": False}, True),
    ({"readOnlyHint": "yes"}, True),                          # not a boolean true: not read-only
    ([1, 2], True),                                           # not an object: no hints, MCP defaults
])
def test_high_risk_by_mcp_annotations(annotations: Any, risky: bool) -> None:
    assert (high_risk_why(annotations) is not None) is risky


def test_high_risk_grants_need_a_covering_gate() -> None:
    risky = risky_tools([{"name": "payment.charge", "annotations": {"destructiveHint": True}},
                         {"name": "payment.refund"}, {"name": "web.fetch", "annotations": {"readOnlyHint": True}}])
    assert set(risky) == {"payment.charge", "payment.refund"}
    found = high_risk_reasons(["web.fetch", "payment.*"], ["payment.refund"], risky, "a")
    assert [(r.code, r.pointer) for r in found] == [("AC539", "/capabilities/1")]
    assert "`payment.charge` is high-risk by its catalog annotations (destructiveHint: true)" in found[0].message
    assert high_risk_reasons(["payment.*"], ["payment.*"], risky, "a") == []
    assert high_risk_reasons(["payment.charge"], ["*"], risky, "a") == []
    assert [r.code for r in high_risk_reasons(["payment.charge"], [], risky, "a", code="AC150")] == ["AC150"]


def test_only_unconditional_consent_rules_gate() -> None:
    doc = {"rules": [{"effect": "consent", "targets": ["email.send"], "condition": None},
                     {"effect": "consent", "targets": ["fs.write"], "condition": {"op": "=="}},
                     {"effect": "allow", "targets": ["x"], "condition": None},
                     {"effect": "consent", "targets": [], "condition": None}]}
    assert consent_targets(doc) == ("email.send", "*")
    assert consent_targets(None) == () and consent_targets({"rules": "x"}) == ()


def test_uncatalogued_actions_unless_listed() -> None:
    found = uncatalogued_reasons(["web.fetch", "calendar.addEvent", "summarize", "mail.*", "notes.*"],
                                 ["web.fetch", "notes.read"], ["summarize"], "a")
    assert [(r.pointer, r.message) for r in found] == [
        ("/capabilities/1", "a: capability `calendar.addEvent` names no catalog tool, so its arguments cannot be checked"),
        ("/capabilities/3", "a: capability `mail.*` names no catalog tool, so its arguments cannot be checked")]


def test_a_namespace_shared_by_two_tenants() -> None:
    shared = shared_namespaces([("a", "clinic", "notes"), ("b", "clinic", "notes"), ("c", "city", "notes"),
                                ("d", "city", "plans"), ("e", None, "plans"), ("f", "x", None)])
    assert shared == {"notes": [("a", "clinic"), ("b", "clinic"), ("c", "city")],
                      "plans": [("d", "city"), ("e", "(none: e)")]}


def test_consent_only_grants_are_checked_too() -> None:
    found = uncatalogued_reasons(["web.fetch"], ["web.fetch"], [], "a", consent_for=["web.fetch", "wire.money"])
    assert [(r.pointer, r.code) for r in found] == [("/security/consent_for/1", "AC540")]
