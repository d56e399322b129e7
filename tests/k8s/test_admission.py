"""Reviews decided directly (no HTTP): deadlines and abandoned reviews never leave a reservation behind."""

from __future__ import annotations

import base64
import copy
import json
import re
import time
from pathlib import Path
from typing import Any

from agentos_contracts.documents.loader import load_text
from agentos_contracts.k8s.admission import Reviewer, Ticket, WebhookSettings
from agentos_contracts.k8s.resources import to_resource
from agentos_contracts.k8s.webhook import Verdict, parse_review
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


def _workflow() -> dict[str, Any]:
    path = REPO / "contracts" / "workflows" / "city-permit-assistant.yaml"
    return to_resource(load_text(str(path), path.read_text()).documents[0].data, "city-planning")


def _pair(tmp_path: Path, name: str, *, warm: bool) -> Reviewer:
    r = Reviewer(WebhookSettings(platform=str(PLATFORM), policies=str(REPO / "contracts"),
                                 reservations=str(tmp_path / name), warm=warm))
    assert r.store is not None
    r.store.open()
    r.warm_up()
    return r


def _said(reviewer: Reviewer, verdict: Verdict) -> tuple[Any, ...]:
    """The verdict as the API server sees it, with the store's own folder named alike."""
    assert reviewer.store is not None
    folder = str(reviewer.store.folder)
    return (verdict.allowed, verdict.reason,
            tuple((f.severity, f.code, f.path, f.message.replace(folder, "STORE")) for f in verdict.findings))


def _stored(reviewer: Reviewer) -> dict[str, bytes]:
    """The store's files; a manifest's subjects name the review's temporary file and the store, named alike."""
    assert reviewer.store is not None
    out = {}
    for p in sorted(reviewer.store.folder.glob("*.json")):
        data = p.read_bytes()
        if p.name.endswith(".manifest.json"):
            payload = base64.b64decode(json.loads(data)["payload"])
            data = re.sub(rb"agentos-review-[^/]+/", b"REVIEW/", payload).replace(str(reviewer.store.folder).encode(), b"STORE")
        out[p.name] = data
    return out


def test_the_warm_session_decides_every_review_as_the_full_admit_does(tmp_path: Path) -> None:
    """Allowed, denied (invalid, unschedulable HRT, capacity full), workflows, update, delete and re-create."""
    warm, full = _pair(tmp_path, "warm", warm=True), _pair(tmp_path, "full", warm=False)
    guard = example("safety-kill-switch")
    guard["spec"]["class"]["slo"] = {"deadline_ms": 10, "period_ms": 10, "wcet_ms": 6}  # one per core
    heavy = example("safety-kill-switch")
    heavy["metadata"]["name"] = "kill-switch-heavy"
    heavy["spec"]["class"]["slo"] = {"deadline_ms": 10, "period_ms": 10, "wcet_ms": 8, "jitter_ms": 2.5}
    invalid = example("doc-rag-planner")
    invalid["spec"]["class"]["slo"]["onset_ms"] = 5000
    steps = [review(_workflow())]  # its step agents are not admitted yet
    steps += [review(example("planner"), dry_run=True), review(example("planner")), review(example("planner"), "UPDATE"),
              review(heavy), review(invalid)]
    for i in range(6):  # four edge cores: the fifth and sixth are refused
        obj = copy.deepcopy(guard)
        obj["metadata"]["name"] = f"guard-{i}"
        steps.append(review(obj))
    steps += [review(example("browser-agent")), review(example("doc-rag-planner")), review(_workflow(), dry_run=True),
              review(_workflow()), review(_workflow(), "UPDATE"), review(_workflow(), "DELETE"),
              review(example("planner"), "DELETE"), review(example("planner")), review(_workflow())]
    said = []
    for body in steps:
        request = parse_review(json.dumps(body).encode())
        one = warm.decide(request, time.monotonic() + 120, Ticket())
        other = full.decide(request, time.monotonic() + 120, Ticket())
        assert _said(warm, one) == _said(full, other), body["request"]["name"]
        assert _stored(warm) == _stored(full)
        said.append((one.allowed, {f.code for f in one.findings}))
    assert said[0] == (False, {"AC208"}) and said[1][0] and said[2][0] and said[3][0]
    assert said[4][0] is False and "AC511" in said[4][1]
    assert said[5][0] is False and "AC903" in said[5][1]
    assert [a for a, _ in said[6:12]] == [True] * 4 + [False] * 2
    assert all(a for a, _ in said[12:]), said[12:]
    assert warm.store is not None and warm.store.count() == 8  # planner, browser, rag, four guards, the workflow


def test_a_review_sees_what_another_replica_wrote_to_the_shared_store(tmp_path: Path) -> None:
    one, two = _pair(tmp_path, "shared", warm=True), _pair(tmp_path, "shared", warm=True)
    guard = example("safety-kill-switch")
    guard["spec"]["class"]["slo"] = {"deadline_ms": 10, "period_ms": 10, "wcet_ms": 6}
    answers = []
    for i in range(5):  # the replicas take turns; each warm session must count the other's reservations
        obj = copy.deepcopy(guard)
        obj["metadata"]["name"] = f"guard-{i}"
        answers.append((one if i % 2 else two).decide(parse_review(json.dumps(review(obj)).encode()),
                                                      time.monotonic() + 120, Ticket()).allowed)
    assert answers == [True] * 4 + [False]
    gone = copy.deepcopy(guard)
    gone["metadata"]["name"] = "guard-0"
    assert one.decide(parse_review(json.dumps(review(gone, "DELETE")).encode()), time.monotonic() + 120, Ticket()).allowed
    last = copy.deepcopy(guard)
    last["metadata"]["name"] = "guard-4"
    assert two.decide(parse_review(json.dumps(review(last)).encode()), time.monotonic() + 120, Ticket()).allowed


def test_a_store_holding_an_unusable_manifest_is_reported_as_the_full_admit_reports_it(tmp_path: Path) -> None:
    warm, full = _pair(tmp_path, "warm", warm=True), _pair(tmp_path, "full", warm=False)
    body = review(example("planner"), dry_run=True)
    for r in (warm, full):
        assert r.store is not None
        (r.store.folder / "AgentContract.city-planning.broken.manifest.json").write_text("{not a manifest")
    request = parse_review(json.dumps(body).encode())
    one = warm.decide(request, time.monotonic() + 120, Ticket())
    other = full.decide(request, time.monotonic() + 120, Ticket())
    assert _said(warm, one) == _said(full, other)
    assert not one.allowed and [f.code for f in one.findings] == ["AC518"]
