"""The city_permit_assistant example end to end: sealed here, run under the runtime, audited.

The manifest here is sealed by hand with the seal API and the real policy compiler, with each
step's own ceiling as `agentos admit` writes it; tests/runtime/test_step_ceilings.py runs the
manifest that admission itself seals from contracts/.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentos_contracts.cli import app
from agentos_contracts.documents.discover import read_source
from agentos_contracts.documents.loader import load_source
from agentos_contracts.model.manifest import (
    BindingManifest, PolicyRef, Resolved, ResolvedTool, WorkflowPlan, WorkflowStep,
)
from agentos_contracts.runtime import Runtime, audit
from agentos_contracts.runtime.journal import Journal
from agentos_contracts.runtime.logstore import iter_records, read_log
from agentos_contracts.runtime.tools import MCP_FIELDS
from agentos_contracts.runtime.workflow import load_steps, run_workflow
from agentos_contracts.seal.canonical import canonical_digest
from agentos_contracts.seal.manifest import seal_manifest

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = ROOT / "contracts" / "platforms" / "city-edge.yaml"
STEPS = f"{ROOT / 'contracts' / 'workflows' / 'city_permit_steps.py'}:STEPS"
POLICY = ROOT / "tests" / "fixtures" / "runtime" / "city-permit.policy"
CAPABILITIES = ("tools.plan", "web.fetch", "rag.retrieve", "summarize")
BOUND = ("tools.plan", "web.fetch", "summarize", "email.send")
QUERY = "do I need a permit for a deck?"


def _platform_tools() -> dict[str, dict]:
    source, _ = read_source(str(PLATFORM))
    loaded = load_source(source)
    return {t["name"]: t for doc in loaded.documents if doc.kind == "Platform" for t in doc.data["tools"]}


@pytest.fixture()
def sealed(sealer) -> Path:
    from agentos_contracts.policy.compiler import compile_sources

    tools = _platform_tools()
    contract = {"name": "city_permit_assistant", "capabilities": list(CAPABILITIES),
                "security": {"consent_for": ["email.send"]}}
    compiled = compile_sources([("city-permit.policy", POLICY.read_bytes())], contract,
                               tool_schemas={n: t["inputSchema"] for n, t in tools.items()})
    assert compiled.ok, [d.message for d in compiled.diagnostics]
    document = dict(compiled.policy.document.data)
    steps = (
        WorkflowStep(id="plan", agent="planner", capabilities=("tools.plan",)),
        WorkflowStep(id="browse", agent="browser-agent", capabilities=("web.fetch",), depends_on=("plan",)),
        WorkflowStep(id="summarize", agent="doc-rag-planner", capabilities=("rag.retrieve", "summarize"),
                     depends_on=("browse",)),
        WorkflowStep(id="approve_send", agent=None, capabilities=("email.send",), consent_for=("email.send",),
                     timeout_s=5, escalate_to="permits-supervisor", depends_on=("summarize",)),
    )
    predicate = BindingManifest(
        agentos_version="0.1.0", kind="Workflow", name="city_permit_assistant", tenant="city-planning",
        latency_class="SRT", binding_mode="smooth", capabilities=CAPABILITIES, consent_for=("email.send",),
        budgets={"tokens": 50000, "calls_per_minute": 120},
        policy=PolicyRef(digest=canonical_digest(document), document=document),
        resolved=Resolved(tools=tuple(
            ResolvedTool(name=n, version=tools[n]["version"], placement=tools[n]["placement"],
                         descriptor_digest=canonical_digest({k: tools[n][k] for k in MCP_FIELDS if k in tools[n]}))
            for n in BOUND)),
        workflow=WorkflowPlan(steps=steps, deadline_ms=5000),
    )
    path = sealer.folder / "city_permit_assistant.manifest.json"
    path.write_bytes(seal_manifest(predicate, [("workflow:city-permit-assistant.yaml", b"wf")], sealer.key))
    return path


def _run(sealer, sealed: Path, folder: Path, approver) -> tuple[object, Path]:
    log = folder / "audit.db"
    with Runtime.load(sealed, sealer.pub, audit=log, approver=approver, tools=list(_platform_tools().values()),
                      checkpoint_key=sealer.private) as rt:
        with Journal.open(folder / "journal.db") as journal:
            report = run_workflow(rt, load_steps(STEPS), {"user_query": QUERY, "applicant": "ana@example.org"},
                                  journal)
    return report, log


def test_city_permit_runs_blocks_the_forbidden_call_and_audits(sealer, sealed, tmp_path: Path) -> None:
    shown = []

    def clerk(request):
        shown.append(dict(request.args))
        return request.approve("permits-clerk")

    report, log = _run(sealer, sealed, tmp_path, clerk)
    assert report.ok, report.error
    out = report.outputs
    assert out["plan"] == ["https://city.gov/permits/deck.html", "https://city.gov/permits/fees.html"]
    assert len(out["pages"]) == 2 and len(out["blocked"]) == 2
    assert all(b.startswith("fs.write: ") and "outside the capabilities of step `browse`" in b for b in out["blocked"])
    assert "- A deck higher than 30 inches above grade needs a building permit." in out["answer"]
    assert "- A deck permit costs 150 dollars; a fence permit costs 60 dollars." in out["answer"]
    assert out["citations"] == out["plan"]
    assert shown == [{"to": "ana@example.org", "body": shown[0]["body"]}] and out["answer"] in shown[0]["body"]
    assert out["message_id"].startswith("msg-")

    records = list(iter_records(read_log(log)))
    denied = [r for r in records if r["type"] == "tool.denied"]
    assert [(r["action"], r["rules"], r["step"], r["agent"]) for r in denied] == \
        [("fs.write", ["step:browse:capabilities"], "browse", "browser-agent")] * 2
    granted = [r for r in records if r["type"] == "consent.granted"]
    assert granted[0]["approver"] == "permits-clerk" and granted[0]["step"] == "approve_send"
    assert records[-1]["type"] == "agent.completed"
    assert "ana@example.org" not in log.read_bytes().decode("latin-1")  # arguments only as digests
    verdict = audit.verify(log, [sealer.key.public_key()])
    assert verdict.ok and verdict.attested_seq == verdict.last_seq


def test_city_permit_is_deterministic(sealer, sealed, tmp_path: Path) -> None:
    outputs = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        report, _ = _run(sealer, sealed, tmp_path / name, lambda r: True)
        outputs.append(report.outputs)
    assert outputs[0] == outputs[1] and outputs[0]["message_id"].startswith("msg-")


def test_city_permit_on_the_command_line(sealer, sealed, tmp_path: Path) -> None:
    runner = CliRunner()
    log = tmp_path / "cli-audit.db"
    args = ["run", str(sealed), "--steps", STEPS, "--pub", str(sealer.pub), "--audit", str(log),
            "--tools", str(PLATFORM), "--input", f"user_query={QUERY}", "--checkpoint-key", str(sealer.private),
            "--format", "json"]
    result = runner.invoke(app, args, env={"CI": "true"})
    # no terminal to ask (CI): the e-mail is not approved, the run fails closed
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and doc["diagnostics"][0]["code"] == "AC731"
    assert [(s["id"], s["status"]) for s in doc["steps"]] == [
        ("plan", "completed"), ("browse", "completed"), ("summarize", "completed"), ("approve_send", "failed")]
    assert "non-interactive" in doc["steps"][3]["error"]

    ok = runner.invoke(app, ["audit", "verify", str(log), "--pub", str(sealer.pub), "--format", "json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["ok"] is True

    # rerun: the journal keeps the completed steps from running again
    again = runner.invoke(app, args, env={"CI": "true"})
    statuses = [s["status"] for s in json.loads(again.stdout)["steps"]]
    assert statuses == ["journaled", "journaled", "journaled", "failed"]

    conn = sqlite3.connect(log)
    conn.execute("DELETE FROM records WHERE seq = 5")
    conn.commit()
    conn.close()
    bad = runner.invoke(app, ["audit", "verify", str(log), "--format", "json"])
    assert bad.exit_code == 1
    tampered = json.loads(bad.stdout)
    assert tampered["problems"][0]["seq"] == 5 and tampered["diagnostics"][0]["code"] == "AC711"
