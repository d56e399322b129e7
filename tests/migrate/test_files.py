"""Migrating the paper's examples (tests/fixtures/paper, pasted from sections 3.4, 4.3, 4.4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.documents.loader import load_text
from agentos_contracts.migrate.files import migrate_text, write
from agentos_contracts.migrate.rules import PAPER_CONTRACT_KEYS
from agentos_contracts.validate.pipeline import run

PAPER = Path(__file__).resolve().parent.parent / "fixtures" / "paper"
PLATFORM = Path(__file__).resolve().parents[2] / "contracts" / "platforms" / "city-edge.yaml"


def migrated(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    result = migrate_text(str(target), (PAPER / name).read_text(encoding="utf-8"))
    result.original = ""  # write everything, as --write does for a changed file
    write(result)
    return target


def test_strict_example_keeps_its_comment_and_nests_the_flat_keys(tmp_path: Path) -> None:
    result = migrate_text("k.yaml", (PAPER / "safety-kill-switch.yaml").read_text(encoding="utf-8"))
    doc = load_text("k.yaml", result.text).documents[0].data
    assert result.text.startswith("# Strict binding for safety-critical operations\n")
    assert doc["kind"] == "AgentContract" and doc["name"] == "safety-kill-switch"
    assert doc["class"] == {"latency": "HRT", "slo": {"deadline_ms": 10}}
    assert doc["binding"]["must"] == {"model": ["on_device_kwd@>=3.0.0,<4.0.0"], "placement": ["edge"]}
    assert not PAPER_CONTRACT_KEYS & set(doc)
    lines = {c.line for c in result.changes}
    assert {2, 3, 4, 5, 6, 7} <= lines  # every rewrite names the original line


def test_flexible_example_gets_flexible_mode_and_keeps_the_phi_comment() -> None:
    result = migrate_text("s.yaml", (PAPER / "speech-copilot.yaml").read_text(encoding="utf-8"))
    assert "# PHI compliance" in result.text
    doc = load_text("s.yaml", result.text).documents[0].data
    assert doc["binding"]["mode"] == "flexible"
    assert doc["binding"]["prefer"]["model"] == ["asr_local@>=2.0.0,<4.0.0", "asr_cloud@>=2.0.0,<3.0.0"]
    assert any("allow_fallbacks" in c.message and "flexible" in c.message for c in result.changes)


def test_workflow_gets_inputs_quantities_and_a_policy_file(tmp_path: Path) -> None:
    path = migrated(tmp_path, "city-permit-assistant.yaml")
    doc = load_text(str(path), path.read_text(encoding="utf-8")).documents[0].data
    assert doc["kind"] == "Workflow" and doc["name"] == "city_permit_assistant"
    assert doc["inputs"] == {"user_query": "string"}
    steps = {s["id"]: s for s in doc["steps"]}
    assert steps["summarize"]["contract"]["budgets"] == {"tokens": 50000}
    assert steps["plan"]["contract"]["class"] == {"latency": "SRT"}
    policy = tmp_path / "city-permit-assistant.browse.policy"
    assert steps["browse"]["contract"]["policies"] == [policy.name]
    assert "ALLOW web.fetch\nDENY fs.write\n" in policy.read_text(encoding="utf-8")
    assert "# selected URLs from planner" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(p.name for p in PAPER.glob("*.yaml")))
def test_migration_is_idempotent(tmp_path: Path, name: str) -> None:
    path = migrated(tmp_path, name)
    again = migrate_text(str(path), path.read_text(encoding="utf-8"))
    assert not again.changed and not again.migrations


def test_migrated_examples_validate_except_what_only_the_author_knows(tmp_path: Path) -> None:
    """The flexible example validates clean; the HRT one still lacks the WCET nobody can guess."""
    paths = [str(migrated(tmp_path, n)) for n in ("speech-copilot.yaml", "safety-kill-switch.yaml")]
    report = run([*paths, str(PLATFORM)])
    errors = [(Path(d.file).name, d.code) for d in report.diagnostics if d.is_error]
    assert errors == [("safety-kill-switch.yaml", "AC110")]


def test_migrated_workflow_validates_with_its_agents(tmp_path: Path) -> None:
    """With contracts for the paper's agent names, the migrated workflow is valid as a whole."""
    wf = migrated(tmp_path, "city-permit-assistant.yaml")
    for agent, caps in (("planner", ["tools.plan"]), ("browser_agent", ["web.fetch"]),
                        ("doc_rag_planner", ["rag.retrieve", "summarize"])):
        (tmp_path / f"{agent}.yaml").write_text(
            "apiVersion: agentos/v0.2\nkind: AgentContract\n"
            f"name: {agent}\nclass: {{latency: SRT, slo: {{onset_ms: 300, turn_ms: 1200}}}}\n"
            f"capabilities: {caps}\nmodelPolicy: {{allow: [\"local/8B\"]}}\nbinding: {{mode: flexible}}\n",
            encoding="utf-8")
    report = run([str(tmp_path)])
    assert [d for d in report.diagnostics if d.is_error] == []


def test_unknown_keys_and_placeholders_are_reported_not_guessed() -> None:
    text = "agent: a\nlatency_class: HRT\nowner: alice\ndeadline_ms: 10\njitter_ms: jitter ms\n"
    result = migrate_text("a.yaml", text)
    codes = sorted((p.code, p.line) for p in result.problems)
    assert codes == [("AC051", 3), ("AC052", 5)]
    doc = load_text("a.yaml", result.text).documents[0].data
    assert doc["owner"] == "alice" and doc["class"]["slo"]["jitter_ms"] == "jitter ms"  # left as written


def test_existing_policy_file_with_other_rules_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "wf.browse.policy").write_text("DENY *\n", encoding="utf-8")
    text = ("workflow: wf\nsteps:\n  - id: browse\n    agent: b\n"
            "    contract: {policies: {allow: [web.fetch]}}\n    in: {q: string}\n    out: {p: json}\n")
    result = migrate_text(str(tmp_path / "wf.yaml"), text)
    assert [p.code for p in result.problems] == ["AC053"]
    assert result.generated == {}


_KEY = st.sampled_from(["deadline_ms", "wcet_ms", "period_ms", "onset_ms", "turn_ms"])


@settings(max_examples=60, deadline=None)
@given(latency=st.sampled_from(["HRT", "SRT", "DT"]),
       slos=st.dictionaries(_KEY, st.integers(min_value=1, max_value=10_000), max_size=4),
       binding=st.fixed_dictionaries({}, optional={
           "must": st.fixed_dictionaries({"placement": st.sampled_from(["edge-only", "edge", "cloud"])}),
           "prefer": st.fixed_dictionaries({"model": st.lists(st.sampled_from(
               ["m_v1", "m_v2..v4", "local/8B"]), min_size=1, max_size=3)}),
           "bind": st.sampled_from(["strict", "smooth", "flexible"])}),
       comment=st.booleans())
def test_any_paper_contract_migrates_once_to_canonical_keys(latency: str, slos: dict[str, int],
                                                            binding: dict[str, object], comment: bool) -> None:
    lines = ["# a note\n" if comment else "", "agent: probe\n", f"latency_class: {latency}\n"]
    lines += [f"{k}: {v}\n" for k, v in slos.items()]
    for key, value in binding.items():
        if isinstance(value, dict):
            lines.append(f"{key}:\n" + "".join(f"  {k}: {v!r}\n".replace("'", '"') for k, v in value.items()))
        else:
            lines.append(f"{key}: {value}\n")
    text = "".join(lines)
    first = migrate_text("p.yaml", text)
    doc = load_text("p.yaml", first.text).documents[0].data
    assert doc["apiVersion"] == "agentos/v0.2" and doc["kind"] == "AgentContract"
    assert not PAPER_CONTRACT_KEYS & set(doc)
    assert doc["class"]["latency"] == latency and doc["class"].get("slo", {}) == slos
    assert ("# a note" in first.text) == comment
    assert not migrate_text("p.yaml", first.text).changed  # idempotent


def test_canonical_contract_gets_only_the_edge_only_shorthand_fixed() -> None:
    text = ("apiVersion: agentos/v0.2\nkind: AgentContract\nname: k\n"
            "binding:\n  mode: strict\n  must: {placement: edge-only, model: on_device_kwd_v3}\n")
    result = migrate_text("k.yaml", text)
    assert "must: {placement: [edge], model: on_device_kwd_v3}" in result.text  # refs stay: a valid spelling
    assert [c.line for c in result.changes] == [6]
    assert not migrate_text("k.yaml", result.text).changed
