"""`agentos run` and `agentos audit verify|replay|export`: exit codes, JSON shapes, diagnostics, no tracebacks."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentos_contracts.cli import app
from agentos_contracts.model.manifest import PolicyRef, WorkflowPlan, WorkflowStep
from agentos_contracts.runtime import Runtime, audit
from agentos_contracts.seal.canonical import canonical_digest

SAFE = {"risk_score": 0.1, "unsafe_environment": False}


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture()
def recorded(sealer, tmp_path: Path, permit_policy, descriptors) -> tuple[Path, Path]:
    ref = PolicyRef(digest=canonical_digest(permit_policy), document=permit_policy)
    manifest = sealer.seal(policy=ref)
    log = tmp_path / "audit.db"
    with Runtime.load(manifest, sealer.pub, audit=log, tools=descriptors, checkpoint_key=sealer.key,
                      retain_args=True) as rt:
        rt.authorize("web.fetch", SAFE, {"host": "city.gov"})
        rt.authorize("fs.write", SAFE, {"path": "x"})
        rt.authorize("summarize", SAFE)
    return manifest, log


def _json(result) -> dict:
    assert "Traceback" not in result.output
    return json.loads(result.stdout)


def test_verify_intact_log(runner, recorded, sealer) -> None:
    _, log = recorded
    result = runner.invoke(app, ["audit", "verify", str(log), "--pub", str(sealer.pub)])
    assert result.exit_code == 0 and "intact, 5 records, signed through record 5" in result.stdout
    doc = _json(runner.invoke(app, ["audit", "verify", str(log), "--pub", str(sealer.pub), "--format", "json"]))
    assert doc["ok"] is True and doc["records"] == 5 and doc["attested_seq"] == 5 and doc["diagnostics"] == []


def test_verify_reports_where_the_log_breaks(runner, recorded) -> None:
    _, log = recorded
    conn = sqlite3.connect(log)
    conn.execute("UPDATE records SET body = replace(body, '\"deny\"', '\"allow\"') WHERE seq = 3")
    conn.commit()
    conn.close()
    result = runner.invoke(app, ["audit", "verify", str(log), "--format", "json"])
    assert result.exit_code == 1
    doc = _json(result)
    assert doc["ok"] is False and doc["problems"][0] == {"seq": 3, "kind": "modified",
                                                         "message": "record 3 was modified (its hash does not match)"}
    diag = doc["diagnostics"][0]
    assert (diag["code"], diag["file"], diag["line"], diag["path"]) == ("AC710", str(log), 1, "/records/3")
    text = runner.invoke(app, ["audit", "verify", str(log)])
    assert text.exit_code == 1 and "breaks at record 3" in text.stdout and "error[AC710]" in text.stderr


def test_verify_finds_a_truncated_tail_with_the_key(runner, recorded, sealer) -> None:
    _, log = recorded
    conn = sqlite3.connect(log)
    conn.execute("DELETE FROM records WHERE seq >= 4")
    conn.execute("DELETE FROM checkpoints")
    conn.commit()
    conn.close()
    assert runner.invoke(app, ["audit", "verify", str(log)]).exit_code == 0
    result = runner.invoke(app, ["audit", "verify", str(log), "--pub", str(sealer.pub), "--format", "json"])
    assert result.exit_code == 1
    assert [d["code"] for d in _json(result)["diagnostics"]] == ["AC714"]


def test_verify_usage_errors_exit_2(runner, tmp_path: Path, recorded) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("not a log")
    result = runner.invoke(app, ["audit", "verify", str(junk), "--format", "json"])
    assert result.exit_code == 2 and _json(result)["diagnostics"][0]["code"] == "AC716"
    missing = runner.invoke(app, ["audit", "verify", str(tmp_path / "none.db")])
    assert missing.exit_code == 2 and "AC716" in missing.stderr and "Traceback" not in missing.output
    _, log = recorded
    badkey = runner.invoke(app, ["audit", "verify", str(log), "--pub", str(junk), "--format", "json"])
    assert badkey.exit_code == 2 and _json(badkey)["diagnostics"][0]["code"] == "AC620"


def test_export_then_verify_the_export(runner, recorded, sealer, tmp_path: Path) -> None:
    _, log = recorded
    out = tmp_path / "audit.jsonl"
    assert runner.invoke(app, ["audit", "export", str(log), "-o", str(out)]).exit_code == 0
    lines = out.read_text().splitlines()
    assert json.loads(lines[0])["format"] == "agentos-audit/1" and len(lines) >= 1 + 5
    assert all("args" not in json.loads(line).get("record", {}) for line in lines)
    result = runner.invoke(app, ["audit", "verify", str(out), "--pub", str(sealer.pub)])
    assert result.exit_code == 0, result.output
    stdout = runner.invoke(app, ["audit", "export", str(log)])
    assert stdout.exit_code == 0 and stdout.stdout.splitlines()[1] == lines[1]


def test_replay(runner, recorded, sealer, permit_policy, descriptors, tmp_path: Path) -> None:
    manifest, log = recorded
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps({"tools": descriptors}))
    same = runner.invoke(app, ["audit", "replay", str(log), "--manifest", str(manifest), "--pub", str(sealer.pub),
                               "--tools", str(tools), "--format", "json"])
    assert same.exit_code == 0, same.output
    doc = _json(same)
    assert doc["ok"] is True and doc["replayed"] == 3 and doc["same"] == 3 and doc["differences"] == []
    narrower = sealer.seal(file="narrow", capabilities=("summarize",), policy=None)
    diff = runner.invoke(app, ["audit", "replay", str(log), "--manifest", str(narrower), "--pub", str(sealer.pub),
                               "--tools", str(tools), "--format", "json"])
    assert diff.exit_code == 1
    doc = _json(diff)
    # web.fetch is now outside the ceiling; summarize is still allowed, but by another rule
    assert [(d["seq"], d["recorded"], d["replayed"], d["replayed_rules"]) for d in doc["differences"]] == [
        (2, "allow", "deny", ["contract:capabilities"]), (4, "allow", "allow", ["contract:capabilities"])]
    assert doc["diagnostics"][0]["code"] == "AC720"
    nokey = runner.invoke(app, ["audit", "replay", str(log), "--manifest", str(manifest)])
    assert nokey.exit_code == 2 and "AC901" in nokey.stderr


def _workflow_manifest(sealer) -> Path:
    plan = WorkflowPlan(steps=(WorkflowStep(id="a", agent="x"), WorkflowStep(id="b", agent="x", depends_on=("a",))))
    return sealer.seal(file="wf", kind="Workflow", name="wf", workflow=plan)


STEPS_OK = "def a(i, c):\n    return {'x': 1}\n\ndef b(i, c):\n    return {'y': i['x'] + i['n']}\n"


def test_run_ok_and_text_output(runner, sealer, tmp_path: Path) -> None:
    (tmp_path / "steps_ok.py").write_text(STEPS_OK)
    args = ["run", str(_workflow_manifest(sealer)), "--steps", f"{tmp_path / 'steps_ok.py'}:", "--pub",
            str(sealer.pub), "--audit", str(tmp_path / "a.db"), "--input", "n=41"]
    bad_ref = runner.invoke(app, args + ["--format", "json"])
    assert bad_ref.exit_code == 2 and _json(bad_ref)["diagnostics"][0]["code"] == "AC730"
    (tmp_path / "steps_mod.py").write_text(STEPS_OK + "import sys\nSTEPS = sys.modules[__name__]\n")
    args[3] = f"{tmp_path / 'steps_mod.py'}:STEPS"
    result = runner.invoke(app, args + ["--format", "json"])
    assert result.exit_code == 0, result.output
    doc = _json(result)
    assert doc["ok"] and doc["outputs"] == {"x": 1, "y": 42} and doc["workflow"] == "wf"
    assert audit.verify(tmp_path / "a.db").ok and Path(f"{tmp_path / 'a.db'}.journal").exists()
    text = runner.invoke(app, args)
    assert text.exit_code == 0 and "journaled" in text.stdout and "ok: workflow wf" in text.stdout


@pytest.mark.parametrize("extra, code, exit_code", [
    (["--input", "novalue"], "AC734", 2),
    (["--inputs", "/no/such/file.json"], "AC001", 2),
])
def test_run_bad_inputs(runner, sealer, tmp_path: Path, extra, code, exit_code) -> None:
    (tmp_path / "steps_ok2.py").write_text(STEPS_OK)
    result = runner.invoke(app, ["run", str(_workflow_manifest(sealer)), "--steps",
                                 f"{tmp_path / 'steps_ok2.py'}:a", "--pub", str(sealer.pub), "--audit",
                                 str(tmp_path / "a.db"), "--format", "json", *extra])
    assert result.exit_code == exit_code and _json(result)["diagnostics"][0]["code"] == code


def test_run_refuses_unsigned_and_tampered_manifests(runner, sealer, tmp_path: Path) -> None:
    (tmp_path / "steps_ok3.py").write_text(STEPS_OK)
    steps = f"{tmp_path / 'steps_ok3.py'}:a"
    unsigned = sealer.seal(file="u", signed=False, kind="Workflow", name="wf",
                           workflow=WorkflowPlan(steps=(WorkflowStep(id="a", agent="x"),)))
    result = runner.invoke(app, ["run", str(unsigned), "--steps", steps, "--pub", str(sealer.pub), "--audit",
                                 str(tmp_path / "a.db"), "--format", "json"])
    assert result.exit_code == 1
    diag = _json(result)["diagnostics"][0]
    assert (diag["code"], diag["file"]) == ("AC604", str(unsigned))
    missing = runner.invoke(app, ["run", str(tmp_path / "nope.json"), "--steps", steps, "--pub", str(sealer.pub),
                                  "--audit", str(tmp_path / "a.db"), "--format", "json"])
    assert missing.exit_code == 2 and _json(missing)["diagnostics"][0]["code"] == "AC001"
    nokey = runner.invoke(app, ["run", str(unsigned), "--steps", steps, "--audit", str(tmp_path / "a.db")])
    assert nokey.exit_code == 2 and "AC901" in nokey.stderr


def test_run_with_a_locked_audit_log(runner, sealer, tmp_path: Path) -> None:
    (tmp_path / "steps_ok4.py").write_text(STEPS_OK + "import sys\nSTEPS = sys.modules[__name__]\n")
    manifest = _workflow_manifest(sealer)
    with audit.AuditLog.open(tmp_path / "a.db"):
        result = runner.invoke(app, ["run", str(manifest), "--steps", f"{tmp_path / 'steps_ok4.py'}:STEPS",
                                     "--pub", str(sealer.pub), "--audit", str(tmp_path / "a.db"), "--format", "json"])
    assert result.exit_code == 2 and _json(result)["diagnostics"][0]["code"] == "AC717"


def test_run_obeys_the_revocation_list(runner, sealer, tmp_path: Path) -> None:
    (tmp_path / "steps_rv.py").write_text(STEPS_OK + "import sys\nSTEPS = sys.modules[__name__]\n")
    manifest = _workflow_manifest(sealer)
    listing = tmp_path / "revoked.json"
    revoke = runner.invoke(app, ["ctl", "revoke", str(manifest), "--audit", str(tmp_path / "ctl.db"),
                                 "--revocations", str(listing), "--key", str(sealer.private), "--format", "json"])
    assert revoke.exit_code == 0, revoke.output
    args = ["run", str(manifest), "--steps", f"{tmp_path / 'steps_rv.py'}:STEPS", "--pub", str(sealer.pub),
            "--input", "n=1", "--format", "json"]
    refused = runner.invoke(app, args + ["--audit", str(tmp_path / "a.db"), "--revocations", str(listing)])
    assert refused.exit_code == 1 and [d["code"] for d in _json(refused)["diagnostics"]] == ["AC771"]
    via_env = runner.invoke(app, args + ["--audit", str(tmp_path / "b.db")], env={"AGENTOS_REVOCATIONS": str(listing)})
    assert via_env.exit_code == 1 and _json(via_env)["diagnostics"][0]["code"] == "AC771"
    assert not (tmp_path / "a.db").exists()  # refused before the audit log was opened
