"""Exact units: durations as integer nanoseconds, sizes as integer bytes/millicores, version ranges.

Document values arrive as YAML numbers; a float such as ``9.5`` is converted through
its shortest decimal text (``repr``), which equals the text the user wrote for every
number with up to 15 significant digits, so ``0.1 ms`` is exactly 100,000 ns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000


class UnitError(ValueError):
    """A value that cannot be converted exactly; the message says why."""


def to_fraction(value: object) -> Fraction:
    """An exact rational from a YAML number (int, float via its decimal text, or numeric string)."""
    if isinstance(value, bool):
        raise UnitError("a boolean is not a number")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise UnitError("not a finite number")
        return Fraction(Decimal(repr(value)))
    if isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except InvalidOperation as exc:
            raise UnitError(f"`{value}` is not a number") from exc
        if not d.is_finite():
            raise UnitError("not a finite number")
        return Fraction(d)
    if isinstance(value, Fraction):
        return value
    raise UnitError(f"expected a number, found {type(value).__name__}")


def ms_to_ns(value: object) -> int:
    """Milliseconds (≤ 6 decimals) → integer nanoseconds, exactly."""
    if type(value) is int:
        return value * NS_PER_MS
    if type(value) is float:  # the common case, read from the float's shortest decimal text
        text = repr(value)
        whole, dot, frac = text.partition(".")
        if dot and len(frac) <= 6 and frac.isdigit() and (whole.lstrip("-").isdigit()):
            ns = int(whole.lstrip("-")) * NS_PER_MS + int(frac.ljust(6, "0"))
            return -ns if text.startswith("-") else ns
    ns = to_fraction(value) * NS_PER_MS
    if ns.denominator != 1:
        raise UnitError("more than 6 decimals of a millisecond")
    return int(ns)


def s_to_ns(value: object) -> int:
    ns = to_fraction(value) * NS_PER_S
    if ns.denominator != 1:
        raise UnitError("more than 9 decimals of a second")
    return int(ns)


def ns_to_ms_text(ns: int | Fraction) -> str:
    """Exact decimal text of a nanosecond count in ms, without float noise (``12400000`` → ``12.4``).

    Whole nanoseconds always have an exact 6-decimal text; a fractional count (a
    sensitivity bound, say) is rounded to the nanosecond.
    """
    if type(ns) is int:
        whole = ns
    else:
        f = Fraction(ns)
        whole = round(f) if f.denominator != 1 else f.numerator
    sign = "-" if whole < 0 else ""
    q, r = divmod(abs(int(whole)), NS_PER_MS)
    if not r:
        return f"{sign}{q}"
    return f"{sign}{q}.{r:06d}".rstrip("0")


def ns_to_ms_number(ns: int | Fraction) -> int | float:
    """For JSON: an int when whole, else the float nearest the exact decimal text."""
    text = ns_to_ms_text(ns)
    return int(text) if "." not in text else float(text)


# a Kubernetes quantity: a decimal with an optional exponent (`129e6`), then a suffix
_QTY = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*$")
_SUFFIX = {
    "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50,
    "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "PB": 10**15, "EB": 10**18, "B": 1,
    "E": 10**18, "Ei": 2**60, "EiB": 2**60,
}


def fraction_text(value: Fraction) -> str:
    """``"n/d"`` for any size: Python refuses ``str()`` of ints above 4,300 digits (CVE-2020-10735),
    and the exact utilisation of thousands of distinct periods has a denominator that long."""
    return f"{_int_text(value.numerator)}/{_int_text(value.denominator)}"


def _int_text(n: int) -> str:
    if n < 0:
        return "-" + _int_text(-n)
    if n < _SPLIT:
        return str(n)
    digits = len(str(n >> (n.bit_length() - 3000))) + (n.bit_length() - 3000) * 30103 // 100000  # ≈ decimal length
    half = 10 ** (digits // 2)
    hi, lo = divmod(n, half)
    return _int_text(hi) + _int_text(lo).rjust(digits // 2, "0")


_SPLIT = 10 ** 4000


def parse_bytes(value: object) -> int:
    """A memory quantity (``2Gi``, ``2GiB``, ``512M``, ``1000``) → bytes."""
    if isinstance(value, bool):
        raise UnitError("a boolean is not a quantity")
    if isinstance(value, (int, float)):
        return int(to_fraction(value))
    m = _QTY.match(str(value))
    if not m or m.group(2) not in _SUFFIX:
        raise UnitError(f"cannot parse quantity `{value}`")
    return int(Fraction(Decimal(m.group(1))) * _SUFFIX[m.group(2)])


def parse_millicores(value: object) -> int:
    """A CPU quantity (``500m``, ``1``, ``2.5``) → millicores."""
    if isinstance(value, bool):
        raise UnitError("a boolean is not a quantity")
    if isinstance(value, (int, float)):
        return int(to_fraction(value) * 1000)
    m = _QTY.match(str(value))
    if not m or m.group(2) not in ("", "m"):
        raise UnitError(f"cannot parse CPU quantity `{value}`")
    n = Fraction(Decimal(m.group(1)))
    return int(n if m.group(2) == "m" else n * 1000)


# --- versions and refs -------------------------------------------------------

_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?([-+][0-9A-Za-z.+-]*)?$")
_CMP = re.compile(r"^\s*(>=|<=|==|>|<|=)?\s*(\S+)\s*$")
_SHORT = re.compile(r"^(?P<name>.+?)_v(?P<a>\d+(?:\.\d+){0,2})(?:\.\.v?(?P<b>\d+(?:\.\d+){0,2}))?$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


def parse_version(text: str) -> tuple[int, int, int]:
    """``2`` → (2, 0, 0), ``2.10`` → (2, 10, 0); pre-release suffixes are ignored for ordering."""
    m = _VERSION.match(str(text).strip())
    if not m:
        raise UnitError(f"`{text}` is not a version")
    return (int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0))


def version_text(v: tuple[int, int, int]) -> str:
    return f"{v[0]}.{v[1]}.{v[2]}"


@dataclass(frozen=True, slots=True)
class VersionRange:
    """Comma-separated comparators, all of which must hold; empty means any version."""

    comparators: tuple[tuple[str, tuple[int, int, int]], ...] = ()

    def contains(self, version: tuple[int, int, int]) -> bool:
        for op, v in self.comparators:
            if op == ">=" and not version >= v:
                return False
            if op == ">" and not version > v:
                return False
            if op == "<=" and not version <= v:
                return False
            if op == "<" and not version < v:
                return False
            if op == "==" and not version == v:
                return False
        return True

    def __str__(self) -> str:
        return ",".join(f"{op}{version_text(v)}" for op, v in self.comparators)


def parse_range(text: str) -> VersionRange:
    comps = []
    for part in str(text).split(","):
        if not part.strip():
            raise UnitError("empty comparator")
        m = _CMP.match(part)
        if not m:
            raise UnitError(f"cannot read comparator `{part.strip()}`")
        op = m.group(1) or "=="
        comps.append(("==" if op == "=" else op, parse_version(m.group(2))))
    return VersionRange(tuple(comps))


@dataclass(frozen=True, slots=True)
class Ref:
    """A model or tool reference: a name and the versions it accepts."""

    name: str
    range: VersionRange = VersionRange()

    def __str__(self) -> str:
        return f"{self.name}@{self.range}" if self.range.comparators else self.name


def parse_ref(text: str) -> Ref:
    """``name``, ``name@>=2.0,<3``, or the paper's ``name_v2`` / ``name_v2..v3`` shorthand."""
    text = str(text).strip()
    if "@" in text:
        name, _, rng = text.partition("@")
        if not NAME_RE.match(name):
            raise UnitError(f"`{name}` is not a valid model or tool name")
        return Ref(name, parse_range(rng))
    m = _SHORT.match(text)
    if m:
        lo = parse_version(m.group("a"))
        hi_major = parse_version(m.group("b") or m.group("a"))[0] + 1
        if m.group("b") and parse_version(m.group("b")) < lo:
            raise UnitError(f"range `v{m.group('a')}..v{m.group('b')}` runs backwards")
        return Ref(m.group("name"), VersionRange(((">=", lo), ("<", (hi_major, 0, 0)))))
    if not NAME_RE.match(text):
        raise UnitError(f"`{text}` is not a valid model or tool name")
    if ".." in text:
        raise UnitError("`..` ranges are written `name_v2..v3`")
    return Ref(text)
