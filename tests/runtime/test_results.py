"""Tool results against the sealed MCP outputSchema: what the agent may see, and what is withheld."""

from __future__ import annotations

from typing import Any

import pytest

from agentos_contracts.model.manifest import Resolved, ResolvedTool
from agentos_contracts.runtime.manifest import load_manifest
from agentos_contracts.runtime.results import check_tool_result
from agentos_contracts.seal import keys
from agentos_contracts.seal.canonical import canonical_digest

LOOKUP = {
    "name": "permits.lookup",
    "description": "look up a permit",
    "inputSchema": {"type": "object", "properties": {"id": {"type": "string"}}},
    "outputSchema": {"type": "object", "properties": {"path": {"type": "string"}, "fee": {"type": "number"}},
                     "required": ["path"]},
}
PLAIN = {"name": "web.fetch", "inputSchema": {"type": "object"}}


def _loaded(sealer: Any, tools: tuple[dict[str, Any], ...] = (LOOKUP, PLAIN), *, inline: bool = True,
            digest_of: dict[str, Any] | None = None) -> Any:
    resolved = Resolved(tools=tuple(
        ResolvedTool(name=t["name"], version="1.0.0", descriptor_digest=canonical_digest(digest_of or t),
                     descriptor=t if inline else None) for t in tools))
    path = sealer.seal(resolved=resolved, capabilities=tuple(t["name"] for t in tools) + ("summarize",))
    return load_manifest(path, [keys.read_public_key(sealer.pub)])


def test_conforming_structured_content_passes(sealer: Any) -> None:
    loaded = _loaded(sealer)
    ok = {"content": [{"type": "text", "text": "{}"}], "structuredContent": {"path": "/p/1", "fee": 12}}
    assert check_tool_result(loaded, "permits.lookup", ok) is None


@pytest.mark.parametrize("result, where", [
    ({"structuredContent": {"path": 5}}, "`/path` (`type`)"),
    ({"structuredContent": {"fee": 1}}, "(`required`)"),
    ({"content": [{"type": "text", "text": "no structure"}]}, "no `structuredContent`"),
])
def test_non_conforming_result_is_named_without_its_value(sealer: Any, result: dict[str, Any], where: str) -> None:
    reason = check_tool_result(_loaded(sealer), "permits.lookup", result)
    assert reason is not None and where in reason and "\n" not in reason
    assert "5" not in reason.replace("permits", "")


def test_tool_errors_pass_unchecked_but_shape_is_enforced(sealer: Any) -> None:
    loaded = _loaded(sealer)
    assert check_tool_result(loaded, "permits.lookup", {"isError": True, "content": []}) is None
    assert "isError" in (check_tool_result(loaded, "permits.lookup", {"isError": "yes"}) or "")
    assert "content" in (check_tool_result(loaded, "web.fetch", {"content": "text"}) or "")
    assert "structuredContent" in (check_tool_result(loaded, "web.fetch", {"structuredContent": [1]}) or "")
    assert check_tool_result(loaded, "web.fetch", {"content": []}) is None  # no outputSchema declared
    assert check_tool_result(loaded, "summarize", {"content": []}) is None  # not a bound tool


def test_descriptor_not_matching_its_pin_fails_closed(sealer: Any) -> None:
    looser = dict(LOOKUP, outputSchema={"type": "object"})
    loaded = _loaded(sealer, (looser,), digest_of=LOOKUP)
    reason = check_tool_result(loaded, "permits.lookup", {"structuredContent": {"path": 5}})
    assert reason is not None and "pin" in reason


def test_missing_sealed_descriptor_fails_closed(sealer: Any) -> None:
    loaded = _loaded(sealer, (LOOKUP,), inline=False)
    assert "no sealed descriptor" in (check_tool_result(loaded, "permits.lookup", {"structuredContent": {"path": "x"}}) or "")
