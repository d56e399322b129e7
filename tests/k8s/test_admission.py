"""Reviews decided directly (no HTTP): deadlines and abandoned reviews never leave a reservation behind."""

from __future__ import annotations

import json
import time
from pathlib import Path

from agentos_contracts.k8s.admission import Reviewer, Ticket, WebhookSettings
from agentos_contracts.k8s.webhook import parse_review
from tests.k8s.conftest import PLATFORM, REPO, example, review


def _reviewer(tmp_path: Path) -> Reviewer:
    r = Reviewer(WebhookSettings(platform=str(PLATFORM), policies=str(REPO / "contracts"),
                                 reservations=str(tmp_path / "state")))
    assert r.store is not None
    r.store.open()
    return r


def test_a_review_that_finishes_past_its_deadline_is_denied_and_keeps_nothing(tmp_path: Path) -> None:
    reviewer = _reviewer(tmp_path)
    request = parse_review(json.dumps(review(example("planner"))).encode())
    verdict = reviewer.decide(request, time.monotonic(), Ticket())  # the budget is already spent
    assert not verdict.allowed and [f.code for f in verdict.findings] == ["AC840"]
    assert reviewer.store.count() == 0


def test_an_abandoned_review_never_writes_the_store(tmp_path: Path) -> None:
    reviewer = _reviewer(tmp_path)
    request = parse_review(json.dumps(review(example("planner"))).encode())
    ticket = Ticket()
    assert ticket.abandon()  # the server answered "timed out" first
    verdict = reviewer.decide(request, time.monotonic() + 120, ticket)
    assert not verdict.allowed and reviewer.store.count() == 0
    kept = reviewer.decide(request, time.monotonic() + 120, Ticket())
    assert kept.allowed and reviewer.store.count() == 1


def test_a_name_is_held_once_across_namespaces(tmp_path: Path) -> None:
    reviewer = _reviewer(tmp_path)
    first = example("planner")
    assert reviewer.decide(parse_review(json.dumps(review(first)).encode()), time.monotonic() + 120, Ticket()).allowed
    second = example("planner")
    second["metadata"]["namespace"] = "robotics"
    verdict = reviewer.decide(parse_review(json.dumps(review(second)).encode()), time.monotonic() + 120, Ticket())
    assert not verdict.allowed and verdict.findings[0].code == "AC845"
    assert "namespace `city-planning`" in verdict.findings[0].message
