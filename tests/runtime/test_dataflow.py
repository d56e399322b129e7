"""Workflow step outputs against their declared `out` types."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentos_contracts.runtime.dataflow import output_problem, type_problem


@pytest.mark.parametrize("kind, value, ok", [
    ("string", "a", True), ("string", 5, False), ("markdown", "# x", True), ("uri", None, False),
    ("number", 1.5, True), ("number", True, False), ("bool", False, True), ("bool", 0, False),
    ("json", {"a": [1]}, True), (None, 3, True), (["uri"], ["a", "b"], True), (["uri"], ["a", 1], False),
    (["number"], 5, False), ([["string"]], [["a"], []], True), (["a", "b"], [], False), ("date", "x", False),
])
def test_types(kind: Any, value: Any, ok: bool) -> None:
    assert (type_problem(kind, value) is None) is ok


def test_missing_and_mistyped_outputs_are_named_without_values() -> None:
    declared = {"path": "string", "tags": ["string"]}
    assert output_problem("w", declared, {"path": "p", "tags": [], "extra": 1}) is None
    assert output_problem("w", declared, {"tags": []}) == "step `w` did not return its declared output `path`"
    problem = output_problem("w", declared, {"path": 123456, "tags": []})
    assert problem == "step `w` returned `path` that is not a string (string), as its `out` declares"
    assert "123456" not in problem


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=2)))
def test_json_accepts_anything_and_strings_only_strings(value: Any) -> None:
    assert type_problem("json", value) is None
    assert (type_problem("string", value) is None) == isinstance(value, str)
