"""SLO monitors: exact rolling quantiles in fixed memory; slow units breach their sealed bounds, audited."""

from __future__ import annotations

import json
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.runtime import Runtime
from agentos_contracts.runtime.logstore import read_log
from agentos_contracts.runtime.monitor import SloMonitor, Window

from .watchkit import Clock, srt_manifest


def records(path: Path, type_: str | None = None) -> list[dict]:
    out = [json.loads(r.body) for r in read_log(path).rows]
    return [r for r in out if type_ is None or r["type"] == type_]


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=400),
       st.integers(min_value=1, max_value=64), st.sampled_from([0.5, 0.95, 0.99]))
@settings(max_examples=200, deadline=None)
def test_window_quantile_is_the_nearest_rank_of_the_last_samples(samples, size, q) -> None:
    w = Window(size)
    for s in samples:
        w.add(s)
    kept = sorted(samples[-size:])
    rank = -(-int(q * 1000) * len(kept) // 1000)
    assert len(w) == len(kept) <= size  # bounded memory
    assert w.quantile(q) == kept[max(1, rank) - 1]


def test_the_window_forgets_a_slow_past() -> None:
    w = Window(10)
    for _ in range(10):
        w.add(5000.0)
    for _ in range(10):
        w.add(10.0)
    assert w.quantile(0.95) == 10.0  # a cumulative estimator (P²) would still be near 5000


def test_each_hrt_miss_is_a_breach_and_a_met_deadline_clears_it() -> None:
    m = SloMonitor({"wcet_ms": 5, "deadline_ms": 20}, "HRT")
    assert m.job(19.0) == []
    first, second = m.job(25.0), m.job(21.0)
    assert [(c.metric, c.breached, c.measured, c.bound) for c in first + second] == \
        [("deadline", True, 25.0, 20.0), ("deadline", True, 21.0, 20.0)]
    assert [c.breached for c in m.job(10.0)] == [False]


def test_dt_throughput_is_a_floor() -> None:
    m = SloMonitor({"tokens_per_hour": 3_600_000}, "DT", min_samples=2)  # 1000 tokens per second
    assert m.call("llm", 1000, tokens=1000) == []
    assert m.call("llm", 1000, tokens=1000) == []  # exactly on the floor
    [change] = m.call("llm", 2000, tokens=1000)
    assert change.metric == "throughput" and change.breached and change.measured == 3_600_000 * 3 / 4


def test_a_slow_tool_breaches_the_turn_bound_and_the_breach_is_audited(sealer, tmp_path: Path) -> None:
    """Real time: the tool really sleeps longer than the sealed turn allows each call (slow_call_ms 20)."""
    manifest = sealer.seal(**srt_manifest(breaker={"slow_call_ms": 20, "min_samples": 1, "failures": 100}))
    log = tmp_path / "a.db"
    with Runtime.load(manifest, sealer.pub, audit=log) as rt:
        rt.call("inventory.lookup", {"item": "a"}, lambda item: "fast")
        rt.call("inventory.lookup", {"item": "b"}, lambda item: time.sleep(0.05) or "slow")
    [breach] = records(log, "slo.breach")
    assert breach["unit"] == "inventory.lookup" and breach["metric"] == "call" and breach["bound"] == 20
    assert breach["measured"] >= 50  # slept 50 ms: the measured figure is real time
    assert breach["trace_id"] == rt.trace_id and breach["manifest"] == rt.digest


def test_turn_onset_and_jitter_against_the_sealed_srt_bounds(sealer, tmp_path: Path) -> None:
    clock = Clock()
    log = tmp_path / "a.db"
    with Runtime.load(sealer.seal(**srt_manifest()), sealer.pub, audit=log, clock=clock) as rt:
        with rt.turn():
            with rt.model_call({"q": 1}):
                clock.advance(200)  # onset 200 <= 300
            clock.advance(900)  # turn 1100 <= 1200
        assert records(log, "slo.breach") == []
        with rt.turn():
            clock.advance(100)
            with rt.model_call({"q": 2}):
                clock.advance(350)  # onset 450 > 300
            clock.advance(800)  # turn 1250 > 1200
        with rt.model_call({"q": 3}) as m:
            assert m.model == "small@1.2.0" and m.fallback is not None and m.fallback["redact"] is True
    breaches = {r["metric"]: r for r in records(log, "slo.breach")}
    assert breaches["onset"]["measured"] == 450 and breaches["onset"]["bound"] == 300
    assert breaches["turn"]["measured"] == 1250 and breaches["turn"]["bound"] == 1200
    # a turn breach raises `slo_breach:turn`: its sealed fallback activates, and the model call switches to it
    [activated] = records(log, "fallback.activated")
    assert activated["signal"] == "slo_breach:turn" and activated["fallback"]["model"] == "small@1.2.0"
    assert "jitter" not in breaches  # (1250 - 1100) / 1100 = 13.6 % <= 50 %


def test_hrt_jobs_and_workflow_runs_are_held_to_their_sealed_deadline(sealer, tmp_path: Path) -> None:
    clock = Clock()
    log = tmp_path / "a.db"
    manifest = sealer.seal(**srt_manifest(latency_class="HRT", slo={"wcet_ms": 5, "period_ms": 20}))
    with Runtime.load(manifest, sealer.pub, audit=log, clock=clock) as rt:
        with rt.job():
            clock.advance(12)
        with rt.job():
            clock.advance(26)
        with rt.model_call({"q": 1}) as m:  # `slo_breach:deadline` has no sealed fallback here: the binding stays
            assert m.model == "llm@2.0.0"
    [miss] = records(log, "slo.breach")
    assert (miss["metric"], miss["unit"], miss["measured"], miss["bound"]) == ("deadline", "job", 26, 20)


def test_jitter_is_the_spread_of_turns_against_jitter_p95_pct() -> None:
    m = SloMonitor({"turn_ms": 5000, "jitter_p95_pct": 20}, "SRT", min_samples=10)
    changes = [c for ms in [1000.0] * 19 + [2000.0] for c in m.turn(ms, None)]
    assert changes == []  # one slow turn in 20 is within the p95
    changes = [c for ms in (2000.0, 2000.0) for c in m.turn(ms, None)]
    assert [(c.metric, c.breached, c.measured, c.bound) for c in changes] == [("jitter", True, 100.0, 20.0)]
