"""The sealed fixtures: golden bytes, each invalid manifest's code, and the schema's cases."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from agentos_contracts.documents.pointer import split as pointer_split
from agentos_contracts.seal import keys
from agentos_contracts.seal.manifest import seal_manifest, verify_manifest
from agentos_contracts.seal.schema import predicate_errors

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "seal"
SUBJECTS: list[tuple[str, bytes | str]] = [
    ("contract:contracts/example.yaml", b"apiVersion: agentos/v0.2\n"),
    ("platform:platform.yaml", b"kind: Platform\n"),
]
PUBLIC = keys.read_public_key(FIXTURES / "keys" / "test.pub")


@pytest.mark.parametrize("name", ["hrt-agent", "workflow"])
def test_sealing_is_byte_stable_across_releases(name: str) -> None:
    # a change here changes the bytes (and digests) of manifests already issued
    key = keys.read_private_key(FIXTURES / "keys" / "test.key")
    predicate = json.loads((FIXTURES / "valid" / f"{name}.predicate.json").read_text("utf-8"))
    golden = (FIXTURES / "valid" / f"{name}.manifest.json").read_bytes()
    assert seal_manifest(predicate, SUBJECTS, key) == golden
    assert verify_manifest(golden, [PUBLIC]).ok


@pytest.mark.parametrize("path", sorted((FIXTURES / "invalid").glob("*.manifest.json")), ids=lambda p: p.name)
def test_invalid_manifest_fixtures_fail_with_their_code(path: Path) -> None:
    expected = path.name.split("-", 1)[0]
    result = verify_manifest(path.read_bytes(), [PUBLIC])
    assert not result.ok
    assert [p.code for p in result.problems] == [expected]


def _apply(doc: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    for pointer, value in case.get("set", {}).items():
        *parents, last = pointer_split(pointer)
        node: Any = out
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = value
    for pointer in case.get("remove", []):
        *parents, last = pointer_split(pointer)
        node = out
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]
    return out


CASES = json.loads((FIXTURES / "invalid" / "predicate-cases.json").read_text("utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["shows"] for c in CASES])
def test_schema_rejects_invalid_predicates(case: dict[str, Any]) -> None:
    base = json.loads((FIXTURES / "valid" / f"{case['base']}.predicate.json").read_text("utf-8"))
    assert predicate_errors(base) == []
    errors = predicate_errors(_apply(base, case))
    assert any(f"predicate `{case['pointer']}`" in e and case["message"] in e for e in errors), errors
