"""The custom-resource form reads as the document it stands for, with every place kept."""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.documents.custom import (document_pointer_to_resource, from_resource,
                                                resource_pointer_to_document)
from agentos_contracts.documents.loader import load_text
from agentos_contracts.validate import validate_paths

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "k8s"


def _one(text: str):  # type: ignore[no-untyped-def]
    loaded = load_text("cr.yaml", text)
    return from_resource(loaded.documents[0])


def test_contract_reads_as_its_document_with_namespace_as_tenant() -> None:
    doc, diags = _one("apiVersion: agentos.dev/v1alpha1\nkind: AgentContract\nmetadata: {name: a, namespace: robotics}\n"
                      "spec:\n  class: {latency: DT}\n")
    assert not diags and doc is not None
    assert doc.data == {"apiVersion": "agentos/v0.2", "kind": "AgentContract", "name": "a", "tenant": "robotics",
                        "class": {"latency": "DT"}}
    assert doc.span("/class/latency").line == 5  # the line in the custom-resource file
    assert doc.span("/tenant").line == 3 and doc.span("/name").line == 3


def test_validate_locates_diagnostics_in_the_custom_resource_file() -> None:
    report = validate_paths([str(FIX / "contract-cr.yaml")])
    [d] = [d for d in report.diagnostics if d.code == "AC112"]
    assert (d.line, d.path) == (11, "/spec/class/slo/wcet_ms")
    assert "`wcet_ms` 12 exceeds `deadline_ms` 10" in d.message


def test_missing_key_is_reported_at_spec(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("apiVersion: agentos.dev/v1alpha1\nkind: AgentContract\nmetadata:\n  name: a\nspec:\n"
                 "  capabilities: [x.y]\n")
    [d] = [d for d in validate_paths([str(f)]).diagnostics if d.code == "AC102"]
    assert (d.line, d.column, d.path) == (5, 1, "/spec/class")


def test_spec_tenant_must_match_the_namespace() -> None:
    report = validate_paths([str(FIX / "tenant-mismatch-cr.yaml")])
    [d] = [d for d in report.diagnostics if d.code == "AC834"]
    assert d.line == 7 and d.path == "/spec/tenant" and "`robotics`" in d.message


def test_bad_header_reports_each_problem_at_its_place() -> None:
    report = validate_paths([str(FIX / "bad-header-cr.yaml")])
    got = {(d.code, d.line) for d in report.diagnostics}
    assert {("AC830", 1), ("AC832", 3), ("AC835", 6), ("AC836", 4), ("AC837", 7)} <= got
    assert not report.ok


def test_wrong_kind_in_our_group() -> None:
    doc, diags = _one("apiVersion: agentos.dev/v1alpha1\nkind: TaskSet\nmetadata: {name: a}\nspec: {}\n")
    assert doc is None and [d.code for d in diags] == ["AC831"]


def test_cli_validate_and_admit_read_custom_resources(tmp_path: Path) -> None:
    """The examples in custom-resource form validate and admit exactly as the originals do."""
    repo = Path(__file__).resolve().parents[2]
    from agentos_contracts.documents.writer import dump_yaml
    from agentos_contracts.k8s.resources import to_resource

    shutil.copytree(repo / "contracts", tmp_path / "contracts")
    for f in [tmp_path / "contracts" / "safety-kill-switch.yaml", tmp_path / "contracts" / "doc-rag-planner.yaml"]:
        doc = load_text(str(f), f.read_text()).documents[0]
        f.write_text(dump_yaml([to_resource(doc.data)]))
    from agentos_contracts.admit import AdmitOptions, admit

    here = tmp_path / "contracts"
    result = admit([str(here / "safety-kill-switch.yaml"), str(here / "doc-rag-planner.yaml")],
                   str(here / "platforms" / "city-edge.yaml"), AdmitOptions(seal=False))
    assert result.ok, [d.message for d in result.diagnostics if d.is_error]
    assert sorted(a.name for a in result.admitted) == ["doc-rag-planner", "safety-kill-switch"]
    assert validate_paths([str(here)]).ok


_token = st.text(alphabet="abc/~_-", min_size=1, max_size=5)


@given(st.lists(_token, min_size=1, max_size=4))
@settings(max_examples=200, deadline=None)
def test_pointers_round_trip(tokens: list[str]) -> None:
    from agentos_contracts.documents.pointer import from_parts

    pointer = from_parts(tokens)
    if tokens[0] in ("apiVersion", "kind"):
        return
    back = resource_pointer_to_document(document_pointer_to_resource(pointer))
    assert back == pointer or tokens[0] == "name" and back.startswith("/metadata/name/")
