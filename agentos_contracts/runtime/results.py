"""MCP tool results checked against the sealed ``outputSchema`` before the agent sees them.

MCP says a tool that declares an ``outputSchema`` must return ``structuredContent``
conforming to it, and clients should check. A result that breaks the promise the
platform sealed is withheld: the agent acting on data of the wrong shape is how a
compromised or drifting server escapes the contract. The schema is taken only from a
descriptor whose canonical digest equals the manifest's pin (as ``runtime.tools`` does
for ``inputSchema``), so nobody can hand the runtime a looser one. This module is the
one decision path for results: the engine and the MCP gateway both call
:func:`check_tool_result`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping  # not typing's alias: its isinstance check is several times slower
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

from agentos_contracts.runtime.manifest import LoadedManifest
from agentos_contracts.schemacheck import compile_schema
from agentos_contracts.runtime.tools import match_descriptors

_NO_SCHEMA = object()  # the bound tool declares no outputSchema: only MCP's shape rules apply
_MAX_CACHED = 4096


class _OutputSchema:
    """One tool's compiled ``outputSchema``; reasons name the place and keyword, never the value."""

    __slots__ = ("tool", "_validator", "_fast")

    def __init__(self, tool: str, schema: Mapping[str, Any]) -> None:
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        cls.check_schema(schema)
        self.tool = tool
        self._validator = cls(schema)
        # the project's exact compiled checker where it covers the schema (as for inputSchema), else jsonschema
        self._fast = compile_schema(schema) if cls is jsonschema.Draft202012Validator else None

    def problem(self, value: Any) -> str | None:
        if self._fast is not None:
            failed = self._fast(value)
            if failed is None:
                return None
            path, keyword = failed
        elif self._validator.is_valid(value):
            return None
        else:
            error = best_match(self._validator.iter_errors(value))
            path, keyword = (tuple(error.absolute_path), str(error.validator)) if error else ((), "schema")
        where = "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)
        return f"result of `{self.tool}` fails the sealed MCP outputSchema at `{where}` (`{keyword}`)"


# (manifest digest, action) -> compiled schema, _NO_SCHEMA, a refusal reason (str), or None (not a bound tool).
# A manifest digest fixes every descriptor pin, so the entry can never go stale.
_cache: dict[tuple[str, str], Any] = {}
_cache_lock = threading.Lock()


def _schema_for(loaded: LoadedManifest, action: str) -> Any:
    key = (loaded.digest, action)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    value = _compile_for(loaded, action)
    with _cache_lock:
        if len(_cache) >= _MAX_CACHED:
            _cache.clear()
        _cache[key] = value
    return value


def _compile_for(loaded: LoadedManifest, action: str) -> Any:
    bound = [t for t in loaded.manifest.resolved.tools if t.name == action]
    if not bound:
        return None
    tool = bound[0]
    sealed = [tool.descriptor] if tool.descriptor is not None else []
    descriptor = match_descriptors({tool.name: tool.descriptor_digest}, sealed).get(tool.name)
    if descriptor is None:
        return f"`{action}` has no sealed descriptor matching its pin, so its result cannot be checked"
    schema = descriptor.get("outputSchema")
    if schema is None:
        return _NO_SCHEMA
    if not isinstance(schema, Mapping):
        return f"`{action}` has a sealed outputSchema that is not a JSON Schema object"
    try:
        return _OutputSchema(action, schema)
    except jsonschema.SchemaError as exc:
        return f"`{action}` has an invalid sealed outputSchema: {exc.message.splitlines()[0]}"


def _shape_problem(action: str, result: Any) -> str | None:
    """MCP's CallToolResult shape: an object; ``content`` a list; ``isError`` a bool; ``structuredContent`` an object."""
    if not isinstance(result, Mapping):
        return f"result of `{action}` is not an MCP CallToolResult object"
    if "content" in result and not isinstance(result["content"], list):
        return f"result of `{action}` has `content` that is not a list"
    if "isError" in result and not isinstance(result["isError"], bool):
        return f"result of `{action}` has `isError` that is not a boolean"
    if "structuredContent" in result and result["structuredContent"] is not None \
            and not isinstance(result["structuredContent"], Mapping):
        return f"result of `{action}` has `structuredContent` that is not an object"
    return None


def check_tool_result(loaded: LoadedManifest, action: str, result: Mapping[str, Any]) -> str | None:
    """None when ``result`` (an MCP CallToolResult as a dict) conforms, else a one-line reason.

    Rules: the result must have MCP's shape; a tool error (``isError: true``) is passed on
    unchecked, as MCP's schema covers successful results only; a successful result of a
    tool whose sealed descriptor declares ``outputSchema`` must carry ``structuredContent``
    that validates against it. An action the manifest binds no tool for (an uncatalogued
    action the platform allowed) has only its shape checked. A bound tool whose sealed
    descriptor is missing or does not match its pin fails closed.
    """
    shape = _shape_problem(action, result)
    if shape is not None:
        return shape
    schema = _schema_for(loaded, action)
    if schema is None or schema is _NO_SCHEMA:
        return None
    if isinstance(schema, str):
        return schema
    if result.get("isError") is True:
        return None
    structured = result.get("structuredContent")
    if structured is None:
        return f"result of `{action}` has no `structuredContent` although the sealed tool declares an outputSchema"
    return schema.problem(structured)
