"""The Runtime end to end on sealed manifests: loading, deciding, guarded calls, records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentos_contracts.model.manifest import Fallback
from agentos_contracts.runtime import ManifestRefused, PolicyDenied, Runtime, audit
from agentos_contracts.runtime.logstore import iter_records, read_log
from agentos_contracts.seal import dsse, keys
from agentos_contracts.seal.canonical import canonicalize
from agentos_contracts.seal.statement import PAYLOAD_TYPE, make_statement, make_subject


def _types(log: Path) -> list[str]:
    return [r["type"] for r in iter_records(read_log(log))]


def _records(log: Path) -> list[dict]:
    return list(iter_records(read_log(log)))


def test_signed_manifest_loads_and_is_recorded(sealer, descriptors, tmp_path: Path) -> None:
    log = tmp_path / "audit.db"
    with Runtime.load(sealer.seal(), sealer.pub, audit=log, tools=descriptors) as rt:
        assert rt.manifest.name == "permit-helper"
        assert rt.digest.startswith("sha256:")
    records = _records(log)
    assert [r["type"] for r in records] == ["agent.started", "agent.completed"]
    assert all(r["manifest"] == records[0]["manifest"] and r["tenant"] == "city" for r in records)
    assert audit.verify(log).ok


def test_unsigned_manifest_is_refused_unless_allowed(sealer, tmp_path: Path) -> None:
    path = sealer.seal(signed=False)
    with pytest.raises(ManifestRefused) as info:
        Runtime.load(path, sealer.pub, audit=tmp_path / "a.db")
    assert info.value.problems[0][0] == "AC604"
    assert not (tmp_path / "a.db").exists()  # nothing opened for a refused manifest
    Runtime.load(path, None, audit=tmp_path / "a.db", allow_unsigned=True).close()


def test_wrong_key_is_refused(sealer, tmp_path: Path) -> None:
    path = sealer.seal(key=keys.generate_private_key())
    with pytest.raises(ManifestRefused) as info:
        Runtime.load(path, sealer.pub, audit=tmp_path / "a.db")
    assert info.value.problems[0][0] == "AC605"


def test_every_single_byte_change_of_the_payload_is_refused(sealer, tmp_path: Path) -> None:
    path = sealer.seal()
    doc = json.loads(path.read_bytes())
    payload = dsse.b64decode(doc["payload"])
    for offset in range(0, len(payload), max(1, len(payload) // 40)):
        changed = bytearray(payload)
        changed[offset] ^= 0x01
        doc2 = dict(doc, payload=dsse.b64encode(bytes(changed)))
        bad = tmp_path / "bad.json"
        bad.write_bytes(canonicalize(doc2))
        with pytest.raises(ManifestRefused):
            Runtime.load(bad, sealer.pub, audit=tmp_path / "a.db")


def test_unknown_format_version_is_refused(sealer, tmp_path: Path) -> None:
    predicate = sealer.predicate().to_json()
    predicate["formatVersion"] = 2
    statement = make_statement(predicate, [make_subject("contract:x", b"x")])
    env = dsse.sign(PAYLOAD_TYPE, canonicalize(statement), [sealer.key])
    path = tmp_path / "v2.json"
    path.write_bytes(dsse.dump(env))
    with pytest.raises(ManifestRefused) as info:
        Runtime.load(path, sealer.pub, audit=tmp_path / "a.db")
    assert "AC609" in [code for code, _ in info.value.problems]


def test_unenforceable_budget_is_refused(sealer, tmp_path: Path) -> None:
    with pytest.raises(ManifestRefused, match="unknown budget"):
        Runtime.load(sealer.seal(budgets={"gpu_hours": 3}), sealer.pub, audit=tmp_path / "a.db")
    assert not (tmp_path / "a.db").exists()


def test_decisions_without_a_policy_follow_the_ceiling(sealer, descriptors, tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    with Runtime.load(sealer.seal(), sealer.pub, audit=log, tools=descriptors) as rt:
        assert rt.authorize("web.fetch", {}, {"host": "city.gov"}).effect == "allow"
        assert rt.authorize("summarize").effect == "allow"
        out = rt.authorize("payment.charge", {}, {"amount": 5})
        assert (out.effect, out.stage, out.rules) == ("deny", "ceiling", ("contract:capabilities",))
        bad = rt.authorize("web.fetch", {}, {"host": 7, "secret": "hunter2"})
        assert (bad.effect, bad.stage) == ("deny", "schema")
        assert "hunter2" not in bad.reason and "7" not in bad.reason.replace("sha256", "")
        consent = rt.authorize("email.send", {}, {"to": "a@b", "body": "x"})
        assert (consent.effect, consent.rules) == ("consent", ("contract:consent_for",))
    assert _types(log)[1:-1] == ["tool.allowed", "tool.allowed", "tool.denied", "constraint.failed",
                                 "consent.required"]
    rec = _records(log)[1]
    assert rec["args_digest"].startswith("sha256:") and "hunter2" not in read_log(log).rows[4].body.decode()


def test_bound_tool_without_its_descriptor_is_denied(sealer, tmp_path: Path) -> None:
    wrong = {"name": "web.fetch", "inputSchema": {"type": "object"}}  # looser, and not the pinned one
    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db", tools=[wrong]) as rt:
        out = rt.authorize("web.fetch", {}, {"host": "city.gov"})
        assert out.effect == "deny" and "no MCP input schema" in out.reason


@pytest.mark.parametrize("action, context, args", [
    ("", {}, {}),
    ("web..fetch", {}, {}),
    (None, {}, {}),
    ("web.fetch", {}, ["host"]),
    ("web.fetch", {}, {"host": float("nan")}),
    ("web.fetch", "not-a-dict", {"host": "x"}),
    ("web.fetch", {}, {"host": object()}),
])
def test_fail_closed_probes_deny(sealer, descriptors, tmp_path: Path, action, context, args) -> None:
    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db", tools=descriptors) as rt:
        assert rt.authorize(action, context, args).effect == "deny"


def test_a_policy_that_raises_denies(sealer, tmp_path: Path) -> None:
    class Broken:
        def decide(self, action, context, args=None):
            raise RuntimeError("evaluator bug")

    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db", tools=[]) as rt:
        rt.authorizer.policy = Broken()
        out = rt.authorize("summarize", {}, {})
        assert (out.effect, out.stage) == ("deny", "error") and "RuntimeError" in out.reason


def test_an_audit_failure_denies(sealer, tmp_path: Path) -> None:
    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db") as rt:
        real = rt.log.append

        def broken(*a, **k):
            raise OSError("disk full")

        rt.log.append = broken  # type: ignore[method-assign]
        out = rt.authorize("summarize")
        rt.log.append = real  # type: ignore[method-assign]
        assert out.effect == "deny" and "could not record" in out.reason


def test_guarded_tool_never_runs_when_denied(sealer, descriptors, tmp_path: Path) -> None:
    ran: list[str] = []
    log = tmp_path / "a.db"
    with Runtime.load(sealer.seal(), sealer.pub, audit=log, tools=descriptors) as rt:

        @rt.tool("fs.write")
        def write(path: str, data: str) -> None:
            ran.append(path)

        @rt.tool("web.fetch")
        def fetch(host: str, path: str = "/") -> str:
            ran.append(host)
            return f"<html>{host}{path}</html>"

        with pytest.raises(PolicyDenied) as info:
            write("/etc/passwd", "x")
        assert "outside the contract's capabilities" in info.value.reason
        assert fetch("city.gov") == "<html>city.gov/</html>"
        with pytest.raises(PolicyDenied):
            fetch(host=12)
    assert ran == ["city.gov"]
    assert _types(log)[1:-1] == ["tool.denied", "tool.allowed", "tool.completed", "constraint.failed"]


def test_tool_failure_is_recorded_and_raised(sealer, tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    with Runtime.load(sealer.seal(), sealer.pub, audit=log) as rt:

        @rt.tool("summarize")
        def summarize(text: str) -> str:
            raise ValueError("model offline")

        with pytest.raises(ValueError):
            summarize("abc")
    rec = _records(log)[-2]
    assert (rec["type"], rec["error"], rec["outcome"]) == ("tool.failed", "ValueError", "error")


def test_consent_gate_runs_the_call_once_approved(sealer, descriptors, tmp_path: Path) -> None:
    asked = []

    def approver(req):
        asked.append(req)
        return req.approve("clerk")

    sent = []
    log = tmp_path / "a.db"
    with Runtime.load(sealer.seal(), sealer.pub, audit=log, tools=descriptors, approver=approver) as rt:

        @rt.tool("email.send")
        def send(to: str, body: str) -> str:
            sent.append(to)
            return "queued"

        assert send("clerk@city.gov", "permit ready") == "queued"
    assert sent == ["clerk@city.gov"] and len(asked) == 1
    assert _types(log)[1:-1] == ["consent.required", "consent.requested", "consent.granted", "tool.completed"]
    granted = _records(log)[3]
    assert granted["approver"] == "clerk" and granted["call_digest"] == asked[0].call_digest


def test_consent_claimed_in_context_or_args_is_ignored(sealer, descriptors, tmp_path: Path) -> None:
    sent = []
    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db", tools=descriptors) as rt:
        with pytest.raises(PolicyDenied, match="no approver"):
            rt.call("email.send", {"to": "x", "body": "y", "approved": True}, lambda **a: sent.append(a),
                    context={"consent": "granted", "approval": {"granted": True}, "approved": True})
    assert sent == []


def test_budgets_deny_before_consent_is_asked(sealer, descriptors, tmp_path: Path) -> None:
    asked = []
    with Runtime.load(sealer.seal(budgets={"calls": 2}), sealer.pub, audit=tmp_path / "a.db", tools=descriptors,
                      approver=lambda r: asked.append(r) or True) as rt:
        assert rt.authorize("summarize").allowed
        assert rt.authorize("summarize").allowed
        with pytest.raises(PolicyDenied, match="budget `calls` exhausted"):
            rt.call("email.send", {"to": "x", "body": "y"}, lambda **a: None)
    assert asked == []


def test_usage_is_charged_against_token_budgets(sealer, tmp_path: Path) -> None:
    with Runtime.load(sealer.seal(budgets={"tokens": 100}), sealer.pub, audit=tmp_path / "a.db") as rt:
        rt.call("summarize", {"text": "a"}, lambda text: "s", usage=lambda result: {"tokens": 60})
        out = rt.authorize("summarize", tokens=50)
        assert out.effect == "deny" and "tokens" in out.reason


def test_context_block_and_signals(sealer, tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    fallbacks = (Fallback(when="bandwidth_low", substitute={"model": "asr_local"}),)
    with Runtime.load(sealer.seal(fallbacks=fallbacks, binding_mode="flexible"), sealer.pub, audit=log) as rt:
        with rt.context(user={"roles": ["clerk"]}):
            rt.authorize("summarize")
        assert rt.report_signal("sunny") == []
        assert [f.when for f in rt.report_signal("bandwidth_low")] == ["bandwidth_low"]
        assert rt.report_signal("bandwidth_low") == []  # once
        assert rt.substitutions() == {"model": "asr_local"}
    recs = _records(log)
    assert recs[1]["context"] == {"user": {"roles": ["clerk"]}}
    assert [r for r in recs if r["type"] == "fallback.activated"][0]["fallback"] == {"model": "asr_local"}


def test_checkpoint_key_signs_the_log(sealer, tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    with Runtime.load(sealer.seal(), sealer.pub, audit=log, checkpoint_key=sealer.private) as rt:
        rt.authorize("summarize")
    report = audit.verify(log, [keys.read_public_key(sealer.pub)])
    assert report.ok and report.attested_seq == report.last_seq == 3


def test_second_runtime_on_the_same_log_is_refused(sealer, tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    with Runtime.load(sealer.seal(), sealer.pub, audit=log):
        with pytest.raises(audit.AuditLocked):
            Runtime.load(sealer.seal(), sealer.pub, audit=log)


def test_a_replayed_approval_is_refused_by_the_runtime(sealer, descriptors, tmp_path: Path) -> None:
    """An approver (or attacker) handing back the approval of an earlier, identical call gets nothing."""
    saved = []

    def approver(req):
        if not saved:
            saved.append(req.approve("clerk"))
        return saved[0]

    sent = []
    log = tmp_path / "a.db"
    with Runtime.load(sealer.seal(), sealer.pub, audit=log, tools=descriptors, approver=approver) as rt:
        args = {"to": "clerk@city.gov", "body": "permit ready"}
        rt.call("email.send", args, lambda to, body: sent.append(to))
        with pytest.raises(PolicyDenied, match="replayed"):
            rt.call("email.send", args, lambda to, body: sent.append(to))
    assert sent == ["clerk@city.gov"]
    denied = [r for r in _records(log) if r["type"] == "consent.denied"]
    assert len(denied) == 1 and "replayed" in denied[0]["reason"]
