"""The published manifest schema: valid Draft 2020-12, documented, and in step with seal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from jsonschema import Draft202012Validator

from agentos_contracts import resources
from agentos_contracts.seal.schema import SCHEMA_FILE, envelope_errors, statement_errors


def _properties(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{where}/{name}", sub
        for key, sub in node.items():
            yield from _properties(sub, f"{where}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _properties(sub, f"{where}/{i}")


def _valid_predicate() -> dict[str, Any]:
    path = Path(__file__).resolve().parent.parent / "fixtures" / "seal" / "valid" / "hrt-agent.predicate.json"
    return json.loads(path.read_text("utf-8"))


def test_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(resources.schema(SCHEMA_FILE))


def test_every_field_is_described() -> None:
    schema = resources.schema(SCHEMA_FILE)
    defs = schema["$defs"]
    missing = []
    for where, sub in _properties(schema):
        target = defs[sub["$ref"].rsplit("/", 1)[1]] if "$ref" in sub else {}
        if "description" not in sub and "description" not in target:
            missing.append(where)
    assert missing == []


def test_envelope_shape() -> None:
    good = {"payloadType": "application/vnd.in-toto+json", "payload": "e30=", "signatures": [{"keyid": "a" * 64, "sig": "QQ=="}]}
    assert envelope_errors(good) == []
    assert envelope_errors({**good, "extra": 1})
    assert envelope_errors({**good, "payload": "not base64!"})
    assert envelope_errors({**good, "signatures": [{"keyid": "A" * 64, "sig": "QQ=="}]})
    assert envelope_errors({**good, "signatures": [{"keyid": "a" * 64, "sig": "QQ==", "cert": "x"}]})


def test_statement_needs_a_sha256_subject() -> None:
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "c", "digest": {"sha512": "00"}}],
        "predicateType": "https://agentos-contracts.dev/BindingManifest/v1",
        "predicate": {**_valid_predicate(), "name": "Not A Name"},
    }
    errors = statement_errors(statement)
    assert any("`/subject/0/digest`" in e for e in errors)
    assert any(e.startswith("statement `/predicate/name`") for e in errors)


def test_error_lists_are_capped() -> None:
    errors = statement_errors({"predicate": {f"x{i}": i for i in range(40)}})
    assert len(errors) == 21 and "more schema error(s) not shown" in errors[-1]
