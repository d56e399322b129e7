"""The loader: YAML 1.2 scalars, positions, bounds, and no traceback on any input."""

from __future__ import annotations

import time

import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.documents.discover import Source
from agentos_contracts.documents.loader import MAX_DEPTH, load_source, load_text


def codes(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [d.code for d in result.diagnostics]


def test_yaml_12_core_scalars() -> None:
    doc = load_text("t.yaml", "a: [1, on, yes, 1e3, 010, 0x1f, .5, -2, '3', ~, true, .inf, 2.10]\n").documents[0]
    assert doc.data["a"] == [1, "on", "yes", 1000.0, 10, 31, 0.5, -2, "3", None, True, float("inf"), 2.1]


def test_every_value_and_key_has_its_position() -> None:
    doc = load_text("t.yaml", "name: x\nclass:\n  slo: {wcet_ms: 2}\nlist:\n  - a\n  - b: 1\n").documents[0]
    assert (doc.span("/class/slo/wcet_ms").line, doc.span("/class/slo/wcet_ms").column) == (3, 18)
    assert (doc.key_span("/class/slo").line, doc.key_span("/class/slo").column) == (3, 3)
    assert (doc.span("/list/1/b").line, doc.span("/list/1/b").column) == (6, 8)
    assert doc.span("/list/0").line == 5


def test_columns_count_code_points() -> None:
    doc = load_text("t.yaml", "a: {é: ü, x: 1}\n").documents[0]
    assert doc.span("/a/x").column == 14


def test_many_documents_per_file() -> None:
    r = load_text("t.yaml", "a: 1\n---\nb: 2\n---\n# only a comment\n")
    assert [d.data for d in r.documents] == [{"a": 1}, {"b": 2}]
    assert not r.diagnostics


def test_duplicate_key_is_an_error_and_first_value_kept() -> None:
    r = load_text("t.yaml", "a: 1\nb: 2\na: {deep: [1, 2]}\n")
    assert codes(r) == ["AC006"]
    assert r.diagnostics[0].line == 3
    assert r.documents[0].data == {"a": 1, "b": 2}


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    start = time.perf_counter()
    r = load_text("lol.yaml", "\n".join(lines) + "\n")
    assert time.perf_counter() - start < 1.0
    assert "AC009" in codes(r)


def test_deep_nesting_is_refused_quickly() -> None:
    start = time.perf_counter()
    r = load_text("deep.yaml", "[" * 10_000 + "]" * 10_000)
    assert time.perf_counter() - start < 1.0
    assert codes(r) == ["AC008"]  # whichever limit stops it first: ours, or libyaml's own (PyYAML >= 6.0.3)
    assert r.diagnostics[0].line == 1 and r.diagnostics[0].column > MAX_DEPTH


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 999, 1000, 1001, 5000])
def test_too_deep_is_ac008_whichever_parser_limit_stops_it(depth: int) -> None:
    """The documented code, not the YAML library's: its own nesting error maps to AC008 too."""
    flow = load_text("deep.yaml", "[" * depth + "]" * depth)
    block = load_text("deep.yaml", "".join("  " * i + "- \n" for i in range(depth)) + "  " * depth + "x\n")
    assert codes(flow) == ["AC008"] and codes(block) == ["AC008"]


def test_tabs_non_utf8_empty_and_syntax() -> None:
    assert codes(load_text("t.yaml", "a:\n\tb: 1\n")) == ["AC005"]
    assert codes(load_source(Source("x.yaml", b"a: caf\xe9\n", None))) == ["AC002"]
    assert codes(load_text("e.yaml", "")) == ["AC003"]
    assert codes(load_text("e.yaml", "# nothing\n")) == ["AC003"]
    assert codes(load_text("s.yaml", "a: [1, 2\n")) == ["AC004"]


def test_tags_other_than_core_are_refused() -> None:
    assert codes(load_text("t.yaml", "a: !!python/object:os.system x\n")) == ["AC016"]
    assert codes(load_text("t.yaml", "a: !custom {b: 1}\n")) == ["AC016"]
    assert load_text("t.yaml", "a: !!str 010\n").documents[0].data == {"a": "010"}


def test_non_string_keys_are_reported() -> None:
    r = load_text("t.yaml", "1: a\n")
    assert codes(r) == ["AC015"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(data: bytes) -> None:
    r = load_source(Source("fuzz.yaml", data, None))
    for d in r.diagnostics:
        assert d.line >= 1 and d.column >= 1 and d.code.startswith("AC")


YAMLISH = st.lists(st.sampled_from(
    ["a", ":", " ", "\n", "- ", "[", "]", "{", "}", ",", "&x", "*x", "!!str", "'", '"', "#", "\t", "---", "1", "é", "?", "|", ">"]
), max_size=60).map("".join)


@settings(max_examples=500, deadline=None)
@given(YAMLISH)
def test_token_soup_never_raises(text: str) -> None:
    r = load_text("soup.yaml", text)
    assert all(d.line >= 1 for d in r.diagnostics)
