"""The fault campaign's budget: short in CI, long by hand with ``AGENTOS_FUZZ=long``.

Each fuzz test takes its settings from the ``agentos-fuzz`` profile registered here
(``settings(parent=settings.get_profile("agentos-fuzz"), ...)``), so one variable moves
the whole campaign. The short budget keeps this folder under a minute on one core; the
long one runs thousands of inputs per test, derandomised off so each run explores anew,
with a 10 s deadline per input: an input that takes longer is a hang and fails the run.
Inputs that ever failed live under tests/fixtures/fuzz/ and replay on every run.
"""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, settings

LONG = os.environ.get("AGENTOS_FUZZ", "").lower() == "long"

settings.register_profile(
    "agentos-fuzz",
    max_examples=1000 if LONG else 25,
    deadline=10_000 if LONG else None,
    derandomize=not LONG,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)



def places(value: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON-like value that holds a value (the root excluded)."""
    if here:
        yield here
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from places(inner, here + (key,))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from places(inner, here + (i,))


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of ``value`` with the value at ``path`` replaced by ``new``."""
    if not path:
        return new
    if isinstance(value, dict):
        return {k: replaced(v, path[1:], new) if k == path[0] else v for k, v in value.items()}
    return [replaced(v, path[1:], new) if i == path[0] else v for i, v in enumerate(value)]


@pytest.fixture(scope="session")
def edits() -> SimpleNamespace:
    """``places`` and ``replaced``, shared by the tests that mutate documents."""
    return SimpleNamespace(places=places, replaced=replaced)
