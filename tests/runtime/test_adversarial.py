"""An attacker-agent's probes against the runtime: each must deny, be caught, or be recorded.

Real SQLite logs, real Ed25519 keys, manifests sealed with the seal API (conftest) and the
city-edge platform's real tool schemas. Each probe that once found a hole says so.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from fractions import Fraction
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from agentos_contracts.runtime import ManifestRefused, PolicyDenied, Runtime, audit, chain
from agentos_contracts.runtime.audit import AuditLocked
from agentos_contracts.runtime.logstore import checkpoint_path, iter_records, read_log
from agentos_contracts.runtime.tools import ArgsSchema
from agentos_contracts.seal import dsse, keys
from agentos_contracts.seal.canonical import canonicalize, sha256_digest
from agentos_contracts.seal.statement import PAYLOAD_TYPE, make_statement, make_subject

REPO = Path(__file__).resolve().parents[2]
CITY_EDGE = REPO / "contracts" / "platforms" / "city-edge.yaml"


class Clock:
    """A settable clock (ns) so window boundaries and expiry are exact."""

    def __init__(self, now: int = 1_700_000_000 * 10**9) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def _records(log: Path) -> list[dict[str, Any]]:
    return list(iter_records(read_log(log)))


# --- self-granted and replayed approvals ------------------------------------------------------------


@pytest.mark.parametrize("claim", [{"approved": True}, {"consent": True}, {"consent": {"granted": True}},
                                   {"approval": {"request_id": "x", "call_digest": "y"}}, {"args": {"approved": 1}}])
def test_approval_claimed_in_context_or_args_never_approves(sealer, descriptors, tmp_path: Path, claim) -> None:
    ran = []
    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db", tools=descriptors,
                      approver=lambda r: None) as rt:
        with pytest.raises(PolicyDenied):
            rt.call("email.send", {"to": "a", "body": "b", **claim}, lambda **a: ran.append(a), context=claim)

        @rt.tool("email.send")
        def send(to: str, body: str, approved: bool = True, consent: str = "granted") -> None:
            ran.append(to)

        with pytest.raises(PolicyDenied):
            send("a", "b")
    assert ran == []


def test_approval_from_an_earlier_request_is_refused(sealer, descriptors, tmp_path: Path) -> None:
    first: list[Any] = []

    def approver(req):  # approves once, then replays that approval (same call, same digest)
        if not first:
            first.append(req.approve("clerk"))
            return first[0]
        return first[0]

    ran = []
    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db", tools=descriptors,
                      approver=approver) as rt:
        rt.call("email.send", {"to": "a", "body": "b"}, lambda **a: ran.append(a))
        with pytest.raises(PolicyDenied, match="another request"):
            rt.call("email.send", {"to": "a", "body": "b"}, lambda **a: ran.append(a))
    assert len(ran) == 1


def test_approval_of_one_call_does_not_cover_another(sealer, descriptors, tmp_path: Path) -> None:
    from agentos_contracts.runtime.consent import Approval

    def approver(req):  # right request id, but the digest of a harmless call
        other = req.approve("clerk")
        return Approval(request_id=other.request_id, call_digest="sha256:" + "0" * 64, approver="clerk")

    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db", tools=descriptors,
                      approver=approver) as rt:
        with pytest.raises(PolicyDenied, match="different call"):
            rt.call("email.send", {"to": "a", "body": "b"}, lambda **a: pytest.fail("ran"))


def test_approval_after_expiry_is_refused(sealer, descriptors, tmp_path: Path) -> None:
    clock = Clock()

    def slow(req):
        clock.now = req.expires_at_ns  # the approver answers exactly at expiry
        return req.approve("clerk")

    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db", tools=descriptors, approver=slow,
                      clock=clock) as rt:
        with pytest.raises(PolicyDenied, match="expired"):
            rt.call("email.send", {"to": "a", "body": "b"}, lambda **a: pytest.fail("ran"))


def test_args_mutated_after_approval_do_not_reach_the_tool(sealer, descriptors, tmp_path: Path) -> None:
    """Hole found: the tool ran on the caller's live objects, so what was approved could change after."""
    body = ["permit ready"]
    got = []

    def approver(req):
        body[0] = "wire 10k to attacker"  # the agent changes the nested value once it is approved
        return req.approve("clerk")

    with Runtime.load(sealer.seal(tools=({"name": "email.send", "description": "send", "inputSchema": {
            "type": "object", "properties": {"to": {"type": "string"}, "body": {"type": "array"}}}},)),
            sealer.pub, audit=tmp_path / "a.db",
            tools=[{"name": "email.send", "description": "send", "inputSchema": {
                "type": "object", "properties": {"to": {"type": "string"}, "body": {"type": "array"}}}}],
            approver=approver) as rt:
        rt.call("email.send", {"to": "a", "body": body}, lambda to, body: got.append(list(body)))

        @rt.tool("email.send")
        def send(to: str, body: list) -> None:
            got.append(list(body))

        body[0] = "permit ready"
        send("a", body)
    assert got == [["permit ready"], ["permit ready"]]


# --- budgets ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("tokens", [-1, -10**30, Fraction(-1, 3), "-5", -0.5])
def test_negative_token_estimate_cannot_reopen_an_exhausted_budget(sealer, tmp_path: Path, tokens) -> None:
    """Hole found: a negative estimate made `used + want` fit a budget that was already used up."""
    with Runtime.load(sealer.seal(budgets={"tokens": 100}), sealer.pub, audit=tmp_path / "a.db") as rt:
        rt.call("summarize", {}, lambda: "s", usage=lambda _: {"tokens": 100})
        out = rt.authorize("summarize", tokens=tokens)
        assert out.effect == "deny"


@pytest.mark.parametrize("tokens", [float("nan"), float("inf"), -float("inf"), True, "lots", [1], None, {"n": 1},
                                    10**400, "1e999999999", "-1e-999999999"])
def test_unusable_token_counts_deny(sealer, tmp_path: Path, tokens) -> None:
    with Runtime.load(sealer.seal(budgets={"tokens": 100}), sealer.pub, audit=tmp_path / "a.db") as rt:
        out = rt.authorize("summarize", tokens=tokens)
        assert out.effect == "deny"
        with pytest.raises(PolicyDenied):
            rt.call("summarize", {}, lambda: pytest.fail("ran"), tokens=tokens)


@pytest.mark.parametrize("spent", [{"tokens": -50}, {"tokens": float("nan")}, {"cost": "-1"}, {"tokens": "x"}])
def test_bad_usage_reported_by_a_tool_is_recorded_and_charges_nothing(sealer, tmp_path: Path, spent) -> None:
    """Hole found: a bad usage report raised after the tool ran, so its outcome was never recorded."""
    log = tmp_path / "a.db"
    with Runtime.load(sealer.seal(budgets={"tokens": 100, "cost": 10}), sealer.pub, audit=log) as rt:
        rt.call("summarize", {}, lambda: "s", usage=lambda _: {"tokens": 99})
        rt.call("summarize", {}, lambda: "s", usage=lambda _: spent)
        assert rt.budgets.usage()["tokens"] == "99"  # nothing was given back, nothing charged
        assert rt.authorize("summarize", tokens=2).effect == "deny"
        rt.call("summarize", {}, lambda: "s", usage=lambda _: 1 / 0)  # a usage callback that raises
    done = [r for r in _records(log) if r["type"] in ("tool.completed", "tool.failed")]
    assert len(done) == 3 and all(d["outcome"] == "ok" for d in done)
    assert "error" not in done[0] and "usage report refused" in done[1]["error"]
    assert done[2]["error"] == "usage report refused (ZeroDivisionError)"


def test_float_tokens_are_exact(sealer, tmp_path: Path) -> None:
    with Runtime.load(sealer.seal(budgets={"tokens": 1}), sealer.pub, audit=tmp_path / "a.db") as rt:
        for _ in range(10):
            rt.call("summarize", {}, lambda: "s", usage=lambda _: {"tokens": 0.1})
        assert rt.budgets.usage()["tokens"] == "1"
        assert rt.authorize("summarize").effect == "deny"


def test_concurrent_calls_never_pass_the_call_budget(sealer, tmp_path: Path) -> None:
    ran = []
    barrier = threading.Barrier(8)
    with Runtime.load(sealer.seal(budgets={"calls": 5}), sealer.pub, audit=tmp_path / "a.db") as rt:

        def worker() -> None:
            barrier.wait()
            for _ in range(5):
                try:
                    rt.call("summarize", {}, lambda: ran.append(1))
                except PolicyDenied:
                    pass

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(ran) == 5


def test_concurrent_consents_never_pass_the_call_budget(sealer, descriptors, tmp_path: Path) -> None:
    """Hole found: the budget was checked before the approver was asked and not again when it said yes."""
    ran = []
    gate = threading.Barrier(4)

    def approver(req):
        gate.wait(timeout=5)  # all four requests are pending at once, then all approved
        return req.approve("clerk")

    with Runtime.load(sealer.seal(budgets={"calls": 1}), sealer.pub, audit=tmp_path / "a.db", tools=descriptors,
                      approver=approver) as rt:

        def worker() -> None:
            try:
                rt.call("email.send", {"to": "a", "body": "b"}, lambda **a: ran.append(1))
            except PolicyDenied:
                pass

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert rt.budgets.usage()["calls"] == "1"
    assert len(ran) == 1


def test_per_minute_window_boundary(sealer, tmp_path: Path) -> None:
    clock = Clock()
    t0 = clock.now
    with Runtime.load(sealer.seal(budgets={"calls_per_minute": 2}), sealer.pub, audit=tmp_path / "a.db",
                      clock=clock) as rt:
        assert rt.authorize("summarize").allowed
        clock.now = t0 + 1
        assert rt.authorize("summarize").allowed
        clock.now = t0 + 60 * 10**9 - 1  # still inside the first call's minute
        assert rt.authorize("summarize").effect == "deny"
        clock.now = t0 + 60 * 10**9  # the first call leaves the window (now - 60 s, now]
        assert rt.authorize("summarize").allowed
        assert rt.authorize("summarize").effect == "deny"
        clock.now = t0 - 10**12  # a clock that jumps back frees nothing
        assert rt.authorize("summarize").effect == "deny"


# --- action names ----------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["web.fetch.", "web.fetch*", "web.*", "*", "web.fetch ", " web.fetch",
                                    "web.fetch\n", "web\u2024fetch", "w\u0435b.fetch", "web.fetch\u200b",
                                    "ｗeb.fetch", "email.send.", "web..fetch", ".web.fetch", "web.fetch/..",
                                    "", "web.fetch\x00", "WEB.FETCH"])
def test_look_alike_actions_are_outside_the_ceiling(sealer, descriptors, tmp_path: Path, action) -> None:
    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db", tools=descriptors) as rt:
        assert rt.authorize(action, args={"host": "h"}).effect == "deny"


def test_look_alike_actions_are_outside_a_step_ceiling(tmp_path: Path) -> None:
    from agentos_contracts.runtime.authorize import Authorizer, StepCeiling
    from agentos_contracts.runtime.budgets import Budgets

    auth = Authorizer(capabilities=("web.fetch", "fs.read"), consent_for=(), policy=None, tools={},
                      budgets=Budgets(), steps={"s1": StepCeiling(("web.fetch",), ())})
    for action in ("fs.read", "web.fetch.", "web.fetch*", "web.*", "w\u0435b.fetch", "fs.read."):
        assert auth.decide(action, {}, {}, step="s1").effect == "deny", action
    assert auth.decide("web.fetch", {}, {}, step="s1").effect == "allow"
    assert auth.decide("web.fetch", {}, {}, step="s1 ").effect == "deny"


# --- arguments -------------------------------------------------------------------------------------


def _deep(n: int) -> Any:
    out: Any = "x"
    for _ in range(n):
        out = [out]
    return out


@pytest.mark.parametrize("args", [{"host": {1, 2}}, {"host": b"h"}, {"host": float("nan")}, {"host": math.inf},
                                  {1: "h"}, {"host": object()}, {"host": _deep(5000)}, {"host": "h", "x": (1, 2)}])
def test_non_json_arguments_deny_without_running(sealer, descriptors, tmp_path: Path, args) -> None:
    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db", tools=descriptors) as rt:
        assert rt.authorize("web.fetch", args=args).effect == "deny"
        with pytest.raises(PolicyDenied):
            rt.call("web.fetch", args, lambda **a: pytest.fail("ran"))


def test_huge_arguments_are_digested_not_recorded(sealer, descriptors, tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    with Runtime.load(sealer.seal(), sealer.pub, audit=log, tools=descriptors) as rt:
        assert rt.authorize("web.fetch", args={"host": "h" * 5_000_000}).allowed
    assert all("hhhh" not in json.dumps(r) for r in _records(log))


def _city_edge_tools() -> list[dict[str, Any]]:
    doc = yaml.safe_load(CITY_EDGE.read_text())
    return list(doc.get("spec", doc)["tools"])


_VALUES = [None, True, False, 0, 1, -1, 1.0, 1.5, 2**70, -0.0, "", "x", [], ["a"], [1], ["a", None], {}, {"a": 1}]


def test_compiled_checker_agrees_with_jsonschema_on_city_edge_tools() -> None:
    checked = 0
    for tool in _city_edge_tools():
        schema = tool["inputSchema"]
        fast, ref = ArgsSchema(tool["name"], schema), jsonschema.Draft202012Validator(schema)
        required = {r: "x" for r in schema.get("required", [])}
        cases: list[Any] = [{}, required]
        for prop in [*schema.get("properties", {}), "extra"]:
            cases += [{**required, prop: v} for v in _VALUES]
        for case in cases:
            assert (fast.problem(case) is None) == ref.is_valid(case), (tool["name"], case)
            checked += 1
    assert checked > 200


def test_schema_violations_deny_on_a_city_edge_tool(sealer, tmp_path: Path) -> None:
    tool = next(t for t in _city_edge_tools() if t["name"] == "payment.charge")
    descriptor = {k: tool[k] for k in ("name", "description", "inputSchema", "annotations") if k in tool}
    path = sealer.seal(tools=(descriptor,), capabilities=("payment.charge",), consent_for=())
    with Runtime.load(path, sealer.pub, audit=tmp_path / "a.db", tools=[tool]) as rt:
        assert rt.authorize("payment.charge", args={"amount": 5}).allowed
        for bad in ({}, {"amount": "5"}, {"amount": True}, {"amount": None}, {"amount": [5]},
                    {"amount": 5, "currency": 1}):
            assert rt.authorize("payment.charge", args=bad).effect == "deny", bad


# --- fail closed -----------------------------------------------------------------------------------


def test_an_approver_that_raises_or_hangs_denies(sealer, descriptors, tmp_path: Path) -> None:
    def broken(req):
        raise RuntimeError("boom")

    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db", tools=descriptors, approver=broken) as rt:
        with pytest.raises(PolicyDenied, match="approver failed"):
            rt.call("email.send", {"to": "a", "body": "b"}, lambda **a: pytest.fail("ran"))


def test_a_failing_consent_record_never_runs_the_call(sealer, descriptors, tmp_path: Path) -> None:
    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db", tools=descriptors,
                      approver=lambda r: True) as rt:
        real = rt.log.append

        def failing(fields, **kw):
            if fields["type"] == "consent.granted":
                raise OSError("disk full")
            return real(fields, **kw)

        rt.log.append = failing  # type: ignore[method-assign]
        with pytest.raises((PolicyDenied, OSError)):
            rt.call("email.send", {"to": "a", "body": "b"}, lambda **a: pytest.fail("ran"))
        rt.log.append = real  # type: ignore[method-assign]


def test_a_context_that_cannot_be_read_denies(sealer, tmp_path: Path) -> None:
    class Hostile(dict):
        def __getitem__(self, key):
            raise RuntimeError("gotcha")

        def get(self, key, default=None):
            raise RuntimeError("gotcha")

    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db") as rt:
        with pytest.raises(PolicyDenied):
            rt.call("summarize", {}, lambda: pytest.fail("ran"), context=[("approved", True)])  # type: ignore[arg-type]
        rt.authorize("summarize", context=Hostile(a=1))  # must not raise


# --- manifests -------------------------------------------------------------------------------------


def _signed(sealer, tmp_path: Path, **change: Any) -> Path:
    predicate = sealer.predicate().to_json()
    predicate.update(change)
    statement = make_statement(predicate, [make_subject("contract:x", b"x")])
    path = tmp_path / "changed.json"
    path.write_bytes(dsse.dump(dsse.sign(PAYLOAD_TYPE, canonicalize(statement), [sealer.key])))
    return path


@pytest.mark.parametrize("change", [{"semanticsVersion": "agentos/v9"}, {"semanticsVersion": ""},
                                    {"formatVersion": 2}, {"formatVersion": "1"}, {"formatVersion": True}])
def test_validly_signed_manifest_of_unknown_version_is_refused(sealer, tmp_path: Path, change) -> None:
    path = _signed(sealer, tmp_path, **change)
    for unsigned_ok in (False, True):
        with pytest.raises(ManifestRefused):
            Runtime.load(path, sealer.pub, audit=tmp_path / "a.db", allow_unsigned=unsigned_ok)
    assert not (tmp_path / "a.db").exists()


def test_unsigned_manifest_is_refused_even_with_a_key(sealer, tmp_path: Path) -> None:
    with pytest.raises(ManifestRefused):
        Runtime.load(sealer.seal(signed=False), sealer.pub, audit=tmp_path / "a.db", allow_unsigned=False)
    with pytest.raises(ManifestRefused):
        Runtime.load(sealer.seal(signed=False), None, audit=tmp_path / "a.db")


# --- audit tampering -------------------------------------------------------------------------------


@pytest.fixture()
def signed_log(sealer, tmp_path: Path) -> tuple[Path, Any]:
    """A real runtime log of 8 records with a checkpoint per commit."""
    key = keys.generate_private_key()
    log = tmp_path / "audit.db"
    with Runtime.load(sealer.seal(), sealer.pub, audit=log, checkpoint_key=key) as rt:
        for _ in range(3):
            rt.authorize("summarize")
            rt.authorize("payment.charge")
        assert rt.log.seq == 7
    assert audit.verify(log, [key.public_key()]).ok
    return log, key


def _sql(path: Path, *statements: tuple) -> None:
    conn = sqlite3.connect(path)
    for stmt in statements:
        conn.execute(*stmt)
    conn.commit()
    conn.close()


def _row(path: Path, seq: int) -> bytes:
    conn = sqlite3.connect(path)
    (body,) = conn.execute("SELECT body FROM records WHERE seq=?", (seq,)).fetchone()
    conn.close()
    return bytes(body)


def _first(log: Path, key: Any) -> tuple[int, str]:
    report = audit.verify(log, [key.public_key()])
    assert not report.ok
    return report.problems[0].seq, report.problems[0].kind


def test_updated_field_is_found_at_its_position(signed_log) -> None:
    log, key = signed_log
    record = json.loads(_row(log, 3))
    record["decision"] = "allow" if record["decision"] != "allow" else "deny"
    _sql(log, ("UPDATE records SET body=? WHERE seq=3", (canonicalize(record),)))
    assert _first(log, key) == (3, "modified")


def test_updated_field_with_recomputed_hashes_is_found_by_the_checkpoint(signed_log) -> None:
    log, key = signed_log
    conn = sqlite3.connect(log)
    rows = conn.execute("SELECT seq, body FROM records ORDER BY seq").fetchall()
    prev = None
    for seq, body in rows:  # rewrite record 4 and re-chain everything after it
        record = json.loads(body)
        if seq == 4:
            record["reason"] = "allowed by forged rule"
        if prev is not None and seq > 4:
            record["prev"] = prev
        new = canonicalize(record)
        prev = sha256_digest(new)
        conn.execute("UPDATE records SET body=?, hash=? WHERE seq=?", (new, prev, seq))
    conn.commit()
    conn.close()
    assert audit.verify(log).ok  # no key: a full rewrite is invisible
    assert _first(log, key) == (4, "modified")


def test_deleted_row_is_found(signed_log) -> None:
    log, key = signed_log
    _sql(log, ("DELETE FROM records WHERE seq=5",))
    assert _first(log, key) == (5, "deleted")


def test_swapped_rows_are_found(signed_log) -> None:
    log, key = signed_log
    a, b = _row(log, 3), _row(log, 4)
    _sql(log, ("UPDATE records SET body=?, hash=? WHERE seq=3", (b, sha256_digest(b))),
         ("UPDATE records SET body=?, hash=? WHERE seq=4", (a, sha256_digest(a))))
    assert _first(log, key) == (3, "reordered")


def test_forged_tail_row_without_the_key_is_found(signed_log) -> None:
    """Hole found: a forged record appended after the last checkpoint was only a warning (exit 0)."""
    log, key = signed_log
    last = _row(log, 8)
    forged = json.loads(last)
    forged.update(seq=9, prev=sha256_digest(last), event_id="f" * 32, type="consent.granted", approver="clerk")
    body = canonicalize(forged)
    _sql(log, ("INSERT INTO records VALUES (9, ?, ?)", (body, sha256_digest(body))))
    assert _first(log, key) == (9, "inserted")
    assert audit.verify(log).ok  # without the public key a well-formed tail cannot be told apart


def test_forged_middle_row_without_the_key_is_found(signed_log) -> None:
    log, key = signed_log
    conn = sqlite3.connect(log)
    rows = conn.execute("SELECT seq, body FROM records ORDER BY seq").fetchall()
    conn.execute("DELETE FROM records")
    out, prev = [], None
    for seq, body in rows:
        record = json.loads(body)
        out.append(record)
        if seq == 2:
            out.append(dict(record, type="consent.granted", event_id="e" * 32))
    for i, record in enumerate(out, start=1):
        record.update(seq=i)
        if prev is not None:
            record["prev"] = prev
        new = canonicalize(record)
        prev = sha256_digest(new)
        conn.execute("INSERT INTO records VALUES (?, ?, ?)", (i, new, prev))
    conn.commit()
    conn.close()
    assert _first(log, key) == (3, "modified")


def test_truncated_tail_is_found(signed_log) -> None:
    log, key = signed_log
    _sql(log, ("DELETE FROM records WHERE seq > 6",), ("DELETE FROM checkpoints WHERE seq > 6",))
    assert _first(log, key) == (7, "truncated")  # the sidecar still attests record 8


@pytest.mark.parametrize("edit", ["garbage", "empty", "other-key", "older"])
def test_edited_checkpoint_file_is_found_or_harmless(signed_log, edit) -> None:
    log, key = signed_log
    sidecar = checkpoint_path(log)
    if edit == "garbage":
        sidecar.write_bytes(b"{not json")
    elif edit == "empty":
        sidecar.write_bytes(b"")
    elif edit == "other-key":
        payload = canonicalize({"log": read_log(log).log_id, "seq": 8, "head": "sha256:" + "0" * 64})
        sidecar.write_bytes(dsse.dump(dsse.sign(audit.CHECKPOINT_TYPE, payload, [keys.generate_private_key()])))
    else:
        conn = sqlite3.connect(log)
        (env,) = conn.execute("SELECT envelope FROM checkpoints WHERE seq=2").fetchone()
        conn.close()
        sidecar.write_bytes(bytes(env))
    report = audit.verify(log, [key.public_key()])
    if edit == "older":
        assert report.ok and report.attested_seq == 8  # an older true checkpoint is still true
    else:
        assert not report.ok and report.problems[0].kind == "checkpoint"


def test_a_second_writer_is_refused(signed_log, sealer) -> None:
    log, key = signed_log
    with pytest.raises(audit.AuditError, match="signed audit log"):  # unsigned records would read as forged
        Runtime.load(sealer.seal(), sealer.pub, audit=log)
    with Runtime.load(sealer.seal(), sealer.pub, audit=log, checkpoint_key=key) as rt:
        with pytest.raises(AuditLocked):
            Runtime.load(sealer.seal("m2"), sealer.pub, audit=log, checkpoint_key=key)
        with pytest.raises(AuditLocked):
            audit.AuditLog.open(log, checkpoint_key=key)
        rt.authorize("summarize")
    assert audit.verify(log, [key.public_key()]).ok


def test_cli_verify_names_the_position(sealer, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from agentos_contracts.cli import app

    private, pub = keys.save_key_pair(keys.generate_private_key(), tmp_path / "cp", "audit")
    log = tmp_path / "cli.db"
    with Runtime.load(sealer.seal(), sealer.pub, audit=log, checkpoint_key=private) as rt:
        for _ in range(4):
            rt.authorize("summarize")
    last = _row(log, 6)
    forged = dict(json.loads(last), seq=7, prev=sha256_digest(last), event_id="f" * 32)
    body = canonicalize(forged)
    _sql(log, ("INSERT INTO records VALUES (7, ?, ?)", (body, sha256_digest(body))))
    result = CliRunner().invoke(app, ["audit", "verify", str(log), "--pub", str(pub), "--format", "json"])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.output)
    assert doc["ok"] is False
    assert [(d["code"], d["path"]) for d in doc["diagnostics"]][0] == ("AC712", "/records/7")
    _sql(log, ("DELETE FROM records WHERE seq=7",), ("DELETE FROM records WHERE seq=3",))
    result = CliRunner().invoke(app, ["audit", "verify", str(log), "--format", "json"])
    assert result.exit_code == 1 and json.loads(result.output)["diagnostics"][0]["path"] == "/records/3"


def test_chain_walk_never_raises_on_hostile_rows() -> None:
    rows = [chain.Row(position=1, body=b"\xff\xfe", hash=""), chain.Row(position=1, body=b"[]", hash="x"),
            chain.Row(position=None, body=b'{"seq": true}', hash="y"), chain.Row(position=-3, body=b"{}", hash="")]
    report = chain.walk(rows, "log")
    assert report.problems and report.problems[0].seq == 1


@pytest.mark.parametrize("edit", [{"usage": {"tokens": "-5"}}, {"usage": "lots"}, {"usage": {"tokens": [1]}},
                                  {"rules": 5}, {"step": ["s"]}, {"context": "x"}, {"action": 7},
                                  {"usage": {"tokens": "1e999999999"}}])
def test_replay_of_a_tampered_log_reports_and_never_raises(sealer, tmp_path: Path, edit) -> None:
    """Hole found: hostile values in a tampered record crashed `audit replay` with a traceback."""
    from agentos_contracts.runtime.manifest import load_manifest, read_public_keys
    from agentos_contracts.runtime.replay import replay

    log, path = tmp_path / "a.db", sealer.seal(budgets={"tokens": 100})
    with Runtime.load(path, sealer.pub, audit=log) as rt:
        rt.call("summarize", {}, lambda: "s", usage=lambda _: {"tokens": 10})
        rt.authorize("summarize")
    for seq in (2, 3, 4):
        record = json.loads(_row(log, seq))
        record.update(edit)
        body = canonicalize(record)
        _sql(log, ("UPDATE records SET body=?, hash=? WHERE seq=?", (body, sha256_digest(body), seq)))
    report = replay(log, load_manifest(path, read_public_keys(sealer.pub)))
    assert not report.ok and report.chain_problems[0].seq == 3


def test_context_block_takes_any_attribute_name(sealer, tmp_path: Path) -> None:
    """Hole found: `agentos run --context '{"self": 1}'` crashed (a key clashing with the method's `self`)."""
    log = tmp_path / "a.db"
    with Runtime.load(sealer.seal(), sealer.pub, audit=log) as rt:
        with rt.context(**{"self": 1, "values": 2, "approved": True}):
            assert rt.authorize("summarize").allowed
    decided = [r for r in _records(log) if r["type"] == "tool.allowed"]
    assert decided[0]["context"] == {"approved": True, "self": 1, "values": 2}


@pytest.mark.parametrize("context", [{"deep": _deep(5000)}, {"n": float("nan")}, {"b": b"x"}, {"s": {1, 2}}])
def test_hostile_context_is_decided_and_recorded_never_raised(sealer, tmp_path: Path, context) -> None:
    """Hole found: a context nested too deep could not be recorded, so the attempt vanished from the audit."""
    log = tmp_path / "a.db"
    with Runtime.load(sealer.seal(), sealer.pub, audit=log) as rt:
        decision = rt.authorize("summarize", context=context)
        ran = []
        try:
            rt.call("summarize", {}, lambda: ran.append(1), context=context)
        except PolicyDenied:
            assert decision.effect == "deny"
    assert audit.verify(log).ok
    decisions = [r for r in _records(log) if r["type"] in chain.DECISION_TYPES]
    assert len(decisions) == 2 and all("context" in r or "context" in r.get("detail", {}) for r in decisions)


def test_a_second_writer_through_a_symlink_is_refused(tmp_path: Path) -> None:
    """Hole found: the lock was named after the path given, so `link.db -> audit.db` took a second lock."""
    log = tmp_path / "audit.db"
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.db").symlink_to(log)
    with audit.AuditLog.open(log) as first:
        first.append({"type": "agent.started", "trace_id": "t", "agent": "a", "tenant": None, "manifest": "m"})
        for other in (tmp_path / "link.db", tmp_path / "sub" / ".." / "audit.db"):
            with pytest.raises(AuditLocked):
                audit.AuditLog.open(other)


def test_consent_cannot_overturn_a_deny_or_swap_the_arguments(sealer, descriptors, tmp_path: Path) -> None:
    """Hole found: `ask_consent` approved any decision (a ceiling deny too) for any arguments it was given."""
    asked = []
    log = tmp_path / "a.db"
    with Runtime.load(sealer.seal(), sealer.pub, audit=log, tools=descriptors,
                      approver=lambda r: asked.append(r) or True) as rt:
        denied = rt.authorize("payment.charge", args={"amount": 5})
        assert denied.effect == "deny"
        assert rt.ask_consent(denied, {"amount": 5}).effect == "deny"
        pending = rt.authorize("email.send", args={"to": "clerk", "body": "permit"})
        assert pending.effect == "consent"
        swapped = rt.ask_consent(pending, {"to": "attacker", "body": "secrets"})
        assert swapped.effect == "deny" and "other arguments" in swapped.reason
        assert rt.ask_consent(pending, {"to": "clerk", "body": "permit"}).effect == "allow"
    assert len(asked) == 1 and asked[0].args == {"to": "clerk", "body": "permit"}
    kinds = [r["type"] for r in _records(log)]
    assert kinds.count("consent.denied") == 2 and kinds.count("consent.granted") == 1


def test_edited_log_identity_or_first_row_is_found(signed_log) -> None:
    log, key = signed_log
    _sql(log, ("UPDATE meta SET value='other' WHERE key='log'",))
    assert audit.verify(log).problems[0].seq == 1  # record 1 no longer links to this log's genesis
    _sql(log, ("UPDATE meta SET value=? WHERE key='log'", (json.loads(_row(log, 2))["event_id"],)))
    _sql(log, ("DELETE FROM records WHERE seq=1",))
    assert _first(log, key)[0] == 1
