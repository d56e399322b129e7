"""docs/kubernetes.md: its custom-resource examples validate, fit the CRD schema and are admitted."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema

from agentos_contracts.admit import AdmitOptions, admit
from agentos_contracts.documents.loader import load_text
from agentos_contracts.k8s.crds import crds

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "kubernetes.md").read_text(encoding="utf-8")
BLOCKS = [b for b in re.findall(r"```yaml\n(.*?)```", DOC, re.S) if "agentos.dev/v1alpha1" in b]


def test_the_page_shows_a_custom_resource() -> None:
    assert BLOCKS


def test_examples_fit_the_crd_and_are_admitted(tmp_path: Path) -> None:
    schemas = {c["spec"]["names"]["kind"]: c["spec"]["versions"][0]["schema"]["openAPIV3Schema"] for c in crds()}
    for i, block in enumerate(BLOCKS):
        doc = load_text("doc.yaml", block).documents[0].data
        assert not list(jsonschema.Draft4Validator(schemas[doc["kind"]]).iter_errors(doc))
        path = tmp_path / f"example-{i}.yaml"
        path.write_text(block)
        result = admit([str(path)], str(REPO / "contracts" / "platforms" / "city-edge.yaml"), AdmitOptions(seal=False))
        assert result.ok and [a.name for a in result.admitted] == [doc["metadata"]["name"]], result.diagnostics
