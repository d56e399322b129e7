"""The pure half: AdmissionReview parsing, responses, and the API server's warning limits."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.k8s.webhook import (WARNING_MAX, WARNINGS_TOTAL, BadReview, Finding, Verdict, parse_review,
                                           respond, warning_lines)


def _body(**request: object) -> bytes:
    base = {"uid": "u-1", "kind": {"group": "agentos.dev", "version": "v1alpha1", "kind": "AgentContract"},
            "operation": "CREATE", "name": "a", "namespace": "ns", "object": {"metadata": {"name": "a"}}}
    base.update(request)
    return json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": base}).encode()


def test_parse_reads_what_a_decision_needs() -> None:
    r = parse_review(_body(dryRun=True))
    assert (r.uid, r.group, r.kind, r.operation, r.name, r.namespace, r.dry_run) == \
        ("u-1", "agentos.dev", "AgentContract", "CREATE", "a", "ns", True)


@pytest.mark.parametrize("body,words", [
    (b"", "not JSON"), (b"[1]", "not a JSON object"),
    (json.dumps({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview"}).encode(), "admission.k8s.io/v1"),
    (_body(uid=""), "request.uid"), (_body(operation="PATCH"), "request.operation"),
    (_body(object=None), "request.object"), (_body(object=[1]), "not an object"), (_body(kind="x"), "request.kind"),
])
def test_malformed_reviews_say_what_was_expected(body: bytes, words: str) -> None:
    with pytest.raises(BadReview, match=words.replace(".", r"\.")):
        parse_review(body)


@given(st.binary(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_bytes_parse_or_raise_bad_review(body: bytes) -> None:
    try:
        parse_review(body)
    except BadReview:
        pass


def test_denial_lists_every_error_with_code_and_place() -> None:
    req = parse_review(_body())
    verdict = Verdict(allowed=False, reason="rejected", findings=(
        Finding(severity="error", code="AC511", message="a: response time 10.5 ms > deadline 10 ms", path="/spec/class/slo"),
        Finding(severity="warning", code="AC530", message="fallback dropped")))
    resp = respond(req, verdict, "AgentContract `a`")["response"]
    assert resp["uid"] == "u-1" and resp["allowed"] is False and resp["status"]["code"] == 403
    assert resp["status"]["message"].splitlines() == [
        "agentos denied AgentContract `a`: rejected",
        "error[AC511] /spec/class/slo: a: response time 10.5 ms > deadline 10 ms"]
    assert resp["warnings"] == ["warning[AC530]: fallback dropped"]


def test_warnings_respect_the_api_server_limits() -> None:
    many = tuple(Finding(severity="warning", code="AC119", message="x" * 400 + f" {i}") for i in range(40))
    lines = warning_lines(many)
    assert all(len(line) <= WARNING_MAX for line in lines)
    assert sum(len(line) for line in lines) <= WARNINGS_TOTAL
    assert lines[-1].endswith("run `agentos validate` on the file") and "more agentos warnings" in lines[-1]
    assert all("\n" not in line for line in warning_lines((Finding(severity="warning", code="AC1", message="a\nb"),)))
