"""The compiled manifest schema (seal's pre-check) agrees with jsonschema, and errors are unchanged."""

from __future__ import annotations

import base64
import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from agentos_contracts import resources
from agentos_contracts.documents.pointer import split as pointer_split
from agentos_contracts.seal import schema as seal_schema

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "seal"
FULL = resources.schema(seal_schema.SCHEMA_FILE)
ERRORS = {"envelope": seal_schema.envelope_errors, "statement": seal_schema.statement_errors,
          "predicate": seal_schema.predicate_errors}


def _reference(part: str) -> Draft202012Validator:
    """jsonschema on the published file itself (refs unresolved by us, unlike seal's inlined copy)."""
    if part == "envelope":
        return Draft202012Validator(FULL)
    return Draft202012Validator({"$schema": FULL["$schema"], "$id": FULL["$id"], "$defs": FULL["$defs"],
                                 "$ref": f"#/$defs/{part}"})


REFERENCE = {part: _reference(part) for part in ERRORS}


def _case_doc(case: dict[str, Any]) -> dict[str, Any]:
    out = json.loads((FIXTURES / "valid" / f"{case['base']}.predicate.json").read_text("utf-8"))
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
        del node[int(last) if isinstance(node, list) else last]
    return out


def _fixture_docs() -> list[tuple[str, str, Any]]:
    docs: list[tuple[str, str, Any]] = []
    for path in sorted((FIXTURES / "valid").glob("*.predicate.json")):
        docs.append((path.name, "predicate", json.loads(path.read_text("utf-8"))))
    for path in sorted(FIXTURES.glob("*/*.manifest.json")):
        try:
            envelope = json.loads(path.read_bytes())
        except ValueError:
            continue  # AC601: not JSON at all, no schema is asked
        docs.append((path.name, "envelope", envelope))
        try:
            docs.append((path.name, "statement", json.loads(base64.b64decode(envelope["payload"]))))
        except (KeyError, TypeError, ValueError):
            pass
    for case in json.loads((FIXTURES / "invalid" / "predicate-cases.json").read_text("utf-8")):
        docs.append((case["shows"], "predicate", _case_doc(case)))
    return docs


FIXTURE_DOCS = _fixture_docs()


def _without_precheck(part: str, doc: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    with monkeypatch.context() as m:
        m.setattr(seal_schema, "_precheck", lambda _part: None)
        return ERRORS[part](doc)


def _check_agreement(part: str, doc: Any, monkeypatch: pytest.MonkeyPatch) -> bool:
    fast = seal_schema._precheck(part)
    assert fast is not None, f"the manifest schema's `{part}` no longer compiles: seal lost its fast path"
    valid = REFERENCE[part].is_valid(doc)
    assert (fast(doc) is None) == valid, (part, doc)
    assert ERRORS[part](doc) == _without_precheck(part, doc, monkeypatch)
    return valid


def test_fixtures_cover_both_verdicts(monkeypatch: pytest.MonkeyPatch) -> None:
    verdicts = {_check_agreement(part, doc, monkeypatch) for _, part, doc in FIXTURE_DOCS}
    assert verdicts == {True, False}
    assert len([d for d in FIXTURE_DOCS if d[1] == "predicate"]) >= 20


@pytest.mark.parametrize("name,part,doc", FIXTURE_DOCS, ids=[f"{p}:{n}" for n, p, _ in FIXTURE_DOCS])
def test_compiled_schema_agrees_on_fixtures(name: str, part: str, doc: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _check_agreement(part, doc, monkeypatch)


# values chosen to break the manifest's rules: types, enums, patterns, minimums, unique and name rules
ODD = [None, True, False, 0, 1, -1, 1.0, 2.5, -0.5, 10**20, "", "x", "X", "edge", "HRT", "EDF", "sha256:" + "a" * 64,
       "a" * 64, "A" * 64, "e30=", "e30", "/budgets/x", "~2", [], ["a"], ["a", "a"], [1], {}, {"a": 1}, {"A": 1},
       {"/a": "contract"}, {"x": ""}]


def _containers(node: Any, out: list[Any]) -> list[Any]:
    if isinstance(node, (dict, list)):
        out.append(node)
        for kid in node.values() if isinstance(node, dict) else node:
            _containers(kid, out)
    return out


def mutate(doc: Any, rnd: random.Random) -> Any:
    """One field changed: replaced, removed, added, or a list item duplicated."""
    doc = copy.deepcopy(doc)
    node = rnd.choice([c for c in _containers(doc, []) if c])
    op = rnd.random()
    if isinstance(node, dict):
        key = rnd.choice(sorted(node))
        if op < 0.6:
            node[key] = rnd.choice(ODD)
        elif op < 0.8:
            del node[key]
        else:
            node[rnd.choice([key + "s", key.upper(), "/" + key, "x~", "extra"])] = rnd.choice(ODD)
    else:
        i = rnd.randrange(len(node))
        if op < 0.5:
            node[i] = rnd.choice(ODD)
        else:
            node.append(copy.deepcopy(node[i]))  # uniqueItems
    return doc


VALID_STATEMENT = json.loads(base64.b64decode(
    json.loads((FIXTURES / "valid" / "hrt-agent.manifest.json").read_bytes())["payload"]))
BASES = {"predicate": [json.loads(p.read_text("utf-8")) for p in sorted((FIXTURES / "valid").glob("*.predicate.json"))],
         "statement": [VALID_STATEMENT]}


@settings(max_examples=300, deadline=None)
@given(part=st.sampled_from(["predicate", "statement"]), seed=st.integers(0, 2**32 - 1))
def test_compiled_schema_agrees_on_single_field_mutations(part: str, seed: int) -> None:
    rnd = random.Random(seed)
    doc = mutate(rnd.choice(BASES[part]), rnd)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _check_agreement(part, doc, monkeypatch)
