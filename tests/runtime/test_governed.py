"""The sealed modelPolicy and memory sections, checked on plain manifests."""

from __future__ import annotations

from typing import Any

import pytest

from agentos_contracts.model.manifest import BindingManifest, Resolved, ResolvedModel
from agentos_contracts.runtime.governed import memory_problem, model_call_problem


def _m(**over: Any) -> BindingManifest:
    fields: dict[str, Any] = {"agentos_version": "t", "kind": "AgentContract", "name": "a", **over}
    return BindingManifest(**fields)


@pytest.mark.parametrize("model, tokens_in, tokens_out, problem", [
    ("small", 1000, 100, None),
    ("small@1.0.0", 10, 10, None),
    ("small", 1001, 1, "input of 1001 tokens exceeds modelPolicy.max_context_tokens 1000"),
    ("small", 1, 101, "asks for 101 output tokens, above modelPolicy.max_output_tokens 100"),
    ("other", 1, 1, "model `other` is not a model this manifest binds (small)"),
    ("small", -1, 1, "model call needs whole, non-negative `input_tokens` and `max_output_tokens`"),
    ("small", 1.5, 1, "model call needs whole, non-negative `input_tokens` and `max_output_tokens`"),
    ("small", True, 1, "model call needs whole, non-negative `input_tokens` and `max_output_tokens`"),
])
def test_model_calls(model: str, tokens_in: Any, tokens_out: Any, problem: str | None) -> None:
    m = _m(model_policy={"maxContextTokens": 1000, "maxOutputTokens": 100},
           resolved=Resolved(models=(ResolvedModel(name="small", version="1.0.0", ref="small", placement="edge"),)))
    assert model_call_problem(m, model, tokens_in, tokens_out) == problem


def test_memory_tools_are_held_to_the_sealed_namespace() -> None:
    m = _m(memory={"namespace": "ns-a", "tools": {"mem.put": "space"}})
    args: dict[str, Any] = {"text": "x"}
    assert memory_problem(m, "mem.put", args, force=True) is None and args["space"] == "ns-a"
    assert memory_problem(m, "mem.put", {"space": "ns-a"}, force=False) is None
    assert "another memory namespace" in (memory_problem(m, "mem.put", {"space": "ns-b"}, force=True) or "")
    assert "must name the sealed namespace" in (memory_problem(m, "mem.put", {}, force=False) or "")
    assert memory_problem(m, "web.fetch", {"space": "anything"}, force=True) is None  # not a memory tool
    unsealed = _m(memory={"namespace": None, "tools": {"mem.put": "space"}})
    assert "seals no memory namespace" in (memory_problem(unsealed, "mem.put", {}, force=True) or "")
