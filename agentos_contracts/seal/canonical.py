"""RFC 8785 JSON Canonicalization Scheme (JCS): the bytes that get hashed and signed.

Anything hashed or signed must have exactly one serialisation, or the same manifest
could carry two digests. JCS fixes it: no whitespace, object keys sorted by their
UTF-16 code units, strings escaped as ECMAScript's ``JSON.stringify`` does, numbers
in ECMAScript ``Number.prototype.toString`` form, all encoded as UTF-8.

Integers are exact: in the IEEE 754 safe range (|n| <= 2**53 - 1) their digits are the
ECMAScript form; a larger integer is accepted only when a double holds it exactly (it
is then written as that double, e.g. ``10**21`` as ``1e+21``), so a reader that parses
numbers as doubles sees the very same value. NaN, infinities, other integers, lone
surrogates and non-JSON types are refused with :class:`CanonicalError`.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1

# ECMAScript JSON.stringify escapes: two-character forms where they exist, \u00xx (lowercase) otherwise
_ESCAPES: dict[int, str] = {c: f"\\u{c:04x}" for c in range(0x20)}
_ESCAPES.update({0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"})
_ESCAPES[ord('"')] = '\\"'
_ESCAPES[ord("\\")] = "\\\\"


class CanonicalError(ValueError):
    """The value has no JCS form (NaN, infinity, unsafe integer, lone surrogate, non-JSON type)."""


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value (dict, list/tuple, str, int, float, bool, None)."""
    parts: list[str] = []
    _emit(value, parts, "")
    text = "".join(parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate cannot be encoded and has no JCS form
        raise CanonicalError(f"string holds a lone surrogate at offset {exc.start}") from None


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>``: the one digest spelling used in manifests, compiled policies and audit records."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_digest(value: Any) -> str:
    """The digest of a JSON value's canonical bytes."""
    return sha256_digest(canonicalize(value))


def json_int(text: str) -> int | float:
    """``parse_int`` hook for ``json.loads`` that reads numbers as JCS does (as doubles).

    Within the safe range an integer stays an ``int``; beyond it the text is read as the
    double it denotes, so a large float written as ``69905881335575050`` reads back as
    that very double and re-canonicalises to the same bytes.
    """
    value = int(text)
    return value if abs(value) <= MAX_SAFE_INTEGER else float(text)


def number_text(value: int | float) -> str:
    """ECMAScript ``Number.prototype.toString`` of a finite number (RFC 8785 section 3.2.2.3)."""
    if isinstance(value, bool):
        raise CanonicalError("a boolean is not a number")
    if isinstance(value, int):
        if abs(value) <= MAX_SAFE_INTEGER:
            return str(value)
        # beyond 2**53 a JSON reader's double holds it only if it is exactly representable
        as_double = float(value) if abs(value) < 2**1024 else math.inf
        if as_double != value:
            raise CanonicalError(f"integer {value} is not exactly representable as an IEEE 754 double")
        value = as_double
    if not math.isfinite(value):
        raise CanonicalError(f"{value!r} is not a JSON number")
    if value == 0:
        return "0"  # also -0.0: ECMAScript prints both zeros as "0"
    sign = "-" if value < 0 else ""
    digits, n = _shortest_digits(abs(value))
    k = len(digits)
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        body = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + body


def _shortest_digits(x: float) -> tuple[str, int]:
    """The shortest round-trip decimal digits of ``x > 0`` and ``n`` with ``x = 0.DIGITS * 10**n``.

    Python's ``repr`` yields the shortest string that reads back to the same double and,
    among those, the one nearest the exact value: the digits ECMAScript requires.
    """
    text = repr(x)
    mantissa, _, exp_text = text.partition("e")
    exponent = int(exp_text) if exp_text else 0
    int_part, _, frac_part = mantissa.partition(".")
    raw = int_part + frac_part
    stripped = raw.lstrip("0")
    leading = len(raw) - len(stripped)
    digits = stripped.rstrip("0")
    # value = 0.RAW * 10**(len(int_part) + exponent); dropping leading zeros shifts the point left
    return digits, len(int_part) + exponent - leading


def _string_text(value: str) -> str:
    return '"' + value.translate(_ESCAPES) + '"'


def _key_order(key: str) -> bytes:
    # big-endian UTF-16 bytes compare exactly as the RFC's UTF-16 code-unit order;
    # surrogatepass keeps lone surrogates sortable so the encoder can report them
    return key.encode("utf-16-be", "surrogatepass")


def _emit(value: Any, out: list[str], where: str) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string_text(value))
    elif isinstance(value, (int, float)):
        try:
            out.append(number_text(value))
        except CanonicalError as exc:
            raise CanonicalError(f"{exc} at `{where or '/'}`") from None
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for key in sorted(value, key=_check_key):
            if not first:
                out.append(",")
            first = False
            out.append(_string_text(key))
            out.append(":")
            _emit(value[key], out, f"{where}/{_pointer_token(key)}")
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _emit(item, out, f"{where}/{i}")
        out.append("]")
    else:
        raise CanonicalError(f"{type(value).__name__} is not a JSON value at `{where or '/'}`")


def _check_key(key: Any) -> bytes:
    if not isinstance(key, str):
        raise CanonicalError(f"object key {key!r} is not a string")
    return _key_order(key)


def _pointer_token(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
