"""audit replay: the same manifest re-decides every call the same; a changed one shows where it differs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from agentos_contracts.model.manifest import PolicyRef
from agentos_contracts.runtime import Runtime
from agentos_contracts.runtime.budgets import MINUTE_NS
from agentos_contracts.runtime.manifest import load_manifest, read_public_keys
from agentos_contracts.runtime.replay import replay
from agentos_contracts.seal.canonical import canonical_digest

SAFE = {"risk_score": 0.1, "unsafe_environment": False}


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000 * 10**9

    def __call__(self) -> int:
        self.now += 1_000_000  # 1 ms per reading
        return self.now


def _session(rt: Runtime, clock: Clock) -> None:
    rt.authorize("web.fetch", SAFE, {"host": "city.gov"})
    rt.authorize("web.fetch", SAFE, {"host": "evil.example"})
    rt.authorize("fs.write", SAFE, {"path": "/tmp/x"})
    rt.authorize("summarize", {**SAFE, "unsafe_environment": True})
    rt.authorize("web.fetch", SAFE, {"host": 3})
    rt.call("summarize", {"text": "t"}, lambda text: "s", context=SAFE, usage=lambda r: {"tokens": 40})
    rt.authorize("summarize", SAFE, tokens=70)  # over the token budget
    clock.now += 2 * MINUTE_NS
    rt.authorize("email.send", SAFE, {"to": "a", "body": "b"})


def _manifest(sealer, permit_policy, file: str = "m", **over) -> Path:
    ref = PolicyRef(digest=canonical_digest(permit_policy), document=permit_policy)
    return sealer.seal(file=file, policy=ref, budgets=over.pop("budgets", {"tokens": 100, "calls_per_minute": 10}),
                       **over)


def _record(sealer, tmp_path, permit_policy, descriptors, retain: bool) -> tuple[Path, Path]:
    manifest = _manifest(sealer, permit_policy)
    log = tmp_path / "audit.db"
    clock = Clock()
    with Runtime.load(manifest, sealer.pub, audit=log, tools=descriptors, clock=clock, retain_args=retain) as rt:
        _session(rt, clock)
    return manifest, log


def test_same_manifest_replays_identically(sealer, tmp_path, permit_policy, descriptors) -> None:
    manifest, log = _record(sealer, tmp_path, permit_policy, descriptors, retain=True)
    report = replay(log, load_manifest(manifest, read_public_keys(sealer.pub)), descriptors)
    assert report.ok and report.replayed == 8 and report.same == 8 and report.skipped == ()


def test_changed_policy_shows_each_differing_decision(sealer, tmp_path, permit_policy, descriptors) -> None:
    _, log = _record(sealer, tmp_path, permit_policy, descriptors, retain=True)
    from agentos_contracts.policy import ir

    stricter = dict(permit_policy)
    stricter["rules"] = [r for r in permit_policy["rules"] if r["id"] != "permit.policy:3"]  # no more web.fetch
    stricter["index"] = ir.build_index(stricter["rules"])
    changed = _manifest(sealer, stricter, file="m2")
    report = replay(log, load_manifest(changed, read_public_keys(sealer.pub)), descriptors)
    assert not report.ok
    assert [(d.seq, d.action, d.recorded, d.replayed) for d in report.differences] == [(2, "web.fetch", "allow", "deny")]


def test_budget_decisions_replay_from_recorded_times(sealer, tmp_path, permit_policy, descriptors) -> None:
    manifest, log = _record(sealer, tmp_path, permit_policy, descriptors, retain=True)
    looser = _manifest(sealer, permit_policy, file="m3", budgets={"tokens": 1000, "calls_per_minute": 10})
    report = replay(log, load_manifest(looser, read_public_keys(sealer.pub)), descriptors)
    assert [(d.action, d.recorded, d.replayed) for d in report.differences] == [("summarize", "deny", "allow")]


def test_without_retained_args_calls_are_skipped_but_the_ceiling_is_checked(sealer, tmp_path, permit_policy,
                                                                            descriptors) -> None:
    manifest, log = _record(sealer, tmp_path, permit_policy, descriptors, retain=False)
    report = replay(log, load_manifest(manifest, read_public_keys(sealer.pub)), descriptors)
    assert report.ok and len(report.skipped) == 6 and report.same == 2  # the two calls without arguments
    narrower = _manifest(sealer, permit_policy, file="m4", capabilities=("summarize",))
    report = replay(log, load_manifest(narrower, read_public_keys(sealer.pub)), descriptors)
    assert {(d.action, d.replayed) for d in report.differences} == {("web.fetch", "deny")}


def test_tampered_retained_args_are_not_used(sealer, tmp_path, permit_policy, descriptors) -> None:
    manifest, log = _record(sealer, tmp_path, permit_policy, descriptors, retain=True)
    conn = sqlite3.connect(log)
    conn.execute("UPDATE retained_args SET args=? WHERE seq=3", (b'{"host":"city.gov"}',))
    conn.commit()
    conn.close()
    report = replay(log, load_manifest(manifest, read_public_keys(sealer.pub)), descriptors)
    assert 3 in [s for s, _ in report.skipped] and report.ok


def test_a_broken_chain_fails_the_replay(sealer, tmp_path, permit_policy, descriptors) -> None:
    manifest, log = _record(sealer, tmp_path, permit_policy, descriptors, retain=True)
    conn = sqlite3.connect(log)
    conn.execute("DELETE FROM records WHERE seq=4")
    conn.commit()
    conn.close()
    report = replay(log, load_manifest(manifest, read_public_keys(sealer.pub)), descriptors)
    assert not report.ok and report.chain_problems[0].seq == 4
