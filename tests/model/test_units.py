"""Unit conversions: the float fast path of ``ms_to_ns`` against the exact decimal path, and big fractions."""

from __future__ import annotations

import sys
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.model.units import NS_PER_MS, UnitError, fraction_text, ms_to_ns, ns_to_ms_text, to_fraction


def exact_ms_to_ns(value: object) -> int | str:
    ns = to_fraction(value) * NS_PER_MS
    return int(ns) if ns.denominator == 1 else "error"


def outcome(value: object) -> int | str:
    try:
        return ms_to_ns(value)
    except UnitError:
        return "error"


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                 st.decimals(min_value=-10**9, max_value=10**9, places=7, allow_nan=False).map(float),
                 st.integers(-10**12, 10**12).map(lambda n: n / 1000), st.integers(-10**15, 10**15)))
def test_float_fast_path_equals_the_exact_decimal_reading(value: float | int) -> None:
    assert outcome(value) == exact_ms_to_ns(value)


@pytest.mark.parametrize(("value", "ns"), [(258.537, 258_537_000), (0.000001, 1), (-2.25, -2_250_000), (-0.0, 0),
                                           (1e-7, "error"), (12.4, 12_400_000), (1e20, 10**26)])
def test_known_values(value: float, ns: int | str) -> None:
    assert outcome(value) == ns


def test_fraction_text_beyond_the_int_string_limit() -> None:
    big = Fraction(3**20000 + 1, 2**30001)
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        expected = f"{big.numerator}/{big.denominator}"
    finally:
        sys.set_int_max_str_digits(limit)
    assert fraction_text(big) == expected
    assert fraction_text(Fraction(7, 16)) == "7/16" and fraction_text(Fraction(-1, 3)) == "-1/3"


def test_ns_to_ms_text_ints_and_fractions() -> None:
    assert ns_to_ms_text(12_400_000) == "12.4" and ns_to_ms_text(-1) == "-0.000001"
    assert ns_to_ms_text(Fraction(3, 2)) == "0.000002"  # rounded to the nanosecond (half to even)
