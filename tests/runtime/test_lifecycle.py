"""Lifecycle: pause, resume, revoke and the kill switch, across threads and across processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from agentos_contracts.runtime import ManifestRefused, PolicyDenied, Runtime
from agentos_contracts.runtime import revocations as rev

from .test_monitor import records

ROOT = Path(__file__).resolve().parents[2]
CHILD = ROOT / "tests" / "fixtures" / "runtime" / "revocation_child.py"


def in_thread(fn):  # type: ignore[no-untyped-def]
    out: dict[str, object] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except Exception as exc:  # noqa: BLE001 - the test looks at what happened
            out["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    t.join(30)
    return out


def test_a_pause_holds_calls_in_other_threads_until_resumed(sealer, tmp_path) -> None:
    log = tmp_path / "a.db"
    with Runtime.load(sealer.seal(), sealer.pub, audit=log, pause_wait_s=30) as rt:
        rt.call("summarize", {"text": "t"}, lambda text: 1)
        assert rt.pause("operator looks at a complaint") and rt.state == "paused"
        started = threading.Event()
        ran = threading.Event()

        def worker() -> object:
            started.set()
            return rt.call("summarize", {"text": "t"}, lambda text: ran.set() or "done")

        thread_out: dict[str, object] = {}
        t = threading.Thread(target=lambda: thread_out.update(value=worker()))
        t.start()
        started.wait(5)
        assert not ran.wait(0.2)  # held while paused
        decision = rt.authorize("summarize", {}, {"text": "t"})  # a bare decision is refused, not held
        assert decision.effect == "deny" and "paused" in decision.reason
        rt.resume()
        t.join(10)
        assert thread_out["value"] == "done"
    kinds = [r["type"] for r in records(log) if r["type"] in ("agent.paused", "agent.resumed", "tool.completed",
                                                                "call.refused")]
    assert kinds == ["tool.completed", "agent.paused", "call.refused", "agent.resumed", "tool.completed"]


def test_a_paused_call_is_refused_after_the_wait(sealer, tmp_path) -> None:
    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db", pause_wait_s=0.05) as rt:
        rt.pause()
        out = in_thread(lambda: rt.call("summarize", {"text": "t"}, lambda text: 1))
    assert isinstance(out["error"], PolicyDenied) and out["error"].reason == "agent is paused"


def test_revoke_is_final_for_every_thread(sealer, tmp_path) -> None:
    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db") as rt:
        rt.revoke("leaked credentials")
        out = in_thread(lambda: rt.call("summarize", {"text": "t"}, lambda text: 1))
        assert not rt.resume() and rt.state == "revoked"
    assert out["error"].reason == "agent is revoked: leaked credentials"


def test_agent_pause_is_the_built_in_kill_switch(sealer, tmp_path) -> None:
    log = tmp_path / "a.db"
    with Runtime.load(sealer.seal(), sealer.pub, audit=log, pause_wait_s=0.01) as rt:
        assert "agent.pause" not in rt.manifest.capabilities  # it needs no grant: stopping is always allowed
        decision = rt.authorize("agent.pause", {"reason": "output looks unsafe"})
        assert decision.effect == "allow" and rt.state == "paused"
        with pytest.raises(PolicyDenied):
            rt.call("summarize", {"text": "t"}, lambda text: 1)
    [paused] = records(log, "agent.paused")
    assert paused["reason"] == "output looks unsafe" and paused["detail"] == {"source": "local", "from": "running"}


def _sign_list(sealer, path: Path, **change: list[str]) -> None:  # type: ignore[no-untyped-def]
    current = rev.read(path, [sealer.key.public_key()])
    rev.write(path, current.changed(**change), sealer.key)


def test_a_revoked_manifest_is_refused_at_load(sealer, tmp_path) -> None:
    manifest = sealer.seal()
    with Runtime.load(manifest, sealer.pub, audit=tmp_path / "a.db") as rt:
        digest = rt.digest
    listing = tmp_path / "revocations.json"
    _sign_list(sealer, listing, revoke=[digest])
    with pytest.raises(ManifestRefused) as refused:
        Runtime.load(manifest, sealer.pub, audit=tmp_path / "b.db", revocations=listing)
    assert refused.value.problems[0][0] == "AC771"


def test_the_environment_names_the_list(sealer, tmp_path, monkeypatch) -> None:
    manifest = sealer.seal()
    listing = tmp_path / "revocations.json"
    with Runtime.load(manifest, sealer.pub, audit=tmp_path / "a.db") as rt:
        _sign_list(sealer, listing, revoke=[rt.digest])
    monkeypatch.setenv("AGENTOS_REVOCATIONS", str(listing))
    with pytest.raises(ManifestRefused):
        Runtime.load(manifest, sealer.pub, audit=tmp_path / "b.db")


def test_an_untrusted_list_refuses_the_load_and_a_later_bad_one_refuses_calls(sealer, tmp_path, monkeypatch) -> None:
    from agentos_contracts.seal import keys

    monkeypatch.setattr(rev, "CHECK_EVERY_NS", 0)  # stat on every call (the default is at most once per ms)

    listing = tmp_path / "revocations.json"
    rev.write(listing, rev.Revocations(sequence=1), keys.generate_private_key())  # someone else's key
    with pytest.raises(ManifestRefused) as refused:
        Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db", revocations=listing)
    assert refused.value.problems[0][0] == "AC770"
    rev.write(listing, rev.Revocations(sequence=5), sealer.key)
    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "b.db", revocations=listing) as rt:
        rt.call("summarize", {"text": "t"}, lambda text: 1)
        rev.write(listing, rev.Revocations(sequence=4), sealer.key)  # rolled back: fail closed
        with pytest.raises(PolicyDenied) as denied:
            rt.call("summarize", {"text": "t"}, lambda text: 1)
        assert "older than 5 already read (rolled back)" in denied.value.reason
        listing.write_bytes(listing.read_bytes().replace(b'"payload":"', b'"payload":"A'))  # tampered
        assert rt.authorize("summarize", {}, {"text": "t"}).effect == "deny"


def test_resuming_a_revoked_manifest_is_refused() -> None:
    listing = rev.Revocations().changed(revoke=["sha256:" + "a" * 64], reason="gone")
    with pytest.raises(rev.RevocationError) as refused:
        listing.changed(resume=["sha256:" + "a" * 64])
    assert refused.value.code == "AC774"


def test_pause_and_revoke_reach_a_runtime_in_another_process(sealer, tmp_path) -> None:
    """The runtime runs in a child process; `agentos ctl` (a third process) writes the signed list."""
    manifest, listing, child_log = sealer.seal(), tmp_path / "revocations.json", tmp_path / "child.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, str(CHILD), str(manifest), str(sealer.pub), str(child_log),
                              str(listing)], stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None

    def ctl(action: str) -> None:
        done = subprocess.run([sys.executable, "-m", "agentos_contracts", "ctl", action, str(manifest), "--audit",
                               str(tmp_path / "ctl.db"), "--revocations", str(listing), "--key", str(sealer.private),
                               "--format", "json"], capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr

    try:
        assert child.stdout.readline().strip() == "ready"
        ctl("pause")
        ctl("resume")
        ctl("revoke")
        lines = [line.strip() for line in child.stdout]
        child.wait(30)
    finally:
        child.kill()
    assert lines[-1].startswith("refused agent is revoked")
    kinds = [(r["type"], (r.get("detail") or {}).get("source")) for r in records(child_log)
             if r["type"].startswith("agent.") and r["type"] != "agent.started"]
    assert kinds[:3] == [("agent.paused", "revocations"), ("agent.resumed", "revocations"),
                         ("agent.revoked", "revocations")]
    between = [r["type"] for r in records(child_log)]
    paused_at, resumed_at = between.index("agent.paused"), between.index("agent.resumed")
    assert "tool.completed" not in between[paused_at:resumed_at]  # nothing ran while paused
    ctl_log = records(tmp_path / "ctl.db")
    assert [r["type"] for r in ctl_log] == ["agent.paused", "agent.resumed", "agent.revoked"]
    assert {r["manifest"] for r in ctl_log} == {records(child_log)[0]["manifest"]}


def test_a_pause_from_the_list_is_lifted_only_by_the_list(sealer, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(rev, "CHECK_EVERY_NS", 0)
    listing = tmp_path / "revocations.json"
    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db", revocations=listing,
                      pause_wait_s=0.01) as rt:
        _sign_list(sealer, listing, pause=[rt.digest])
        assert rt.authorize("summarize", {}, {"text": "t"}).effect == "deny" and rt.state == "paused"
        assert not rt.resume()  # a local resume cannot lift what the signed list says
        assert rt.authorize("summarize", {}, {"text": "t"}).effect == "deny"
        _sign_list(sealer, listing, resume=[rt.digest])
        assert rt.authorize("summarize", {}, {"text": "t"}).effect == "allow" and rt.state == "running"
