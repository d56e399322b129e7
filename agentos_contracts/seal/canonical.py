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
import json.encoder
import math
from dataclasses import dataclass
from typing import Any, Callable, Collection

MAX_SAFE_INTEGER = 2**53 - 1

# ECMAScript JSON.stringify escapes exactly the quote, the backslash and U+0000-U+001F:
# short forms where they exist (b t n f r), \u00xx in lowercase hex otherwise, all else
# literal. The json module's C string encoder (ensure_ascii off) does precisely that.
_quote: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]


class CanonicalError(ValueError):
    """The value has no JCS form (NaN, infinity, inexact integer, lone surrogate, non-JSON type)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.path: list[str] = []  # JSON Pointer tokens to the offending value, filled while unwinding

    def __str__(self) -> str:
        return f"{self.message} at `/{'/'.join(self.path)}`" if self.path else self.message


@dataclass(frozen=True, slots=True)
class Canonical:
    """A JSON value already in RFC 8785 form, written verbatim wherever it is placed.

    A value canonicalised once (the request context the runtime must prove recordable
    before it decides) is carried into the audit record as its text, not walked again.
    Only :func:`precanonical` makes one, so the text is canonical by construction.
    """

    text: str


def precanonical(value: Any) -> Canonical:
    """``value``'s canonical form, to be placed into other canonical values without a second walk."""
    return Canonical(canonicalize(value).decode("utf-8"))


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value (dict, list/tuple, str, int, float, bool, None)."""
    parts: list[str] = []
    _emit(value, parts)
    text = "".join(parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate cannot be encoded and has no JCS form
        raise CanonicalError(f"string holds a lone surrogate at offset {exc.start}") from None


def canonicalize_object(fields: dict[str, Any], keep_null: Collection[str] = frozenset()) -> bytes:
    """``canonicalize`` of ``fields`` without its null members (except those in ``keep_null``).

    The same bytes as ``canonicalize({k: v for k, v in fields.items() if v is not None or
    k in keep_null})``, built in one pass from a plan of its keys (:func:`plan_object`); a
    caller that writes many objects with the same keys (the audit chain) keeps the plan.
    """
    plan = plan_object(tuple(fields), keep_null)
    if plan is None:  # non-string or non-ASCII keys: the general path sorts and reports them
        return canonicalize({k: v for k, v in fields.items() if v is not None or k in keep_null})
    return write_planned(fields, plan)


def write_planned(fields: dict[str, Any], plan: Plan) -> bytes:
    """``canonicalize_object`` of ``fields`` by a plan made for exactly its keys (:func:`plan_object`)."""
    out: list[str] = []
    add, quote = out.append, _quote  # locals: this loop runs once per field of every record
    for key, label, keep in plan:
        value = fields[key]
        kind = value.__class__
        if kind is str:
            add(label + quote(value))
        elif value is None:
            if keep:
                add(label + "null")
        elif kind is int and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            add(label + str(value))
        elif kind is Canonical:
            add(label + value.text)
        else:
            add(label)
            try:
                _emit(value, out)
            except CanonicalError as exc:
                exc.path.insert(0, key.replace("~", "~0").replace("/", "~1"))
                raise
    text = "".join(out)
    try:
        return ("{" + text[1:] + "}").encode("utf-8")  # every label starts with its comma
    except UnicodeEncodeError as exc:  # offsets as canonicalize reports them: the text has no leading comma
        raise CanonicalError(f"string holds a lone surrogate at offset {exc.start}") from None


Plan = tuple[tuple[str, str, bool], ...]  # (key, `,"key":`, keep when null) in canonical key order


def plan_object(names: tuple[str, ...], keep_null: Collection[str] = frozenset()) -> Plan | None:
    """The sorted keys ``names`` with their quoted labels, or None unless all are ASCII strings."""
    try:
        plain = "".join(names).isascii()
    except TypeError:
        plain = False
    return tuple((k, "," + _quote(k) + ":", k in keep_null) for k in sorted(names)) if plain else None


_OBJECT_PLANS: dict[tuple[Any, ...], Plan | None] = {}  # key sets seen by object_digest, planned
MAX_OBJECT_PLANS = 1024  # bounds what arbitrary callers can make it keep: plans, each of at most
MAX_PLANNED_KEYS = 64  # this many keys
MAX_PLANNED_TEXT = 2048  # of at most this many characters in all


def object_digest(value: dict[Any, Any]) -> str:
    """``canonical_digest`` of a JSON object, by a plan kept for its key set.

    Made for a tool call's arguments: digested on every call, with the same few key sets
    again and again, so the keys are sorted and quoted once per set rather than per call.
    Nulls are kept (``plan_object`` with every name in ``keep_null``): the bytes are exactly
    ``canonicalize(value)``'s, and a value with no canonical form raises as it does.
    """
    names = tuple(value)
    plan = _OBJECT_PLANS.get(names, _UNPLANNED)
    if plan is _UNPLANNED:
        plan = plan_object(names, names) if len(names) <= MAX_PLANNED_KEYS else None
        if len(_OBJECT_PLANS) < MAX_OBJECT_PLANS and (plan is None or sum(map(len, names)) <= MAX_PLANNED_TEXT):
            _OBJECT_PLANS[names] = plan
    if plan is None:  # non-string or non-ASCII keys (or very many): the general path sorts and reports them
        return sha256_digest(canonicalize(value))
    return sha256_digest(write_planned(value, plan))  # type: ignore[arg-type]


_UNPLANNED: Any = object()


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


def _key_order(key: str) -> bytes:
    # big-endian UTF-16 bytes compare exactly as the RFC's UTF-16 code-unit order;
    # surrogatepass keeps lone surrogates sortable so the encoder can report them
    return key.encode("utf-16-be", "surrogatepass")


def _sorted_keys(obj: dict[Any, Any]) -> list[str]:
    keys = list(obj)
    try:
        joined = "".join(keys)
    except TypeError:
        bad = next(k for k in keys if not isinstance(k, str))
        raise CanonicalError(f"object key {bad!r} is not a string") from None
    # code-point order equals UTF-16 order unless a key holds a character from U+D800 up
    # (surrogates, U+E000-U+FFFF vs. supplementary planes): the common case sorts natively
    if joined.isascii() or not joined or max(joined) < "\ud800":
        return sorted(keys)
    return sorted(keys, key=_key_order)


def _emit(value: Any, out: list[str]) -> None:
    """Append the canonical text of ``value``; type() dispatch first, as this runs per node."""
    kind = type(value)
    if kind is str:
        out.append(_quote(value))
    elif kind is dict:
        sep = "{"
        try:
            joined = "".join(value)
        except TypeError:
            joined = "\ud800"  # a key that is not a string: _sorted_keys reports it
        # code-point order is UTF-16 order below U+D800 (see _sorted_keys), checked here without a call
        for key in sorted(value) if joined.isascii() or max(joined, default="") < "\ud800" else _sorted_keys(value):
            item = value[key]
            if item.__class__ is str:  # the common leaves, written here rather than through a call
                out.append(sep + _quote(key) + ":" + _quote(item))
            elif item is True or item is False or item is None:
                out.append(sep + _quote(key) + (":true" if item is True else ":false" if item is False else ":null"))
            else:
                out.append(sep + _quote(key) + ":")
                try:
                    _emit(item, out)
                except CanonicalError as exc:
                    exc.path.insert(0, key.replace("~", "~0").replace("/", "~1"))
                    raise
            sep = ","
        out.append("}" if sep == "," else "{}")
    elif kind is list or kind is tuple:
        sep = "["
        for i, item in enumerate(value):
            if item.__class__ is str:
                out.append(sep + _quote(item))
            else:
                out.append(sep)
                try:
                    _emit(item, out)
                except CanonicalError as exc:
                    exc.path.insert(0, str(i))
                    raise
            sep = ","
        out.append("]" if sep == "," else "[]")
    elif kind is int:
        out.append(str(value) if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else number_text(value))
    elif kind is float:
        # repr writes 1e-4 <= |x| < 1e16 positionally with the same shortest digits ECMAScript
        # uses; only its ".0" on integral values differs. Everything else takes the full path.
        text = repr(value)
        out.append(number_text(value) if "e" in text or "n" in text or value == 0
                   else text[:-2] if text.endswith(".0") else text)
    elif value is None:
        out.append("null")
    elif kind is Canonical:
        out.append(value.text)
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    else:
        _emit_subclass(value, out)


def _emit_subclass(value: Any, out: list[str]) -> None:
    """Subclasses of JSON types (IntEnum, OrderedDict, str enums) go through their base type."""
    if isinstance(value, str):  # str() of a str-mixin Enum would give its member name
        _emit(value.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass"), out)
    elif isinstance(value, int):  # IntEnum and friends
        _emit(int(value), out)
    elif isinstance(value, float):
        _emit(float(value), out)
    elif isinstance(value, dict):  # OrderedDict, defaultdict
        _emit(dict(value), out)
    elif isinstance(value, (list, tuple)):
        _emit(list(value), out)
    else:
        raise CanonicalError(f"{type(value).__name__} is not a JSON value")
