"""RFC 8785 (JCS) conformance: the RFC's own examples and number samples, plus properties."""

from __future__ import annotations

import json
import math
import random
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.seal.canonical import (
    precanonical,
    MAX_SAFE_INTEGER,
    CanonicalError,
    canonical_digest,
    canonicalize,
    canonicalize_object,
    json_int,
    number_text,
    object_digest,
    sha256_digest,
)

# RFC 8785 Appendix B: IEEE 754 bit patterns and their ECMAScript serialisation
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),  # minus zero
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),  # round to even
]


def _double(hex_bits: str) -> float:
    return struct.unpack(">d", bytes.fromhex(hex_bits))[0]


@pytest.mark.parametrize(("bits", "expected"), APPENDIX_B)
def test_appendix_b_number_samples(bits: str, expected: str) -> None:
    assert number_text(_double(bits)) == expected
    assert canonicalize([_double(bits)]) == f"[{expected}]".encode()


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_nan_and_infinity_are_refused(bits: str) -> None:
    with pytest.raises(CanonicalError):
        canonicalize({"x": _double(bits)})


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1e21, "1e+21"), (1e20, "100000000000000000000"), (1e-7, "1e-7"), (1e-6, "0.000001"),
     (-0.0, "0"), (0.1, "0.1"), (123.0, "123"), (1.5e-7, "1.5e-7"), (-1.25e30, "-1.25e+30"),
     (2.5, "2.5"), (100.0, "100"), (0.000123, "0.000123")],
)
def test_ecmascript_number_forms(value: float, expected: str) -> None:
    assert number_text(value) == expected


def test_rfc_section_3_2_2_example() -> None:
    # the RFC's input text, parsed, then canonicalised
    source = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonicalize(json.loads(source)) == expected.encode("utf-8")


def test_rfc_section_3_2_3_sorting_by_utf16_code_units() -> None:
    doc = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    values = list(json.loads(canonicalize(doc)).values())
    assert values == [
        "Carriage Return", "One", "Control", "Latin Small Letter O With Diaeresis",
        "Euro Sign", "Emoji: Grinning Face", "Hebrew Letter Dalet With Dagesh",
    ]
    # the non-BMP key sorts before U+FB33 although its code point is higher
    assert sorted(doc) != list(json.loads(canonicalize(doc)))


def test_nested_arrays_and_objects() -> None:
    assert canonicalize([56, {"d": True, "10": None, "1": []}]) == b'[56,{"1":[],"10":null,"d":true}]'
    assert canonicalize({}) == b"{}" and canonicalize([]) == b"[]" and canonicalize("") == b'""'


def test_string_escapes_follow_ecmascript() -> None:
    text = "".join(chr(c) for c in range(0x20)) + '"\\/\x7f\u2028\u00e9\U0001f600'
    out = canonicalize(text).decode("utf-8")
    assert out == (
        '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f'
        '\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c'
        '\\u001d\\u001e\\u001f\\"\\\\/\x7f\u2028\u00e9\U0001f600"'
    )


def test_integers_are_exact_within_the_safe_range() -> None:
    assert canonicalize([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 0, -7]) == b"[9007199254740991,-9007199254740991,0,-7]"
    # beyond the safe range only what a double holds exactly, in the double's ECMAScript form
    assert canonicalize([2**53, 10**21, -(10**20)]) == b"[9007199254740992,1e+21,-100000000000000000000]"
    with pytest.raises(CanonicalError, match="not exactly representable"):
        canonicalize({"a": [MAX_SAFE_INTEGER + 2]})
    with pytest.raises(CanonicalError, match="not exactly representable"):
        canonicalize(10**400)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [({"a": {1: 2}}, "not a string"), ({"a": [object()]}, "/a/0"), ({"x/y": {1.5}}, "/x~1y"),
     ("\ud800", "lone surrogate"), ({"k": b"bytes"}, "bytes")],
)
def test_non_json_values_are_refused(value: object, fragment: str) -> None:
    with pytest.raises(CanonicalError, match=fragment.replace("/", "/")):
        canonicalize(value)


def test_booleans_are_not_numbers() -> None:
    assert canonicalize([True, False, 1]) == b"[true,false,1]"
    with pytest.raises(CanonicalError):
        number_text(True)


def test_sha256_digest_spelling() -> None:
    assert sha256_digest(b"abc") == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert canonical_digest({"b": 1, "a": 2}) == sha256_digest(b'{"a":2,"b":1}')


# --- properties -------------------------------------------------------------------------

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_numbers = st.one_of(
    st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: int(f)),  # large exact integers
)
_json = st.recursive(
    st.none() | st.booleans() | _numbers | _text,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_text, inner, max_size=5),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(_json)
def test_round_trip_through_json_loads(value: object) -> None:
    data = canonicalize(value)
    # JCS numbers are doubles: a large float prints as integer digits, so read those as doubles
    assert json.loads(data, parse_int=json_int) == value
    assert canonicalize(json.loads(data, parse_int=json_int)) == data  # idempotent


_plain_json = st.recursive(
    st.none() | st.booleans() | _text | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.floats(min_value=-(2.0**53), max_value=2.0**53),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_text, inner, max_size=5),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(_plain_json)
def test_round_trip_through_plain_json_loads(value: object) -> None:
    data = canonicalize(value)
    assert json.loads(data) == value


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_text, _json, min_size=2, max_size=8), st.randoms(use_true_random=False))
def test_bytes_do_not_depend_on_key_order(value: dict[str, object], rnd: random.Random) -> None:
    items = list(value.items())
    rnd.shuffle(items)
    assert canonicalize(dict(items)) == canonicalize(value)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_float_reads_back_exactly(value: float) -> None:
    text = number_text(value)
    assert float(text) == value or (value == 0 and text == "0")
    assert not math.isnan(float(text))


# --- the fast paths agree with the reference algorithms ---------------------------------

@settings(max_examples=500, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_fast_path_matches_the_ecmascript_algorithm(value: float) -> None:
    assert canonicalize(value).decode() == number_text(value)


_key_chars = st.sampled_from(["a", "Z", "1", "\u00e9", "\u0080", "\ud7ff", "\ue000", "\uff5e", "\ufb33", "\U0001f600", "\U00010000", "\U0010ffff"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(_key_chars, max_size=4), min_size=1, max_size=8, unique=True))
def test_key_order_is_utf16_code_unit_order(keys_: list[str]) -> None:
    doc = {k: 0 for k in keys_}
    expected = sorted(keys_, key=lambda k: [k.encode("utf-16-be")[i:i + 2] for i in range(0, len(k.encode("utf-16-be")), 2)])
    assert list(json.loads(canonicalize(doc))) == expected


def test_subclasses_of_json_types_use_their_base_form() -> None:
    import collections
    import enum

    class Level(enum.IntEnum):
        HIGH = 3

    class Mode(str, enum.Enum):
        STRICT = "strict"

    doc = collections.OrderedDict([("b", Level.HIGH), ("a", Mode.STRICT)])
    assert canonicalize(doc) == b'{"a":"strict","b":3}'


_NULLABLE = st.dictionaries(
    st.text() | st.sampled_from(["type", "tenant", "a/b~c", "\ue000", "\U0001f600"]),
    st.none() | st.booleans() | st.integers(-2**60, 2**60) | st.floats() | st.text()
    | st.lists(st.text() | st.integers(-10, 10), max_size=3) | st.dictionaries(st.text(), st.none() | st.text(), max_size=3),
    max_size=8)


@settings(max_examples=300, deadline=None)
@given(_NULLABLE, st.frozensets(st.sampled_from(["type", "tenant", "a"])))
def test_canonicalize_object_is_canonicalize_without_nulls(fields: dict, keep: frozenset) -> None:
    """The audit record path drops null members in one pass; its bytes (or its refusal) are canonicalize's."""
    def outcome(make):
        try:
            return make()
        except CanonicalError as exc:
            return str(exc)

    dropped = {k: v for k, v in fields.items() if v is not None or k in keep}
    assert outcome(lambda: canonicalize_object(fields, keep)) == outcome(lambda: canonicalize(dropped))


def test_canonicalize_object_names_the_bad_member() -> None:
    with pytest.raises(CanonicalError, match=r"at `/context/x`"):
        canonicalize_object({"context": {"x": float("nan")}, "type": None}, frozenset({"type"}))
    assert canonicalize_object({"b": None, "a": "é", "type": None}, frozenset({"type"})) == '{"a":"é","type":null}'.encode()


# --- the fast paths against an independent, deliberately plain RFC 8785 writer ----------------------
# canonicalize writes string leaves inline, sorts keys by code point when that is UTF-16 order, and
# writes floats from repr when that is ECMAScript's form; canonicalize_object plans each set of field
# names once. These properties pin each shortcut to the plain algorithm, errors included.

_ANY_CHAR = st.characters(blacklist_categories=())  # surrogates included: lone ones must be refused alike
_ANY_KEY = st.text(_ANY_CHAR, max_size=4) | st.sampled_from(["a", "é", "\ue000", "\U0001f600", "\ud800", "a/b~c"])
_ANY_LEAF = (st.none() | st.booleans() | st.integers() | st.integers(-(2**60), 2**60).map(float)
             | st.floats() | st.text(_ANY_CHAR, max_size=6))
_ANY_JSON = st.recursive(_ANY_LEAF,
                         lambda kids: st.lists(kids, max_size=4) | st.dictionaries(_ANY_KEY, kids, max_size=4),
                         max_leaves=16)


def _plain_jcs(value: object) -> bytes:
    """RFC 8785 the long way: one function per node, UTF-16 key order always, numbers by number_text."""
    def text(v: object) -> str:
        if v is None or isinstance(v, bool):
            return {None: "null", True: "true", False: "false"}[v]
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)  # the escapes JSON.stringify makes
        if isinstance(v, (int, float)):
            return number_text(v)
        if isinstance(v, list):
            return "[" + ",".join(text(x) for x in v) + "]"
        assert isinstance(v, dict)
        keys = sorted(v, key=lambda k: k.encode("utf-16-be", "surrogatepass"))
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + text(v[k]) for k in keys) + "}"

    full = text(value)
    try:
        return full.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalError(f"string holds a lone surrogate at offset {exc.start}") from None


def _outcome(make) -> object:
    """The bytes, or the refusal's message without its location (the plain writer does not track one)."""
    try:
        return make()
    except CanonicalError as exc:
        return ("refused", exc.message)


@settings(max_examples=400, deadline=None)
@given(_ANY_JSON)
def test_canonicalize_matches_the_plain_algorithm(value: object) -> None:
    assert _outcome(lambda: canonicalize(value)) == _outcome(lambda: _plain_jcs(value))


# records: ASCII field names (the planned path) and now and then any key (the general path)
_FIELD = (st.sampled_from(["type", "seq", "context", "reason", "a", "a/b~c", ""])
          | st.text(st.characters(max_codepoint=127), max_size=5))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_FIELD | _ANY_KEY, st.none() | _ANY_JSON, max_size=8)
       | st.dictionaries(_FIELD, st.none() | _ANY_JSON, max_size=8),
       st.frozensets(st.sampled_from(["type", "seq", "a"])))
def test_canonicalize_object_matches_the_plain_algorithm(fields: dict, keep: frozenset) -> None:
    """Bytes, refusals and their located messages: the planned record path is canonicalize's, twice over
    (the second call meets the remembered plan for the same field names)."""
    dropped = {k: v for k, v in fields.items() if v is not None or k in keep}
    for _ in range(2):
        assert _outcome(lambda: canonicalize_object(fields, keep)) == _outcome(lambda: _plain_jcs(dropped))

    def located(make):
        try:
            return make()
        except CanonicalError as exc:
            return str(exc)

    assert located(lambda: canonicalize_object(fields, keep)) == located(lambda: canonicalize(dropped))


def test_a_lone_surrogate_is_refused_at_the_same_offset_on_every_path() -> None:
    record = {"type": "tool.allowed", "reason": "x\ud800", "seq": 3}
    expected = "string holds a lone surrogate at offset 12"  # {"reason":"x^
    for make in (lambda: canonicalize(record), lambda: canonicalize_object(record), lambda: _plain_jcs(record)):
        with pytest.raises(CanonicalError) as caught:
            make()
        assert str(caught.value) == expected


@settings(max_examples=200, deadline=None)
@given(_json, st.dictionaries(_text, _json, max_size=4))
def test_a_precanonical_value_is_written_as_the_value_itself(value: object, around: dict) -> None:
    """The runtime canonicalises a request context once and splices it into the record: same bytes."""
    spliced = precanonical(value)
    assert canonicalize({**around, "context": spliced}) == canonicalize({**around, "context": value})
    if value is not None:  # a spliced null is written (it is a value); a plain null member is dropped
        assert canonicalize_object({**around, "context": spliced}) == canonicalize_object({**around, "context": value})
    assert canonicalize([spliced, value]) == canonicalize([value, value])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_FIELD | _ANY_KEY, st.none() | _ANY_JSON, max_size=8)
       | st.dictionaries(_FIELD, st.none() | _ANY_JSON, max_size=8))
def test_object_digest_is_the_digest_of_the_plain_algorithm(args: dict) -> None:
    """A tool call's arguments are digested by a plan kept per key set: same digest as the plain
    writer's bytes (nulls kept), or the same refusal, the first time and with the plan remembered."""
    expected = _outcome(lambda: sha256_digest(_plain_jcs(args)))
    for _ in range(2):
        assert _outcome(lambda: object_digest(args)) == expected
