"""BindingManifest: JSON round trips, hashability and schema-valid defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentos_contracts.model.manifest import BindingManifest, Placement, Resolved, ResolvedModel, Schedulability
from agentos_contracts.seal.schema import predicate_errors

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "seal" / "valid"


@pytest.mark.parametrize("name", ["hrt-agent", "workflow"])
def test_json_round_trip(name: str) -> None:
    doc = json.loads((FIXTURES / f"{name}.predicate.json").read_text("utf-8"))
    manifest = BindingManifest.from_json(doc)
    assert manifest.to_json() == doc
    assert BindingManifest.from_json(manifest.to_json()) == manifest
    hash(manifest)  # free-form JSON parts are excluded from hashing


def test_minimal_manifest_is_schema_valid() -> None:
    manifest = BindingManifest(agentos_version="0.1.0", kind="AgentContract", name="a")
    assert predicate_errors(manifest.to_json()) == []
    assert "sequence" not in manifest.to_json()  # optional clock and sequence fields only when set


def test_typed_parts_serialise_in_camel_case() -> None:
    manifest = BindingManifest(
        agentos_version="0.1.0", kind="AgentContract", name="a", latency_class="HRT", binding_mode="strict",
        resolved=Resolved(
            models=(ResolvedModel(name="m", version="1.0.0", ref="m@>=1.0.0,<2.0.0", placement="edge", node="n"),),
            placement=(Placement(node="n", core=0),),
        ),
        schedulability=Schedulability(scheduler="EDF", node="n", core=0, response_time_ms=None, deadline_ms=10,
                                      utilization=0.5, slack_ms=None, utilization_exact="1/2"),
        sequence=3,
    )
    doc = manifest.to_json()
    assert doc["latencyClass"] == "HRT" and doc["sequence"] == 3
    assert doc["schedulability"]["utilizationExact"] == "1/2" and doc["schedulability"]["responseTimeMs"] is None
    assert predicate_errors(doc) == []
    assert BindingManifest.from_json(doc) == manifest
