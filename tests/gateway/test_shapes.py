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

from agentos_contracts.gateway.shapes import SERVER_INFO_KEY, WALK_LIMIT, plain_response, plain_tool_result

ODD_TEXT = st.sampled_from(["", "\ud800", "a\udfffb", "é\u2028", "\x00"])
TEXT = st.one_of(st.text(max_size=12), ODD_TEXT)
ODD_SCALARS = st.sampled_from([math.inf, -math.inf, math.nan, -0.0, 2**80, (1, 2), b"x", 1 + 2j])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT, ODD_SCALARS)
JSONISH = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(TEXT, st.sampled_from([SERVER_INFO_KEY, 1, None])), inner, max_size=4)), max_leaves=12)
ABSENT = object()
TEXT_BLOCK = st.builds(lambda t: {"type": "text", "text": t}, TEXT)
OTHER_BLOCK = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(["text", "image", "Text", 1]), "text": JSONISH}),
    st.builds(lambda t, a: {"type": "text", "text": t, "annotations": a}, TEXT, st.sampled_from([None, {}, {"priority": 1}])),
    st.fixed_dictionaries({"type": st.just("image"), "data": st.just("aGk="), "mimeType": st.just("image/png")}),
    JSONISH)
CONTENT = st.one_of(st.lists(TEXT_BLOCK, max_size=3), st.lists(TEXT_BLOCK, max_size=3),
                    st.lists(st.one_of(TEXT_BLOCK, OTHER_BLOCK), max_size=3), JSONISH)
META = st.one_of(st.dictionaries(st.one_of(TEXT, st.just(SERVER_INFO_KEY)), JSONISH, max_size=3), JSONISH)


PLAIN = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                              st.text(max_size=8)),
                     lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner,
                                                                                          max_size=3)), max_leaves=10)


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
                     {"content": [{"type": "image", "data": "aGk=", "mimeType": "image/png"}], "resultType": "complete"},
                     {"content": text, "resultType": "complete", "structuredContent": {"x": math.nan}},
                     {"content": text, "resultType": "complete", "isError": "true"},
                     {"content": text, "resultType": "complete", "extra": 1},
                     {"content": text, "resultType": "complete", "structuredContent": {"deep": list(range(WALK_LIMIT))}},
                     {"resultType": "complete"}):
            assert plain_tool_result(version, data) is None
    assert plain_tool_result("2026-07-28", {"content": text}) is None  # resultType is required there


RESPONSES = st.one_of(
    st.fixed_dictionaries({"jsonrpc": st.sampled_from(["2.0", "1.0", 2.0]), "id": st.one_of(TEXT, st.integers()),
                           "result": st.one_of(st.dictionaries(TEXT, JSONISH, max_size=3),
                                               st.dictionaries(st.one_of(TEXT, st.integers()), JSONISH, max_size=3),
                                               JSONISH)}),
    st.fixed_dictionaries({"jsonrpc": st.just("2.0"), "id": TEXT, "result": st.dictionaries(TEXT, JSONISH, max_size=3)}),
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
