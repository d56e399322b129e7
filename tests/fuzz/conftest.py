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

