"""Random task sets: UUniFast sums, period distributions."""

from __future__ import annotations

import math
import random

import pytest

from agentos_contracts.sched import generate


def test_uunifast_sums_to_the_target() -> None:
    rng = random.Random(1)
    for n in (1, 5, 20):
        us = generate.uunifast(n, 0.9, rng)
        assert len(us) == n and math.isclose(sum(us), 0.9) and min(us) >= 0


def test_uunifast_discard_caps_each_utilisation() -> None:
    us = generate.uunifast_discard(20, 3.5, random.Random(2))
    assert max(us) <= 1 and math.isclose(sum(us), 3.5)
    with pytest.raises(ValueError):
        generate.uunifast_discard(2, 1.99, random.Random(3), cap=0.5, tries=10)


def test_log_uniform_periods_on_the_microsecond_grid() -> None:
    ps = generate.log_uniform_periods(1000, random.Random(4))
    assert all(10_000_000 <= p <= 1_000_000_000 and p % 1000 == 0 for p in ps)
    below_100ms = sum(p < 100_000_000 for p in ps)
    assert 400 < below_100ms < 600  # log-uniform: half the mass below the geometric mean


def test_deadline_models() -> None:
    rng = random.Random(5)
    tasks = generate.make_tasks([0.2] * 50, [100] * 50, rng, deadlines="constrained", jitter=0.5)
    assert all(t.wcet_ns <= t.deadline_ns <= t.period_ns for t in tasks)
    assert all(t.jitter_ns <= t.deadline_ns - t.wcet_ns for t in tasks)
    tasks = generate.make_tasks([0.2] * 50, [100] * 50, rng, deadlines="arbitrary")
    assert any(t.deadline_ns > t.period_ns for t in tasks)


def test_random_taskset_shape() -> None:
    ts = generate.random_taskset(10, 0.8, random.Random(6))
    assert len(ts.tasks) == 10 and 0.79 < float(ts.utilization) <= 0.8
