"""The compiled form: canonical bytes, schema, digests, index, implied rules; and loading it back."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from agentos_contracts.policy import compile_files, ir, load_compiled
from agentos_contracts.policy.compiler import compile_sources
from agentos_contracts.resources import schema

TEXT = b'''policy demo
attribute roles: set<string>
attribute h: string
attribute risk: number
ALLOW web.fetch, fs.* IF "a" IN roles AND NOT (h CONTAINS "x") AND h NOT IN ["y"]
DENY * IF risk > 0.5
REQUIRE CONSENT FOR pay.charge
'''
CONTRACT = {"name": "demo", "capabilities": ["web.fetch", "fs.read"], "security": {"consent_for": ["pay.charge"]}}


def compiled(text: bytes = TEXT, contract: Any = CONTRACT) -> dict[str, Any]:
    result = compile_sources([("demo.policy", text)], contract)
    assert result.ok, result.diagnostics
    assert result.policy.data is not None
    return json.loads(result.policy.data)


def test_output_validates_against_the_shipped_schema() -> None:
    Draft202012Validator(schema("compiled-policy.schema.json")).validate(compiled())
    Draft202012Validator(schema("compiled-policy.schema.json")).validate(compiled(contract=None))


def test_same_sources_give_identical_bytes() -> None:
    a = compile_sources([("demo.policy", TEXT)], CONTRACT).policy.data
    b = compile_sources([("demo.policy", TEXT)], dict(CONTRACT)).policy.data
    assert a == b and a is not None
    assert a.endswith(b"\n") and a.count(b"\n") == 1
    assert json.dumps(json.loads(a), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n" == a


def test_document_contents() -> None:
    doc = compiled()
    assert (doc["kind"], doc["formatVersion"]) == ("CompiledPolicy", 1)
    assert doc["sources"] == [{"file": "demo.policy", "policy": "demo",
                               "digest": "sha256:" + hashlib.sha256(TEXT).hexdigest()}]
    assert doc["ceiling"] == {"contract": "demo", "targets": ["web.fetch", "fs.read", "pay.charge"]}
    assert [r["id"] for r in doc["rules"]] == ["contract:consent_for", "demo.policy:5", "demo.policy:6",
                                               "demo.policy:7"]
    assert doc["declarations"] == {"h": "string", "risk": "number", "roles": "set<string>"}
    rule = doc["rules"][1]
    assert rule["span"] == {"file": "demo.policy", "line": 5, "column": 1, "end_line": 5, "end_column": 82}
    a, b, c = rule["condition"]["args"]
    assert a == {"op": "in", "left": {"op": "value", "value": "a"},
                 "right": {"op": "attr", "path": ["roles"], "type": "set<string>"}}
    assert b == {"op": "not", "arg": {"op": "in", "left": {"op": "value", "value": "x"},
                                      "right": {"op": "attr", "path": ["h"], "type": "string"}}}  # CONTAINS → IN, swapped
    assert c == {"op": "not", "arg": {"op": "in", "left": {"op": "attr", "path": ["h"], "type": "string"},
                                      "right": {"op": "list", "items": ["y"]}}}
    assert doc["index"] == {"exact": {"pay.charge": [0, 3], "web.fetch": [1]}, "prefix": {"fs.": [1]}, "all": [2]}


def test_contract_with_no_policies_compiles_implied_allow() -> None:
    result = compile_sources([], CONTRACT)
    doc = json.loads(result.policy.data or b"{}")
    assert [(r["id"], r["effect"], r["targets"]) for r in doc["rules"]] == [
        ("contract:consent_for", "consent", ["pay.charge"]),
        ("contract:capabilities", "allow", ["web.fetch", "fs.read"])]


def test_malformed_contract_entries_never_widen_the_ceiling() -> None:
    doc = compiled(b"ALLOW x\n", {"capabilities": ["ok.a", "bad name", 3, "*.x"], "security": {"consent_for": "x"}})
    assert doc["ceiling"]["targets"] == ["ok.a"]


def test_compile_files_and_load_compiled_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "demo.policy"
    src.write_bytes(TEXT)
    policy = compile_files([str(src)], CONTRACT)
    assert policy.ok
    out = tmp_path / "demo.compiled.json"
    out.write_bytes(policy.data or b"")
    loaded = load_compiled(str(out))
    assert loaded.ok
    for action, ctx in [("web.fetch", {"roles": ["a"], "h": "q", "risk": 0.1}), ("fs.read", {"risk": 0.9}),
                        ("pay.charge", {"risk": 0}), ("nope", {})]:
        assert loaded.decide(action, ctx) == policy.decide(action, ctx)


def test_compile_files_reports_unreadable_files() -> None:
    policy = compile_files(["/nonexistent/x.policy"])
    assert not policy.ok and policy.diagnostics[0].code == "AC001"
    assert policy.decide("x", {}).effect == "deny"


def test_not_utf8_is_a_located_error() -> None:
    result = compile_sources([("bin.policy", b"ALLOW x\n\xff\n")])
    (d,) = result.diagnostics
    assert (d.code, d.line, d.column) == ("AC002", 2, 1)


# ---- loading refuses what it does not know ------------------------------------------------------


def load(doc: dict[str, Any]) -> list[Any]:
    _, diags = ir.load_text(json.dumps(doc), "c.json")
    return diags


def test_unknown_version_is_refused() -> None:
    doc = compiled()
    doc["formatVersion"] = 2
    (d,) = load(doc)
    assert d.code == "AC341" and "`2`" in d.message


def test_tampered_index_is_refused() -> None:
    doc = compiled()
    doc["index"]["all"] = []  # hide the DENY *
    (d,) = load(doc)
    assert d.code == "AC342" and d.message.startswith("invalid compiled policy at `/index`")


@pytest.mark.parametrize("path, value", [
    (("rules", 1, "effect"), "permit"),
    (("rules", 1, "targets"), ["bad target"]),
    (("rules", 1, "condition", "op"), "eval"),
    (("rules", 2, "condition", "right", "value"), [1]),
    (("rules", 2, "condition", "left", "path"), []),
    (("rules", 1, "condition", "args"), []),
    (("rules", 1, "id"), "contract:consent_for"),
])
def test_malformed_nodes_are_refused(path: tuple[Any, ...], value: Any) -> None:
    doc = compiled()
    node = doc
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    diags = load(doc)
    assert [d.code for d in diags] == ["AC342"]


def test_not_json_nan_and_deep_nesting_are_refused() -> None:
    for text in ("{", '{"kind": "CompiledPolicy", "formatVersion": NaN}', "[" * 100000 + "]" * 100000, "[]"):
        _, diags = ir.load_text(text, "c.json")
        assert [d.code for d in diags] in (["AC340"], ["AC341"])


def test_deeply_nested_condition_is_refused() -> None:
    doc = compiled()
    node: dict[str, Any] = {"op": "truth", "arg": {"op": "value", "value": True}}
    for _ in range(300):
        node = {"op": "not", "arg": node}
    doc["rules"][1]["condition"] = node
    assert [d.code for d in load(doc)] == ["AC342"]


def test_load_compiled_unreadable_file_denies(tmp_path: Path) -> None:
    p = load_compiled(str(tmp_path / "missing.json"))
    assert not p.ok and p.diagnostics[0].code == "AC340"
    assert p.decide("x", {}).effect == "deny"


@pytest.mark.parametrize("glob, yes, no", [
    ("*.gov", ["a.gov", ".gov", "a/b.gov"], ["a.gov.x", "a.GOV"]),
    ("a?c", ["abc", "a.c"], ["ac", "abbc"]),
    ("[abc]x", ["ax", "cx"], ["dx", "x"]),
    ("[!abc]x", ["dx"], ["ax"]),
    ("[a-c]", ["b"], ["d"]),
    ("[]]", ["]"], ["a"]),
    ("\\*", ["*"], ["a"]),
    ("a.b", ["a.b"], ["axb"]),
])
def test_globs(glob: str, yes: list[str], no: list[str]) -> None:
    import re

    rx = re.compile(ir.glob_regex(glob), re.DOTALL)
    assert all(rx.fullmatch(s) for s in yes)
    assert not any(rx.fullmatch(s) for s in no)


@pytest.mark.parametrize("glob", ["[abc", "a\\", "[z-a]", "[!"])
def test_bad_globs(glob: str) -> None:
    with pytest.raises(ir.GlobError):
        ir.glob_regex(glob)
