"""The plain-result shortcuts give exactly the SDK's verdict and dump, on generated values valid and invalid."""

from __future__ import annotations

import json
import math
from typing import Any

import mcp_types as types
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp_types import methods as surface
from mcp_types.version import KNOWN_PROTOCOL_VERSIONS
from pydantic import ValidationError

from agentos_contracts.gateway.shapes import (
    ABSENT, SERVER_INFO_KEY, WALK_LIMIT, AcceptedMeta, accepted_call, compact_json, loads_line, plain_response,
    plain_tool_result,
)

ODD_TEXT = st.sampled_from(["", "\ud800", "a\udfffb", "é\u2028", "\x00"])
TEXT = st.one_of(st.text(max_size=12), ODD_TEXT)
ODD_SCALARS = st.sampled_from([math.inf, -math.inf, math.nan, -0.0, 2**80, (1, 2), b"x", 1 + 2j])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT, ODD_SCALARS)
JSONISH = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(TEXT, st.sampled_from([SERVER_INFO_KEY, 1, None])), inner, max_size=4)), max_leaves=12)
TEXT_BLOCK = st.builds(lambda t: {"type": "text", "text": t}, TEXT)
OTHER_BLOCK = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(["text", "image", "Text", 1]), "text": JSONISH}),
    st.builds(lambda t, a: {"type": "text", "text": t, "annotations": a}, TEXT,
              st.sampled_from([None, {}, {"priority": 1}])),
    st.fixed_dictionaries({"type": st.just("image"), "data": st.just("aGk="), "mimeType": st.just("image/png")}),
    JSONISH)
CONTENT = st.one_of(st.lists(TEXT_BLOCK, max_size=3), st.lists(TEXT_BLOCK, max_size=3),
                    st.lists(st.one_of(TEXT_BLOCK, OTHER_BLOCK), max_size=3), JSONISH)
META = st.one_of(st.dictionaries(st.one_of(TEXT, st.just(SERVER_INFO_KEY)), JSONISH, max_size=3), JSONISH)


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3))


PLAIN = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(),
                               st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8)),
                     _containers, max_leaves=10)


@st.composite
def results(draw: st.DrawFn) -> Any:
    """Mostly what servers send, each field now and then replaced by something the SDK refuses or reshapes."""
    usual = {"content": st.lists(TEXT_BLOCK, max_size=3), "isError": st.booleans(),
             "structuredContent": st.dictionaries(st.text(max_size=6), PLAIN, max_size=4),
             "_meta": st.dictionaries(st.one_of(st.text(max_size=6), st.just(SERVER_INFO_KEY)), PLAIN, max_size=3),
             "resultType": st.just("complete")}
    odd = {"content": CONTENT, "isError": st.one_of(st.none(), SCALARS),
           "structuredContent": st.one_of(st.dictionaries(TEXT, JSONISH, max_size=4), JSONISH),
           "_meta": META, "resultType": st.one_of(st.sampled_from(["complete", "input_required"]), SCALARS),
           "is_error": st.booleans(), "ttlMs": st.integers()}
    out: dict[str, Any] = {}
    for key, strategy in odd.items():
        present = 95 if key in ("content", "resultType") else 50 if key in usual else 5
        if draw(st.integers(0, 99)) < present:
            out[key] = draw(usual[key] if key in usual and draw(st.integers(0, 99)) < 85 else strategy)
    return out if draw(st.integers(0, 99)) < 97 else draw(JSONISH)


def _sdk(version: str, data: Any) -> dict[str, Any] | Exception:
    try:
        return surface.serialize_server_result("tools/call", version, data)
    except (ValidationError, ValueError, TypeError) as exc:
        return exc


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(version=st.sampled_from(KNOWN_PROTOCOL_VERSIONS), data=results())
def test_a_plain_tool_result_is_what_the_sdk_validates_and_dumps(version: str, data: Any) -> None:
    fast = plain_tool_result(version, data)
    if fast is None:
        return  # the caller asks the SDK
    sdk = _sdk(version, data)
    assert not isinstance(sdk, Exception), f"the SDK refuses what the shortcut accepted: {sdk}"
    assert fast == sdk
    # the same bytes on the wire, key order included
    assert json.dumps(fast, ensure_ascii=False) == json.dumps(sdk, ensure_ascii=False)


def test_what_a_tool_returns_in_practice_takes_the_shortcut() -> None:
    """The shortcut is not vacuous: results as servers send them are answered by it, in every version."""
    typical = {"content": [{"type": "text", "text": "page city.gov/"}], "isError": False, "resultType": "complete",
               "structuredContent": {"status": 200, "body": "page", "tags": ["a", 1.5, None, True]},
               "_meta": {SERVER_INFO_KEY: {"name": "up", "version": ""}, "trace": "x", "gone": None}}
    for version in KNOWN_PROTOCOL_VERSIONS:
        fast = plain_tool_result(version, typical)
        assert fast is not None
        assert json.dumps(fast) == json.dumps(surface.serialize_server_result("tools/call", version, typical))


def test_anything_else_goes_to_the_sdk() -> None:
    """Values the SDK refuses or reshapes are never answered by the shortcut."""
    text = [{"type": "text", "text": "x"}]
    for version in KNOWN_PROTOCOL_VERSIONS:
        for data in ({"content": "not a list", "resultType": "complete"},
                     {"content": [{"type": "image", "data": "aGk=", "mimeType": "image/png"}],
                      "resultType": "complete"},
                     {"content": text, "resultType": "complete", "structuredContent": {"x": math.nan}},
                     {"content": text, "resultType": "complete", "isError": "true"},
                     {"content": text, "resultType": "complete", "extra": 1},
                     {"content": text, "resultType": "complete",
                      "structuredContent": {"deep": list(range(WALK_LIMIT))}},
                     {"resultType": "complete"}):
            assert plain_tool_result(version, data) is None
    assert plain_tool_result("2026-07-28", {"content": text}) is None  # resultType is required there


RESPONSES = st.one_of(
    st.fixed_dictionaries({"jsonrpc": st.sampled_from(["2.0", "1.0", 2.0]), "id": st.one_of(TEXT, st.integers()),
                           "result": st.one_of(st.dictionaries(TEXT, JSONISH, max_size=3),
                                               st.dictionaries(st.one_of(TEXT, st.integers()), JSONISH, max_size=3),
                                               JSONISH)}),
    st.fixed_dictionaries({"jsonrpc": st.just("2.0"), "id": TEXT,
                           "result": st.dictionaries(TEXT, JSONISH, max_size=3)}),
    st.dictionaries(st.sampled_from(["jsonrpc", "id", "result", "error", "method"]), JSONISH, max_size=4))


@settings(max_examples=1000, deadline=None)
@given(message=RESPONSES)
def test_a_plain_response_is_what_the_sdk_reads_as_a_response(message: dict[str, Any]) -> None:
    fast = plain_response(message)
    if fast is None:
        return
    parsed = types.jsonrpc_message_adapter.validate_python(message, by_name=False)
    assert isinstance(parsed, types.JSONRPCResponse)
    assert parsed.result == fast and list(parsed.result) == list(fast)


def test_a_response_with_an_error_or_a_method_is_left_to_the_sdk() -> None:
    assert plain_response({"jsonrpc": "2.0", "id": "a", "result": {}}) == {}
    assert plain_response({"jsonrpc": "2.0", "id": "a", "result": {}, "error": {"code": 1, "message": "m"}}) is None
    assert plain_response({"jsonrpc": "2.0", "id": 1, "result": {}}) is None
    assert plain_response({"jsonrpc": "2.0", "id": "a", "result": "x"}) is None


ENVELOPE = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "mcp", "version": "0.1.0"},
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}}}
# what a `_meta` looks like: the 2026-07-28 envelope (with its fields now and then of another JSON type),
# a legacy progress token, anything
METAS = st.one_of(
    st.just(ENVELOPE),
    st.builds(lambda k, v: {**ENVELOPE, k: v}, st.sampled_from(sorted(ENVELOPE) + ["progressToken", "x"]), JSONISH),
    st.builds(lambda v: {**ENVELOPE, "io.modelcontextprotocol/clientInfo": {"name": "mcp", "version": v}},
              st.one_of(st.just("0.1.0"), SCALARS)),
    st.fixed_dictionaries({"progressToken": st.one_of(st.integers(), st.floats(), st.booleans(), TEXT)}),
    st.just(ABSENT), st.none(), META)


def _variant(meta: Any) -> st.SearchStrategy[Any]:
    """The same `_meta` again (as a fresh copy), or one that differs only in a JSON type or a value."""
    if meta is ABSENT:
        return st.sampled_from([ABSENT, None, {}])
    copy = json.loads(json.dumps(meta)) if _jsonable(meta) else meta
    return st.one_of(st.just(copy), st.just(copy), st.just(copy), METAS, st.builds(lambda m: _retype(m), st.just(copy)))


def _jsonable(value: Any) -> bool:
    try:
        return json.loads(json.dumps(value, allow_nan=False)) == value
    except (TypeError, ValueError):
        return False


def _retype(value: Any) -> Any:
    """The value with every 1 as True, every int as a float, every True as 1: equal under ==, not as JSON."""
    if isinstance(value, dict):
        return {k: _retype(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_retype(v) for v in value]
    if value is True:
        return 1
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value) if abs(value) < 2**53 else value
    return value


def _accepts(version: str, params: dict[str, Any]) -> bool:
    try:
        surface.validate_client_request("tools/call", version, params)
    except (ValidationError, ValueError, KeyError):
        return False
    return True


@st.composite
def call_pairs(draw: st.DrawFn) -> tuple[str, Any, dict[str, Any]]:
    version = draw(st.sampled_from(KNOWN_PROTOCOL_VERSIONS))
    first = draw(METAS)
    meta = draw(_variant(first))
    params: dict[str, Any] = {"name": "web.fetch" if draw(st.integers(0, 9)) < 7 else draw(st.one_of(TEXT, SCALARS))}
    if draw(st.integers(0, 9)) < 8:
        params["arguments"] = draw(st.dictionaries(st.text(max_size=6), JSONISH, max_size=3)) \
            if draw(st.integers(0, 9)) < 6 else draw(st.one_of(
                st.none(), JSONISH, st.dictionaries(st.one_of(TEXT, st.integers()), JSONISH, max_size=2)))
    if meta is not ABSENT:
        params["_meta"] = meta
    if draw(st.integers(0, 9)) == 0:
        params[draw(st.sampled_from(["task", "inputResponses", "requestState", "other"]))] = draw(JSONISH)
    return version, first, params


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=call_pairs())
def test_a_call_with_an_accepted_meta_is_accepted_by_the_sdk(pair: tuple[str, Any, dict[str, Any]]) -> None:
    version, first, params = pair
    stamped = {"name": "web.fetch"} if first is ABSENT else {"name": "web.fetch", "_meta": first}
    if not _accepts(version, stamped):
        return  # the fast path keeps only a `_meta` the SDK accepted
    if accepted_call(params, AcceptedMeta(first)):
        assert _accepts(version, params), f"the SDK refuses {params!r}"
    assert AcceptedMeta(first).same(params.get("_meta", ABSENT)) == same_json(params.get("_meta", ABSENT), first) \
        or not _jsonable(first)


def test_the_next_call_of_a_session_is_known_accepted_and_a_retyped_meta_is_not() -> None:
    params = {"name": "web.fetch", "arguments": {"host": "city.gov"}, "_meta": json.loads(json.dumps(ENVELOPE))}
    assert accepted_call(params, AcceptedMeta(ENVELOPE))
    assert accepted_call({"name": "web.fetch"}, AcceptedMeta(ABSENT))
    assert not accepted_call({"name": "web.fetch", "_meta": {"progressToken": True}},
                             AcceptedMeta({"progressToken": 1}))
    assert not accepted_call({"name": "w", "_meta": {"a": [1, {"b": 2.0}]}}, AcceptedMeta({"a": [1, {"b": 2}]}))
    assert accepted_call({"name": "w", "_meta": {"a": [1, {"b": 2.0}]}}, AcceptedMeta({"a": [1, {"b": 2.0}]}))
    assert not accepted_call({**params, "requestState": "x"}, AcceptedMeta(ENVELOPE))
    assert not accepted_call({**params, "name": "\ud800"}, AcceptedMeta(ENVELOPE))
    assert same_json([1, {"a": None}], [1, {"a": None}]) and not same_json([1], [1.0]) and not same_json(1, True)


@settings(max_examples=500, deadline=None)
@given(value=JSONISH, space=st.sampled_from(["", "\n", " \r\n", "\t", " x", "\u00a0", "\n\n{}"]))
def test_a_line_reads_and_writes_as_json_loads_and_dumps_do(value: Any, space: str) -> None:
    try:
        line = json.dumps({"v": value}) + space
    except (TypeError, ValueError):
        return
    try:
        expected: Any = json.loads(line)
    except ValueError as exc:
        expected = type(exc)
    try:
        got: Any = loads_line(line)
    except ValueError as exc:
        got = type(exc)
    assert got == expected or (got != got and expected != expected) or repr(got) == repr(expected)
    if isinstance(got, dict):
        assert compact_json(got) == json.dumps(got, ensure_ascii=False, separators=(",", ":"))


def same_json(one: Any, two: Any) -> bool:
    """The reference: equal JSON values with the same types at every node, walked in full."""
    if one.__class__ is not two.__class__:
        return False
    if one.__class__ is dict:
        if one.keys() != two.keys():
            return False
        for key, item in one.items():
            if not same_json(item, two[key]):
                return False
        return True
    if one.__class__ is list:
        return len(one) == len(two) and all(same_json(a, b) for a, b in zip(one, two))
    return bool(one is two or one == two)
