"""Per-step ceilings end to end: the manifest `agentos admit` seals from contracts/, run under the runtime.

Each workflow step carries its own ceiling (its agent's capabilities, narrowed by the step's
override) and consent list; a call made inside a step meets that ceiling first, so a step
never borrows another agent's grants (004, section 4.3: least privilege across delegations).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentos_contracts.admit import AdmitOptions, admit
from agentos_contracts.cli import app
from agentos_contracts.model.manifest import WorkflowPlan, WorkflowStep
from agentos_contracts.runtime import PolicyDenied, Runtime, audit
from agentos_contracts.runtime.journal import Journal
from agentos_contracts.runtime.logstore import iter_records, read_log
from agentos_contracts.runtime.manifest import load_manifest, read_public_keys
from agentos_contracts.runtime.replay import replay
from agentos_contracts.runtime.workflow import load_steps, run_workflow
from agentos_contracts.seal import keys

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = ROOT / "contracts" / "platforms" / "city-edge.yaml"
STEPS = f"{ROOT / 'contracts' / 'workflows' / 'city_permit_steps.py'}:STEPS"
INPUTS = {"user_query": "do I need a permit for a deck?", "applicant": "ana@example.org"}
CONTEXT = {"unsafe_environment": False, "risk_score": 0.1}  # the attributes doc-rag-planner.policy reads
PAGE = {"url": "https://city.gov/permits/deck.html", "host": "city.gov"}
WRITE = {"path": "workspace/cache.html", "content": "<p>"}


class Admitted:
    def __init__(self, folder: Path, manifest: Path, pub: Path, private: Path, predicate: dict[str, Any]) -> None:
        self.folder, self.manifest, self.pub, self.private, self.predicate = folder, manifest, pub, private, predicate


@pytest.fixture(scope="module")
def admitted(tmp_path_factory: pytest.TempPathFactory) -> Admitted:
    """contracts/ admitted on the city-edge platform and sealed with a fresh Ed25519 key."""
    folder = tmp_path_factory.mktemp("admitted")
    key = keys.generate_private_key()
    private, pub = keys.save_key_pair(key, folder / "keys", "signer")
    result = admit([str(ROOT / "contracts")], str(PLATFORM), AdmitOptions(key=key))
    entry = next(a for a in result.admitted if a.name == "city_permit_assistant")
    assert entry.envelope is not None
    manifest = folder / "city_permit_assistant.manifest.json"
    manifest.write_bytes(entry.envelope)
    return Admitted(folder, manifest, pub, private, json.loads(json.dumps(entry.predicate)))


def _records(log: Path) -> list[dict[str, Any]]:
    return list(iter_records(read_log(log)))


def _ceilings(predicate: dict[str, Any]) -> dict[str, tuple[list[str], list[str]]]:
    return {s["id"]: (s["capabilities"], s["consentFor"]) for s in predicate["workflow"]["steps"]}


def test_admission_seals_each_steps_own_ceiling(admitted: Admitted) -> None:
    p = admitted.predicate
    assert _ceilings(p) == {
        "plan": (["tools.plan"], []),
        "browse": (["web.fetch"], []),
        # the override narrows doc-rag-planner's capabilities; consent it keeps only on what the step may do
        # (a consent entry is a grant with consent, so one outside the narrowed step would widen it)
        "summarize": (["rag.retrieve", "summarize"], []),
        "approve_send": (["email.send"], ["email.send"]),
    }
    # no step may ask for fs.write: the summarize step narrowed it away, browse never had it
    assert "fs.write" not in p["consentFor"] and "fs.write" not in _ceilings(p)["browse"][0]


def test_browse_fs_write_is_denied_by_its_step_ceiling_and_the_email_needs_consent(admitted: Admitted,
                                                                                  tmp_path: Path) -> None:
    shown: list[dict[str, Any]] = []

    def clerk(request: Any) -> Any:
        shown.append({"action": request.action, "step": request.step})
        return request.approve("permits-clerk")

    log = tmp_path / "audit.db"
    with Runtime.load(admitted.manifest, admitted.pub, audit=log, approver=clerk, retain_args=True,
                      checkpoint_key=admitted.private) as rt:
        with Journal.open(tmp_path / "journal.db") as journal, rt.context(**CONTEXT):
            report = run_workflow(rt, load_steps(STEPS), INPUTS, journal)
    assert report.ok, report.error
    assert report.outputs["blocked"] == ["fs.write: `fs.write` is outside the capabilities of step `browse`"] * 2
    assert report.outputs["message_id"].startswith("msg-")

    records = _records(log)
    writes = [r for r in records if r.get("action") == "fs.write"]
    # denied at the ceiling by the step's rule: never a consent request, never a call
    assert [(r["type"], r["decision"], r["stage"], r["rules"], r["step"], r["agent"]) for r in writes] == \
        [("tool.denied", "deny", "ceiling", ["step:browse:capabilities"], "browse", "browser-agent")] * 2
    email = [r for r in records if r.get("action") == "email.send"]
    assert [r["type"] for r in email] == ["consent.required", "consent.requested", "consent.granted",
                                          "tool.completed"]
    assert "contract:consent_for" in email[0]["rules"] and email[0]["step"] == "approve_send"
    assert shown == [{"action": "email.send", "step": "approve_send"}]
    verdict = audit.verify(log, [keys.read_public_key(admitted.pub)])
    assert verdict.ok and verdict.attested_seq == verdict.last_seq
    # replay re-decides each recorded call with its step: the same manifest gives the same decisions; the
    # summarize step's agent logs only `prompt` and `sources`, so its call's other arguments were kept as
    # digests and that call is skipped
    again = replay(log, load_manifest(admitted.manifest, read_public_keys(admitted.pub)))
    assert again.ok and again.same == again.replayed == 6  # plan 1, browse 4, send 1
    assert [reason for _, reason in again.skipped] == [
        "argument values outside `observability.log_fields` were kept as digests only"]


@pytest.mark.parametrize("step, action, args", [
    ("plan", "web.fetch", PAGE),           # the browser's action, asked for by the planner's step
    ("browse", "summarize", {"documents": ["<p>"]}),  # the summariser's, by the browser's step
    ("browse", "tools.plan", {"query": "deck"}),
    ("summarize", "web.fetch", PAGE),      # doc-rag-planner may fetch, but this step's override narrowed it away
    ("plan", "email.send", {"to": "a@b.org", "body": "x"}),  # only the HITL step may send, with consent
])
def test_a_step_cannot_use_another_agents_actions(admitted: Admitted, tmp_path: Path, step: str, action: str,
                                                  args: dict[str, Any]) -> None:
    ran: list[str] = []
    with Runtime.load(admitted.manifest, admitted.pub, audit=tmp_path / "a.db", approver=lambda r: True) as rt:
        with rt.context(**CONTEXT), pytest.raises(PolicyDenied) as denied:
            rt.call(action, args, lambda **kw: ran.append(action), step=step)
    assert ran == []
    decision = denied.value.decision
    assert (decision.effect, decision.stage, decision.rules) == ("deny", "ceiling", (f"step:{step}:capabilities",))
    assert decision.reason == f"`{action}` is outside the capabilities of step `{step}`"


def test_each_step_keeps_its_own_grants_and_plain_calls_keep_the_workflow_ceiling(admitted: Admitted,
                                                                                  tmp_path: Path) -> None:
    with Runtime.load(admitted.manifest, admitted.pub, audit=tmp_path / "a.db") as rt, rt.context(**CONTEXT):
        stepless = rt.authorize("tools.plan", None, {"query": "deck"})  # no step: denied, never the union
        assert (stepless.effect, stepless.rules) == ("deny", ("workflow:step-required",))
        denied = rt.authorize("fs.write", None, WRITE, step="browse")
        assert (denied.effect, denied.rules) == ("deny", ("step:browse:capabilities",))
        # the summarize step narrowed doc-rag-planner to retrieval: its fs.write consent went with it
        narrowed = rt.authorize("fs.write", None, WRITE, step="summarize")
        assert (narrowed.effect, narrowed.rules) == ("deny", ("step:summarize:capabilities",))
        assert rt.authorize("web.fetch", None, PAGE, step="browse").effect == "allow"
        assert rt.authorize("tools.plan", None, {"query": "deck"}, step="plan").effect == "allow"
        unknown = rt.authorize("tools.plan", None, {"query": "deck"}, step="nope")
        assert (unknown.effect, unknown.rules) == ("deny", ("step:nope:capabilities",))
        assert "not a step of this manifest" in unknown.reason
        outside = rt.authorize("shell.exec", None, {}, step="plan")  # outside both ceilings: the step's rule wins
        assert outside.rules == ("step:plan:capabilities",)
    denied_records = [r for r in _records(tmp_path / "a.db") if r["type"] == "tool.denied"]
    assert [(r["action"], r.get("step"), r["agent"], r["rules"]) for r in denied_records][:2] == [
        ("tools.plan", None, "city_permit_assistant", ["workflow:step-required"]),
        ("fs.write", "browse", "browser-agent", ["step:browse:capabilities"])]


def test_admitted_workflow_on_the_command_line_then_replayed(admitted: Admitted, tmp_path: Path) -> None:
    runner = CliRunner()
    log = tmp_path / "cli-audit.db"
    args = ["run", str(admitted.manifest), "--steps", STEPS, "--pub", str(admitted.pub), "--audit", str(log),
            "--input", f"user_query={INPUTS['user_query']}", "--context", json.dumps(CONTEXT), "--retain-args",
            "--format", "json"]
    result = runner.invoke(app, args, env={"CI": "true"})
    assert result.exit_code == 1, result.output  # no terminal to approve the e-mail: fails closed
    doc = json.loads(result.stdout)
    assert [(s["id"], s["status"]) for s in doc["steps"]] == [
        ("plan", "completed"), ("browse", "completed"), ("summarize", "completed"), ("approve_send", "failed")]
    denied = [r for r in _records(log) if r["type"] == "tool.denied"]
    assert {(r["action"], tuple(r["rules"]), r["step"]) for r in denied} == {
        ("fs.write", ("step:browse:capabilities",), "browse")}
    again = runner.invoke(app, ["audit", "replay", str(log), "--manifest", str(admitted.manifest), "--pub",
                                str(admitted.pub), "--format", "json"])
    assert again.exit_code == 0, again.output
    replayed = json.loads(again.stdout)
    assert replayed["ok"] and replayed["differences"] == [] and replayed["same"] == replayed["replayed"] > 0


def test_a_steps_own_consent_list_applies_without_a_policy(tmp_path: Path) -> None:
    """tidy names no policy: the ceilings and consent lists alone decide."""
    key = keys.generate_private_key()
    _, pub = keys.save_key_pair(key, tmp_path / "keys", "signer")
    fixtures = ROOT / "tests" / "fixtures" / "admit"
    result = admit([str(fixtures / "valid" / "workflow-step-ceilings.yaml")], str(fixtures / "platform.yaml"),
                   AdmitOptions(key=key))
    entry = next(a for a in result.admitted if a.name == "tidy")
    assert entry.envelope is not None and entry.predicate["policy"] is None
    manifest = tmp_path / "tidy.manifest.json"
    manifest.write_bytes(entry.envelope)
    note = {"path": "notes/a.md"}
    with Runtime.load(manifest, pub, audit=tmp_path / "a.db") as rt:
        assert rt.authorize("notes.delete", None, note).effect == "deny"  # no step: denied
        inside = rt.authorize("notes.delete", None, note, step="clean")  # the tenant's consent, kept by the step
        assert (inside.effect, inside.stage, inside.rules) == ("consent", "policy", ("contract:consent_for",))
        assert rt.authorize("notes.write", None, note, step="clean").effect == "consent"
        assert rt.authorize("notes.read", None, note, step="clean").effect == "allow"
        other = rt.authorize("notes.delete", None, note, step="find")
        assert (other.effect, other.rules) == ("deny", ("step:find:capabilities",))


# --- replay under a changed step ceiling (sealed by hand) -------------------------------------------


def _one_step(sealer: Any, file: str, capabilities: tuple[str, ...]) -> Path:
    plan = WorkflowPlan(steps=(WorkflowStep(id="a", agent="x", capabilities=capabilities),))
    return sealer.seal(file=file, kind="Workflow", name="wf", workflow=plan)


@pytest.mark.parametrize("retain", [True, False])
def test_replay_applies_the_recorded_steps_ceiling(sealer: Any, tmp_path: Path, retain: bool) -> None:
    wide = _one_step(sealer, "wide", ("web.fetch", "summarize"))
    log = tmp_path / "audit.db"
    with Runtime.load(wide, sealer.pub, audit=log, retain_args=retain) as rt:
        assert rt.authorize("summarize", None, {"text": "t"}, step="a").effect == "allow"
        assert rt.authorize("summarize", None, {"text": "t"}).effect == "deny"  # no step: a workflow call needs one
    narrow = _one_step(sealer, "narrow", ("web.fetch",))
    report = replay(log, load_manifest(narrow, read_public_keys(sealer.pub)))
    assert [(d.seq, d.recorded, d.replayed, d.replayed_rules) for d in report.differences] == [
        (2, "allow", "deny", ("step:a:capabilities",))]
    assert len(report.skipped) == (0 if retain else 1)  # the stepless call: ceiling fine, arguments not kept
