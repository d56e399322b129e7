"""Circuit breakers: failures open them, sealed fallbacks take over, a successful probe closes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentos_contracts.runtime import PolicyDenied, Runtime
from agentos_contracts.runtime.breaker import Breaker, BreakerSettings

from .test_monitor import records
from .watchkit import Clock, srt_manifest

S = 1_000_000_000


def test_breaker_counts_failures_only_inside_its_window() -> None:
    b = Breaker("x", BreakerSettings(failures=3, window_s=10, open_s=5))
    assert b.record(False, 0) is None and b.record(False, 1 * S) is None
    assert b.record(False, 12 * S) is None  # the first failure has left the 10 s window
    assert b.record(False, 13 * S) is None  # and so has the second
    assert b.record(False, 14 * S) == "open"  # three within 10 s
    assert b.allow(18 * S) == (False, None)
    assert b.allow(19 * S) == (True, "half_open")  # 5 s later: one probe
    assert b.allow(19 * S) == (False, None)  # and only one
    assert b.record(False, 19 * S) == "open"  # the probe failed
    assert b.allow(24 * S) == (True, "half_open")
    assert b.record(True, 24 * S) == "closed"


def test_settings_come_from_the_sealed_contract_or_defaults() -> None:
    sealed = BreakerSettings.from_manifest({"binding": {"breaker": {"failures": 2, "open_s": 1.5, "retries": 0}}})
    assert (sealed.failures, sealed.open_s, sealed.retries, sealed.window_s) == (2, 1.5, 0, 60.0)
    assert BreakerSettings.from_manifest({"steps": []}) == BreakerSettings()


def test_failures_open_the_breaker_the_sealed_fallback_takes_over_and_recovery_closes_it(sealer, tmp_path) -> None:
    clock = Clock()
    log = tmp_path / "a.db"
    served: list[str] = []
    with Runtime.load(sealer.seal(**srt_manifest()), sealer.pub, audit=log, clock=clock) as rt:
        for _ in range(3):
            with pytest.raises(ConnectionError):
                with rt.model_call({"q": "x"}) as m:
                    served.append(m.model)
                    raise ConnectionError("upstream down")
        assert rt.watch.breakers["llm"].state == "open"
        with rt.model_call({"q": "y"}) as m:  # the sealed fallback for `breaker_open:llm`
            served.append(m.model)
        clock.advance(10_000)  # open_s: the next call is a probe of the bound model
        with rt.model_call({"q": "z"}) as m:
            served.append(m.model)
        with rt.model_call({"q": "w"}) as m:
            served.append(m.model)
    assert served == ["llm@2.0.0"] * 3 + ["small@1.2.0"] + ["llm@2.0.0"] * 2
    kinds = [r["type"] for r in records(log) if r["type"].startswith(("breaker.", "fallback."))]
    assert kinds == ["breaker.opened", "fallback.activated", "breaker.half_open", "breaker.closed",
                     "fallback.deactivated"]
    activated = records(log, "fallback.activated")[0]
    assert activated["signal"] == "breaker_open:llm" and activated["fallback"]["model"] == "small@1.2.0"
    assert rt.active_fallbacks == []


def test_an_open_tool_breaker_refuses_calls_without_running_them(sealer, tmp_path) -> None:
    clock = Clock()
    log = tmp_path / "a.db"
    ran: list[str] = []

    def send(to: str) -> None:
        ran.append(to)
        raise TimeoutError("smtp")

    with Runtime.load(sealer.seal(**srt_manifest()), sealer.pub, audit=log, clock=clock) as rt:
        for _ in range(3):
            with pytest.raises(TimeoutError):  # not idempotent: each failure once, never retried
                rt.call("email.send", {"to": "a@city.gov"}, send)
        with pytest.raises(PolicyDenied) as denied:
            rt.call("email.send", {"to": "a@city.gov"}, send)
    assert len(ran) == 3 and "circuit breaker of `email.send` is open" in denied.value.reason
    assert denied.value.decision.stage == "lifecycle"
    [refusal] = records(log, "call.refused")
    assert refusal["action"] == "email.send" and refusal["decision"] == "deny"
    assert records(log, "tool.retried") == []


def test_idempotent_tools_are_retried_and_every_attempt_is_counted(sealer, tmp_path) -> None:
    clock = Clock()
    log = tmp_path / "a.db"
    attempts: list[int] = []

    def lookup(item: str) -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionResetError("flaky")
        return "found"

    manifest = sealer.seal(**srt_manifest(budgets={"calls": 10}))
    with Runtime.load(manifest, sealer.pub, audit=log, clock=clock) as rt:
        assert rt.call("inventory.lookup", {"item": "bolt"}, lookup) == "found"
        assert rt.budgets.usage()["calls"] == "3"
    assert [r["attempt"] for r in records(log, "tool.retried")] == [2, 3]
    assert len(records(log, "tool.allowed")) == 3 and len(records(log, "tool.failed")) == 2


def test_a_retry_the_budget_refuses_is_not_made(sealer, tmp_path) -> None:
    clock = Clock()
    calls: list[int] = []

    def lookup(item: str) -> str:
        calls.append(1)
        raise ConnectionResetError("down")

    manifest = sealer.seal(**srt_manifest(budgets={"calls": 2}))
    with Runtime.load(manifest, sealer.pub, audit=tmp_path / "a.db", clock=clock) as rt:
        with pytest.raises(ConnectionResetError):
            rt.call("inventory.lookup", {"item": "bolt"}, lookup)
    assert len(calls) == 2  # the third attempt was decided, and the budget said no
    assert [r["decision"] for r in records(tmp_path / "a.db", "constraint.failed")] == ["deny"]


def test_many_threads_keep_breaker_and_fallback_records_consistent(sealer, tmp_path) -> None:
    """Real threads and real time (open_s 10 ms): whatever the interleaving, the log tells one story."""
    import random
    import threading

    from agentos_contracts.runtime.audit import verify

    manifest = sealer.seal(**srt_manifest(breaker={"failures": 3, "window_s": 60, "open_s": 0.01, "probes": 1,
                                                   "min_samples": 1000}))
    log = tmp_path / "a.db"
    with Runtime.load(manifest, sealer.pub, audit=log, durability="batched") as rt:
        def worker(seed: int) -> None:
            rng = random.Random(seed)
            for i in range(150):
                try:
                    with rt.model_call({"t": seed, "i": i}):
                        if rng.random() < 0.4:
                            raise ConnectionError("flaky")
                except (ConnectionError, PolicyDenied):
                    pass

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert verify(log).ok
    states = [r["state"] for r in records(log) if r["type"].startswith("breaker.") and r["unit"] == "llm"]
    assert states and states[0] == "open"
    for before, after in zip(states, states[1:]):  # closed → open → half_open → (closed | open)
        assert (before, after) in {("open", "half_open"), ("half_open", "closed"), ("half_open", "open"),
                                   ("closed", "open")}
    fallbacks = [r["type"] for r in records(log) if r["type"].startswith("fallback.")]
    for before, after in zip(fallbacks, fallbacks[1:]):
        assert before != after  # activated and deactivated alternate
    outages = sum(1 for i, s in enumerate(states) if s == "open" and (i == 0 or states[i - 1] != "half_open"))
    assert fallbacks.count("fallback.activated") == outages  # a failed probe does not activate it again
    assert fallbacks.count("fallback.deactivated") == states.count("closed")  # and each recovery ends it
    assert len(rt.active_fallbacks) == (0 if states[-1] == "closed" else 1)


def test_a_failed_probe_keeps_the_fallback_and_the_next_recovery_ends_it(sealer, tmp_path) -> None:
    clock = Clock()
    log = tmp_path / "a.db"
    with Runtime.load(sealer.seal(**srt_manifest()), sealer.pub, audit=log, clock=clock) as rt:
        def fail() -> None:
            with pytest.raises(ConnectionError):
                with rt.model_call({"q": "x"}):
                    raise ConnectionError("down")

        for _ in range(3):
            fail()
        clock.advance(10_000)
        fail()  # the probe fails: open again
        clock.advance(10_000)
        with rt.model_call({"q": "y"}) as m:  # the next probe succeeds
            assert m.model == "llm@2.0.0"
        assert rt.active_fallbacks == []
    kinds = [r["type"] for r in records(log) if r["type"].startswith(("breaker.", "fallback."))]
    assert kinds == ["breaker.opened", "fallback.activated", "breaker.half_open", "breaker.opened",
                     "breaker.half_open", "breaker.closed", "fallback.deactivated"]
