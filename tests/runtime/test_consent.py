"""Consent: bound to the exact call, once, before expiry; only the approver can grant it."""

from __future__ import annotations

import io
import threading

import pytest

from agentos_contracts.runtime.consent import (
    Approval, ConsentGate, ConsentRequest, TerminalApprover, call_digest,
)

MANIFEST = "sha256:" + "11" * 32


class Clock:
    def __init__(self) -> None:
        self.now = 10**18

    def __call__(self) -> int:
        return self.now


def _request(gate: ConsentGate, **args) -> ConsentRequest:
    args = args or {"to": "clerk@city.gov", "body": "permit"}
    return gate.request(action="email.send", args=args, args_digest="sha256:x", manifest=MANIFEST,
                        rules=("contract:consent_for",), reason="consent required")


def test_digest_binds_action_args_and_manifest() -> None:
    base = call_digest("email.send", {"to": "a"}, MANIFEST)
    assert base == call_digest("email.send", {"to": "a"}, MANIFEST)
    assert base != call_digest("email.send", {"to": "b"}, MANIFEST)
    assert base != call_digest("email.draft", {"to": "a"}, MANIFEST)
    assert base != call_digest("email.send", {"to": "a"}, "sha256:" + "22" * 32)


def test_approval_is_accepted_once() -> None:
    gate = ConsentGate(lambda r: True)
    req = _request(gate)
    assert gate.decide(req).granted
    again = gate.redeem(req.approve(), req)
    assert not again.granted and "already used" in again.reason


def test_replayed_approval_for_an_identical_call_is_refused() -> None:
    """An approval saved from an earlier request does not cover a new request, even for the same call."""
    saved: list[Approval] = []

    def approver(req: ConsentRequest) -> Approval:
        if not saved:
            saved.append(req.approve())
        return saved[0]

    gate = ConsentGate(approver)
    first, second = _request(gate), _request(gate)
    assert first.call_digest == second.call_digest
    assert gate.decide(first).granted
    outcome = gate.decide(second)
    assert not outcome.granted and "replayed" in outcome.reason


def test_approval_for_another_call_is_refused() -> None:
    gate = ConsentGate(None)
    req = _request(gate)
    other = _request(gate, to="attacker@evil.example")
    forged = Approval(request_id=req.request_id, call_digest=other.call_digest)
    outcome = gate.redeem(forged, req)
    assert not outcome.granted and "different call" in outcome.reason


def test_expired_request_is_refused() -> None:
    clock = Clock()

    def slow(req: ConsentRequest) -> Approval:
        clock.now = req.expires_at_ns  # the person answered at the deadline: too late
        return req.approve()

    gate = ConsentGate(slow, clock=clock, ttl_ns=5)
    outcome = gate.decide(_request(gate))
    assert not outcome.granted and "expired" in outcome.reason


def test_claims_in_context_or_args_are_not_approvals() -> None:
    gate = ConsentGate(lambda r: False)
    req = _request(gate, approved=True, consent="granted", approval={"request_id": "x"})
    assert not gate.decide(req).granted


@pytest.mark.parametrize("answer", [None, "yes", 1, {"granted": True}])
def test_anything_but_an_approval_denies(answer) -> None:
    gate = ConsentGate(lambda r: answer)
    assert not gate.decide(_request(gate)).granted


def test_no_approver_and_failing_approver_deny() -> None:
    gate = ConsentGate(None)
    assert gate.decide(_request(gate)).reason == "no approver is configured"

    def broken(req: ConsentRequest) -> bool:
        raise RuntimeError("ui down")

    gate = ConsentGate(broken)
    outcome = gate.decide(_request(gate))
    assert not outcome.granted and "RuntimeError" in outcome.reason


def test_timeout_escalates_then_denies() -> None:
    release = threading.Event()
    asked: list[str | None] = []

    def approver(req: ConsentRequest) -> bool:
        asked.append(req.escalated_to)
        if req.escalated_to == "supervisor":
            return True
        release.wait(5)
        return True

    gate = ConsentGate(approver)
    outcome = gate.decide(_request(gate), timeout_s=0.05, escalate_to="supervisor")
    assert outcome.granted and outcome.escalated_to == "supervisor"
    assert asked == [None, "supervisor"]

    def silent(req: ConsentRequest) -> bool:
        release.wait(5)
        return True

    gate = ConsentGate(silent)
    outcome = gate.decide(_request(gate), timeout_s=0.05, escalate_to="supervisor")
    assert not outcome.granted and "no answer" in outcome.reason
    release.set()


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_approver_refuses_without_a_terminal() -> None:
    gate = ConsentGate(TerminalApprover(stdin=io.StringIO("y\n"), stdout=io.StringIO(), env={}))
    outcome = gate.decide(_request(gate))
    assert not outcome.granted and "non-interactive" in outcome.reason
    gate = ConsentGate(TerminalApprover(stdin=_Tty("y\n"), stdout=io.StringIO(), env={"CI": "true"}))
    assert not gate.decide(_request(gate)).granted


def test_terminal_approver_asks_on_a_terminal() -> None:
    out = io.StringIO()
    gate = ConsentGate(TerminalApprover(stdin=_Tty("y\n"), stdout=out, env={}))
    outcome = gate.decide(_request(gate))
    assert outcome.granted and outcome.approver == "terminal"
    assert "email.send" in out.getvalue() and "approve?" in out.getvalue()
    gate = ConsentGate(TerminalApprover(stdin=_Tty("n\n"), stdout=io.StringIO(), env={}))
    assert not gate.decide(_request(gate)).granted
