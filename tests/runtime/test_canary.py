"""The sealed canary: its share of calls by call digest, and a rollback for good when it misbehaves."""

from __future__ import annotations

import pytest

from agentos_contracts.runtime import Runtime

from .test_monitor import records
from .watchkit import Clock, srt_manifest, with_canary

NO_BREAKER = {"failures": 1000, "min_samples": 1000}


def test_the_canary_serves_its_percent_deterministically_by_call_digest(sealer, tmp_path) -> None:
    manifest = sealer.seal(**srt_manifest(canary=with_canary(10), breaker=NO_BREAKER))
    with Runtime.load(manifest, sealer.pub, audit=tmp_path / "a.db", durability="batched") as rt:
        routes = []
        for i in range(2000):
            with rt.model_call({"prompt": f"question {i}"}) as m:
                routes.append(m.model)
        again = []
        for i in range(50):
            with rt.model_call({"prompt": f"question {i}"}) as m:
                again.append(m.model)
    assert set(routes) == {"llm@2.0.0", "llm@1.0.0"}
    assert 160 <= routes.count("llm@2.0.0") <= 240  # 10 % of 2000, give or take the hash
    assert again == routes[:50]  # the same call always goes the same way


def test_a_canary_that_errors_is_rolled_back_for_good_and_audited(sealer, tmp_path) -> None:
    manifest = sealer.seal(**srt_manifest(canary=with_canary(50, error_rate_pct=5, min_calls=10), breaker=NO_BREAKER))
    log = tmp_path / "a.db"
    with Runtime.load(manifest, sealer.pub, audit=log, durability="batched") as rt:
        canary_calls = 0
        for i in range(200):
            try:
                with rt.model_call({"prompt": i}) as m:
                    if m.canary:
                        canary_calls += 1
                        raise RuntimeError("the new version answers garbage")
            except RuntimeError:
                pass
            if rt.watch.canary.rolled_back is not None:
                break
        assert canary_calls == 10  # judged at the minimum sample, not before
        after = []
        for i in range(1000, 1100):
            with rt.model_call({"prompt": i}) as m:
                after.append((m.model, m.canary))
    assert set(after) == {("llm@1.0.0", False)}
    [rollback] = records(log, "canary.rolled_back")
    assert rollback["metric"] == "error_rate_pct" and rollback["measured"] == 100 and rollback["bound"] == 5
    assert rollback["detail"]["previous"] == {"llm": "llm@1.0.0"}


def test_a_slow_canary_is_rolled_back_on_its_p95(sealer, tmp_path) -> None:
    clock = Clock()
    manifest = sealer.seal(**srt_manifest(canary=with_canary(50, latency_p95_ms=1500, min_calls=5),
                                          breaker=NO_BREAKER))
    log = tmp_path / "a.db"
    with Runtime.load(manifest, sealer.pub, audit=log, clock=clock) as rt:
        i = 0
        while rt.watch.canary.rolled_back is None and i < 100:
            with rt.model_call({"prompt": i}) as m:
                clock.advance(2000 if m.canary else 100)
            i += 1
    [rollback] = records(log, "canary.rolled_back")
    assert rollback["metric"] == "latency_p95_ms" and rollback["measured"] == 2000 and rollback["bound"] == 1500


@pytest.mark.parametrize("percent", [0, 100])
def test_the_edges_of_the_share(sealer, tmp_path, percent) -> None:
    manifest = sealer.seal(**srt_manifest(canary=with_canary(percent), breaker=NO_BREAKER))
    with Runtime.load(manifest, sealer.pub, audit=tmp_path / "a.db", durability="batched") as rt:
        served = set()
        for i in range(200):
            with rt.model_call({"prompt": i}) as m:
                served.add(m.model)
    assert served == ({"llm@1.0.0"} if percent == 0 else {"llm@2.0.0"})
