"""The SDK's verdict on the common plain messages of a tool call, without a pydantic round trip.

Every ``tools/call`` crosses the SDK's models three times: the upstream's JSON-RPC reply
envelope, its result against the negotiated version's schema, and the result shaped for
the client at the client's version (validated, then dumped as JSON). For the shape nearly
every result has (text content blocks, optional ``structuredContent``, ``isError`` and
``_meta`` holding plain JSON) the outcome of those steps is known in advance: the value
is valid and the dump is the value itself with the fields in the model's order, nulls
left out. :func:`plain_tool_result` and :func:`plain_response` compute exactly that; for
anything else (another content type, an annotation, a non-finite float, a value that is
not plain JSON, an unexpected key, a structure too big to walk cheaply) they return
``None`` and the caller asks the SDK, so nothing the SDK would refuse or reshape passes.
``tests/gateway/test_shapes.py`` checks the equivalence against the SDK's own functions on
generated values, invalid ones included.
"""

from __future__ import annotations

import json
import json.decoder
import json.encoder
import re
from typing import Any

from mcp_types.version import KNOWN_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# the json module's C encoder for exactly those options, made once (json.dumps makes one per call)
_C_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)
_ENCODE = _C_ENCODER(None, _COMPACT.default, getattr(json.encoder, "encode_basestring"), None, ":", ",",
                     False, False, True) if _C_ENCODER is not None else None
_SCAN = json.decoder.JSONDecoder().scan_once  # what json.loads scans with
_JSON_SPACE = " \t\n\r"
WALK_LIMIT = 512  # JSON nodes walked at most; a bigger value goes to the SDK (whose walk is native code)
# the result's own keys (before 2026-07-28 the SDK ignores `resultType`, and so does the dump)
_RESULT_KEYS = frozenset({"content", "structuredContent", "isError", "_meta", "resultType"})
_RESPONSE_KEYS = frozenset({"jsonrpc", "id", "result"})
_KNOWN, _MODERN = frozenset(KNOWN_PROTOCOL_VERSIONS), frozenset(MODERN_PROTOCOL_VERSIONS)
_SURROGATE = re.compile("[\ud800-\udfff]")  # a lone surrogate: JSON can carry one, the SDK refuses or replaces it


def _text(value: Any) -> bool:
    """A str the SDK keeps as it is (no lone surrogate); ``isascii`` answers without reading the string."""
    return value.__class__ is str and (value.isascii() or _SURROGATE.search(value) is None)


def compact_json(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, separators=(",", ":"))`` (the SDK's compact lines) with the
    encoder made once. It skips the check for a value that contains itself: the values written here
    are parsed JSON or built by the gateway, never cyclic (one would fail with RecursionError instead)."""
    return "".join(_ENCODE(value, 0)) if _ENCODE is not None else _COMPACT.encode(value)


def loads_line(text: str) -> Any:
    """``json.loads(text)`` for one line; an object line is scanned directly (json.loads's own scanner,
    without its whitespace regular expressions), anything else and every error go through json.loads."""
    if text[:1] == "{":
        try:
            value, end = _SCAN(text, 0)
        except StopIteration:
            return json.loads(text)
        if end == len(text) or not text[end:].strip(_JSON_SPACE):
            return value
    return json.loads(text)


def plain_tool_result(version: str, data: Any) -> dict[str, Any] | None:
    """``serialize_server_result("tools/call", version, data)`` for a plain result; None for any other value.

    Plain: a dict with only the result's own keys, ``content`` a list of ``{"type": "text",
    "text": str}`` blocks, ``isError`` a bool or null, ``structuredContent`` an object or null,
    ``_meta`` an object, at 2026-07-28 a string ``resultType``, and all nested values plain JSON
    (str, int, finite float, bool, null, list, object with string keys) within ``WALK_LIMIT`` nodes."""
    if data.__class__ is not dict or version not in _KNOWN:
        return None
    modern = version in _MODERN
    if not _RESULT_KEYS.issuperset(data):
        return None
    content = data.get("content")
    if content.__class__ is not list:
        return None
    blocks = []
    for block in content:
        if block.__class__ is not dict or len(block) != 2 or block.get("type") != "text":
            return None
        text = block.get("text")
        if not _text(text) or block["type"].__class__ is not str:
            return None
        blocks.append({"text": text, "type": "text"})
    budget = [WALK_LIMIT]
    out: dict[str, Any] = {}
    meta = data.get("_meta")
    if meta is not None:
        if meta.__class__ is not dict or not _plain(meta, budget):
            return None
        # the 2026-07-28 result meta: its declared key first, nulls left out at its top level
        if modern and (None in meta.values() or (SERVER_INFO_KEY in meta and next(iter(meta)) != SERVER_INFO_KEY)):
            kept = {k: v for k, v in meta.items() if v is not None and k != SERVER_INFO_KEY}
            meta = {SERVER_INFO_KEY: meta[SERVER_INFO_KEY], **kept} if meta.get(SERVER_INFO_KEY) is not None else kept
        out["_meta"] = meta
    out["content"] = blocks
    is_error = data.get("isError")
    if is_error is not None:
        if is_error.__class__ is not bool:
            return None
        out["isError"] = is_error
    if modern:
        result_type = data.get("resultType")
        if not _text(result_type):
            return None
        out["resultType"] = result_type
    structured = data.get("structuredContent")
    if structured is not None:
        if structured.__class__ is not dict or not _plain(structured, budget):
            return None
        out["structuredContent"] = structured
    return out


def plain_response(message: dict[str, Any]) -> dict[str, Any] | None:
    """The ``result`` of a JSON-RPC message the SDK's message models read as a response; None to ask them.

    Plain: exactly the keys ``jsonrpc`` (``"2.0"``), ``id`` (a string) and ``result`` (an object
    with string keys)."""
    if message.keys() != _RESPONSE_KEYS or message["jsonrpc"].__class__ is not str or message["jsonrpc"] != "2.0":
        return None
    result = message["result"]
    if not _text(message["id"]) or result.__class__ is not dict:
        return None
    for key in result:
        if not _text(key):
            return None
    return result


def _plain(container: dict[str, Any] | list[Any], budget: list[int]) -> bool:
    """Whether an object or array is plain JSON (what the SDK's JSON dump returns unchanged), walking at most
    the budget of nodes; leaves are checked in the loop, only nested containers cost a call."""
    budget[0] -= len(container)
    if budget[0] < 0:
        return False
    if container.__class__ is dict:
        for key in container:
            if key.__class__ is not str or (not key.isascii() and _SURROGATE.search(key) is not None):
                return False
        items: Any = container.values()
    else:
        items = container
    for item in items:
        kind = item.__class__
        if kind is str:
            if not item.isascii() and _SURROGATE.search(item) is not None:
                return False
        elif kind is dict or kind is list:
            if not _plain(item, budget):
                return False
        elif kind is float:
            if item - item != 0.0:  # infinities and NaN give NaN here (the dump turns them into null)
                return False
        elif not (kind is int or kind is bool or item is None):
            return False
    return True


ABSENT: Any = object()  # a request without `_meta`
_CALL_KEYS = frozenset({"name", "arguments", "_meta"})


class AcceptedMeta:
    """A ``_meta`` the SDK's request schema accepted (:data:`ABSENT`: none), and where in it a value of another
    JSON type could still compare equal (numbers and booleans: ``1 == 1.0 == True``)."""

    __slots__ = ("value", "_loose")

    def __init__(self, value: Any) -> None:
        self.value = value
        self._loose = tuple(_loose_paths(value, ()))

    def same(self, other: Any) -> bool:
        """Whether ``other`` (parsed JSON) equals ``value`` with the same JSON type at every node, at the cost
        of ``==`` and one look per loose leaf (``==`` alone takes ``1``, ``1.0`` and ``true`` as one value)."""
        if other.__class__ is not self.value.__class__ or other != self.value:
            return False
        for path in self._loose:
            mine, theirs = self.value, other
            for step in path:
                mine, theirs = mine[step], theirs[step]
            if mine.__class__ is not theirs.__class__:
                return False
        return True


def _loose_paths(value: Any, path: tuple[Any, ...]) -> Any:
    """The paths of the leaves where ``==`` does not imply the same JSON type (all but strings and null)."""
    kind = value.__class__
    if kind is dict:
        for key, item in value.items():
            yield from _loose_paths(item, (*path, key))
    elif kind is list or kind is tuple:
        for index, item in enumerate(value):
            yield from _loose_paths(item, (*path, index))
    elif kind is not str and value is not None and value is not ABSENT:
        yield path


def accepted_call(params: dict[str, Any], accepted: AcceptedMeta) -> bool:
    """Whether the SDK's request schema surely accepts ``params`` (parsed JSON) of a ``tools/call``, given
    that it accepted another request of the same version with the ``_meta`` ``accepted`` holds.

    Clients stamp the same ``_meta`` on every request. The schema checks each field on its own (no
    check spans fields), so a request is accepted when its ``_meta`` is the accepted one (equal with
    the same JSON types throughout: ``1``, ``1.0`` and ``true`` differ here), its ``name`` a string,
    its ``arguments`` absent, null or an object, and it has no other field. False means: ask the SDK."""
    if not _CALL_KEYS.issuperset(params) or not _text(params.get("name")):
        return False
    arguments = params.get("arguments")
    if arguments is not None:
        if arguments.__class__ is not dict:
            return False
        for key in arguments:
            if not _text(key):
                return False
    return accepted.same(params.get("_meta", ABSENT))
