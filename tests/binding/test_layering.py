"""Layering: maps merge, lists replace, `must` lists intersect, governed keys only narrow, provenance per leaf."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.binding.layering import merge_layers

PLACES = ["edge", "on-prem", "cloud"]


def test_maps_merge_and_lists_replace() -> None:
    out = merge_layers([
        ("platform", {"budgets": {"calls": 10, "tokens": 5}, "tags": ["a", "b"], "x": {"y": 1}}),
        ("contract", {"budgets": {"tokens": 3}, "tags": ["c"], "x": {"z": 2}}),
    ])
    assert out.data == {"budgets": {"calls": 10, "tokens": 3}, "tags": ["c"], "x": {"y": 1, "z": 2}}
    assert out.provenance == {"/budgets/calls": ["platform"], "/budgets/tokens": ["platform", "contract"],
                              "/tags": "contract", "/x/y": "platform", "/x/z": "contract"}


def test_null_in_a_later_layer_does_not_reset() -> None:
    out = merge_layers([("tenant", {"memory": {"retention_days": 30}}), ("contract", {"memory": {"retention_days": None}})])
    assert out.data == {"memory": {"retention_days": 30}}
    assert out.provenance == {"/memory/retention_days": ["tenant"]}


def test_replacing_a_mapping_by_a_scalar_drops_its_leaves_provenance() -> None:
    out = merge_layers([("platform", {"x": {"a": 1, "b": 2}}), ("role", {"x": 3})])
    assert out.data == {"x": 3}
    assert out.provenance == {"/x": "role"}


def test_must_placement_intersects_and_records_who_narrowed() -> None:
    out = merge_layers([
        ("tenant", {"binding": {"must": {"placement": ["on-prem", "edge"]}}}),
        ("contract", {"binding": {"must": {"placement": ["edge", "cloud"]}, "mode": "strict"}}),
    ])
    assert out.data["binding"] == {"must": {"placement": ["edge"]}, "mode": "strict"}
    assert out.provenance["/binding/must/placement"] == "contract"
    assert not out.conflicts


def test_must_that_a_later_layer_does_not_narrow_keeps_its_layer() -> None:
    out = merge_layers([("tenant", {"binding": {"must": {"placement": ["edge"]}}}),
                        ("contract", {"binding": {"must": {"placement": ["edge", "on-prem"]}}})])
    assert out.data["binding"]["must"]["placement"] == ["edge"]
    assert out.provenance["/binding/must/placement"] == "tenant"


def test_edge_only_counts_as_edge_when_intersecting() -> None:
    out = merge_layers([("tenant", {"binding": {"must": {"placement": "edge-only"}}}),
                        ("contract", {"binding": {"must": {"placement": ["edge"]}}})])
    assert out.data["binding"]["must"]["placement"] == "edge-only"  # unchanged: edge-only is edge
    assert not out.conflicts


def test_must_model_refs_intersect_by_name_with_both_ranges() -> None:
    out = merge_layers([
        ("tenant", {"binding": {"must": {"model": ["llm@>=1.0,<3", "other"]}}}),
        ("contract", {"binding": {"must": {"model": "llm@>=2"}}}),
    ])
    assert out.data["binding"]["must"]["model"] == ["llm@>=1.0.0,<3.0.0,>=2.0.0"]


def test_empty_intersection_is_a_conflict_naming_every_layer() -> None:
    out = merge_layers([
        ("platform", {"binding": {"must": {"placement": ["edge", "cloud"]}}}),
        ("tenant", {"binding": {"must": {"placement": ["edge"]}}}),
        ("contract", {"binding": {"must": {"placement": ["cloud"]}}}),
    ])
    assert out.data["binding"]["must"]["placement"] == []
    [conflict] = out.conflicts
    assert conflict.key == "placement"
    assert conflict.detail == "platform requires [edge, cloud], tenant requires [edge], contract requires [cloud]"


def test_request_layer_is_last() -> None:
    out = merge_layers([("contract", {"capabilities": ["a", "b"], "binding": {"mode": "smooth"}}),
                        ("request", {"capabilities": ["a"], "binding": {"mode": "strict"}})])
    assert out.data == {"capabilities": ["a"], "binding": {"mode": "strict"}}
    assert out.provenance == {"/capabilities": ["contract", "request"], "/binding/mode": ["contract", "request"]}
    assert not out.widenings


@settings(max_examples=200)
@given(st.lists(st.lists(st.sampled_from(PLACES), min_size=1, max_size=3, unique=True), min_size=1, max_size=5))
def test_must_only_tightens(layers: list[list[str]]) -> None:
    out = merge_layers([(f"l{i}", {"binding": {"must": {"placement": p}}}) for i, p in enumerate(layers)])
    merged = out.data["binding"]["must"]["placement"]
    expected = set(PLACES).intersection(*map(set, layers))
    assert set(merged) == expected
    assert bool(out.conflicts) == (not expected)
    for p in layers:
        assert set(merged) <= set(p)
