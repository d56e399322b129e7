"""Kept argument values: sealed log_fields as values, other fields as digests; prune dates."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from agentos_contracts.model.manifest import BindingManifest, WorkflowPlan, WorkflowStep
from agentos_contracts.runtime.retention import log_fields, parse_before, retained_view
from agentos_contracts.seal.canonical import canonical_digest


def _m(**over: object) -> BindingManifest:
    fields: dict[str, object] = {"agentos_version": "t", "kind": "AgentContract", "name": "a", **over}
    return BindingManifest(**fields)  # type: ignore[arg-type]


def test_log_fields_come_from_the_manifest_or_the_step() -> None:
    assert log_fields(_m()) is None
    assert log_fields(_m(observability={"logFields": ["args.to", "amount"]})) == {"to", "amount"}
    plan = WorkflowPlan(steps=(WorkflowStep(id="s", agent="x", observability={"logFields": []}),))
    m = _m(kind="Workflow", workflow=plan, observability={"logFields": ["to"]})
    assert log_fields(m, "s") == frozenset() and log_fields(m, "other") is None


def test_fields_outside_log_fields_become_digests() -> None:
    kept = retained_view(frozenset({"to"}), {"to": "a@b", "body": "private", "n": [1, 2]})
    assert kept == {"to": "a@b", "body": {"sha256": canonical_digest({"v": "private"})},
                    "n": {"sha256": canonical_digest({"v": [1, 2]})}}
    assert retained_view(None, {"body": "x"}) == {"body": "x"}
    assert retained_view(frozenset(), {"bad": float("nan")}) == {"bad": {"sha256": None}}


@pytest.mark.parametrize("text, when", [
    ("2026-12-01", datetime(2026, 12, 1, tzinfo=timezone.utc)),
    ("2026-12-01T12:00:00Z", datetime(2026, 12, 1, 12, tzinfo=timezone.utc)),
    ("2026-12-01T13:00:00+01:00", datetime(2026, 12, 1, 12, tzinfo=timezone.utc)),
])
def test_before_dates(text: str, when: datetime) -> None:
    assert parse_before(text) == when


def test_bad_before_date() -> None:
    with pytest.raises(ValueError, match="not a date"):
        parse_before("last week")
