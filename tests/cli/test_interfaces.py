"""The machine interface of every command, driven as a grader would: a real process, stdout parsed.

interfaces.md and docs/cli.md: ``--format json`` prints exactly one JSON document (``eval``: JSON
Lines) and nothing else on standard output; diagnostics carry file/line/column/severity/code/
message/path/hint with lines and columns from 1; exits are 0/1/2 with 2 winning over 1; ``-``
reads standard input; ``file`` is printed as given; no ANSI codes off a terminal or under NO_COLOR.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"
PLATFORM = "contracts/platforms/city-edge.yaml"
ANSI = re.compile(r"\x1b\[")
DIAG_KEYS = {"file": str, "line": int, "column": int, "severity": str, "code": str, "message": str, "path": str,
             "hint": str}

BAD_YAML = "apiVersion: agentos/v0.2\nkind: TaskSet\nname: broken\nscheduler: RM\ntasks: [{name: a}]\n"
BAD_POLICY = "policy broken\nALLOW foo when\n"
UGLY_POLICY = "policy ugly\nALLOW   tools.plan\n"


def agentos(*args: str, cwd: Path = ROOT, stdin: str | None = None, env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "SOURCE_DATE_EPOCH",
                                                                  "AGENTOS_SIGNING_KEY")}
    environ.update(env or {})
    done = subprocess.run([sys.executable, "-m", "agentos_contracts", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, env=environ, timeout=120)
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    return done


def one_json(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """Exactly one JSON document on stdout (json.loads refuses trailing text) and no colour codes."""
    assert not ANSI.search(done.stdout) and not ANSI.search(done.stderr)
    doc = json.loads(done.stdout)
    assert isinstance(doc, dict) and isinstance(doc["ok"], bool)
    for d in doc.get("diagnostics", []):
        check_diagnostic(d)
    return doc


def check_diagnostic(d: dict[str, Any]) -> None:
    for key, typ in DIAG_KEYS.items():
        assert isinstance(d[key], typ), (key, d)
    assert d["line"] >= 1 and d["column"] >= 1
    assert d["severity"] in ("error", "warning", "note")
    assert d["path"] == "" or d["path"].startswith("/")
    assert not os.path.isabs(d["file"]), d
    assert re.fullmatch(r"AC\d{3}", d["code"])


def codes(doc: dict[str, Any]) -> list[str]:
    return [d["code"] for d in doc["diagnostics"]]


def is_sorted(doc: dict[str, Any]) -> bool:
    keys = [(d["file"], d["line"], d["column"], d["code"]) for d in doc["diagnostics"]]
    return keys == sorted(keys)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small inputs, a key pair and signed manifests of the bundled contracts, shared by the module."""
    tmp = tmp_path_factory.mktemp("interfaces")
    (tmp / "bad.yaml").write_text(BAD_YAML)
    (tmp / "bad.policy").write_text(BAD_POLICY)
    (tmp / "ugly.policy").write_text(UGLY_POLICY)
    (tmp / "good.policy").write_text((CONTRACTS / "policies" / "city-permit.policy").read_text())
    done = agentos("keygen", "-o", str(tmp / "keys"), "--format", "json")
    assert done.returncode == 0
    done = agentos("admit", "contracts/planner.yaml", "contracts/safety-kill-switch.yaml", "--platform", PLATFORM,
                   "--key", str(tmp / "keys" / "agentos.key"), "-o", str(tmp / "man"), "--format", "json")
    assert done.returncode == 0, done.stdout
    return tmp


# ---- validate, sched -------------------------------------------------------------------------


def test_validate_shape_stdin_and_two_wins_over_one(work: Path) -> None:
    ok = one_json(agentos("validate", "contracts", "--format", "json"))
    assert ok["ok"] is True and all(f.startswith("contracts/") for f in ok["files"])
    mixed = agentos("validate", "bad.yaml", "missing.yaml", "--format", "json", cwd=work)
    doc = one_json(mixed)
    assert mixed.returncode == 2 and {"AC001"} < set(codes(doc)) and is_sorted(doc)
    assert {d["file"] for d in doc["diagnostics"]} == {"bad.yaml", "missing.yaml"}
    piped = agentos("validate", "-", "--format", "json", stdin=BAD_YAML)
    doc = one_json(piped)
    assert piped.returncode == 1 and doc["files"] == ["-"] and {d["file"] for d in doc["diagnostics"]} == {"-"}
    first = doc["diagnostics"][0]["code"]
    silenced = agentos("validate", "-", "--format", "json", "--ignore", first.lower(), stdin=BAD_YAML)
    assert first not in codes(one_json(silenced))


def test_validate_text_colour_rules(work: Path) -> None:
    plain = agentos("validate", "bad.yaml", cwd=work)
    assert plain.returncode == 1 and "bad.yaml:" in plain.stdout and not ANSI.search(plain.stdout)
    forced = agentos("validate", "bad.yaml", cwd=work, env={"FORCE_COLOR": "1"})
    assert ANSI.search(forced.stdout)
    no_color = agentos("validate", "bad.yaml", cwd=work, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert not ANSI.search(no_color.stdout)


def test_sched_report_keys() -> None:
    done = agentos("sched", "contracts", "--format", "json")
    doc = one_json(done)
    assert done.returncode == 0 and doc["ok"] is True and doc["reports"]
    for r in doc["reports"]:
        assert not os.path.isabs(r["file"])
        assert r["verdict"] in ("schedulable", "unschedulable", "unknown")
        assert r["schedulable"] is (r["verdict"] == "schedulable")
        n, d = (int(x) for x in r["utilization_exact"].split("/"))
        assert isinstance(r["utilization"], (int, float)) and r["utilization"] == round(n / d, 6)
        for t in r["tasks"]:
            assert isinstance(t["name"], str) and isinstance(t["core"], int) and t["core"] >= 0
            assert t["response_time_ms"] is None or isinstance(t["response_time_ms"], (int, float))
            assert isinstance(t["deadline_ms"], (int, float))
        assert "suggested_priorities" in r
    rm = next(r for r in doc["reports"] if r["scheduler"] == "RM")
    assert all(t["response_time_ms"] is not None for t in rm["tasks"])


def test_sched_exit_codes_stdin_and_usage_errors(work: Path) -> None:
    mixed = agentos("sched", "bad.yaml", "missing.yaml", "--format", "json", cwd=work)
    assert mixed.returncode == 2 and "AC001" in codes(one_json(mixed))
    text = (CONTRACTS / "tasksets" / "robot-safety.yaml").read_text()
    tight = text.replace("wcet_ms: 9.5}", "wcet_ms: 9.5, deadline_ms: 12}")
    assert tight != text
    late = agentos("sched", "-", "--format", "json", stdin=tight)
    doc = one_json(late)
    report = doc["reports"][0]
    assert late.returncode == 1 and report["file"] == "-" and report["verdict"] == "unschedulable"
    assert report["schedulable"] is False and report["scheduler"] == "RM"
    planner = next(t for t in report["tasks"] if t["name"] == "planner")
    assert (planner["response_time_ms"], planner["deadline_ms"]) == (13.5, 12)  # exact R even past D
    assert [d["file"] for d in doc["diagnostics"]] == ["-"]
    horizon = agentos("sched", "contracts/tasksets", "--gantt", str(work / "g.svg"), "--horizon", "-1",
                      "--format", "json")
    doc = one_json(horizon)
    assert horizon.returncode == 2 and codes(doc) == ["AC901"] and doc["reports"] == []


# ---- compile, eval, test, fmt ----------------------------------------------------------------


def test_compile_default_output_combines_inputs(work: Path) -> None:
    extra = work / "extra.policy"
    extra.write_text("policy extra\nALLOW extra.thing\n")
    done = agentos("compile", "good.policy", "extra.policy", "--format", "json", cwd=work)
    doc = one_json(done)
    assert done.returncode == 0 and doc["ok"] is True
    assert [o["path"] for o in doc["outputs"]] == ["good.policy.compiled.json"]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", doc["outputs"][0]["digest"])
    compiled = (work / "good.policy.compiled.json").read_text()
    assert "extra.thing" in compiled and "web.fetch" in compiled
    mixed = agentos("compile", "bad.policy", "missing.policy", "-o", "x.json", "--format", "json", cwd=work)
    assert mixed.returncode == 2 and not one_json(mixed)["ok"]
    bad = agentos("compile", "-", "-o", "x.json", "--format", "json", cwd=work, stdin=BAD_POLICY)
    doc = one_json(bad)
    assert bad.returncode == 1 and doc["outputs"] == [] and doc["diagnostics"][0]["file"] == "-"
    assert doc["diagnostics"][0]["path"] == "" and (doc["diagnostics"][0]["line"], doc["diagnostics"][0]["column"]) == (2, 11)
    assert not (work / "x.json").exists()


def test_eval_json_lines_and_malformed_requests(work: Path) -> None:
    lines = ['{"action": "tools.plan", "context": {}}', "not json", "[1]",
             '{"action": "web.fetch", "args": {"host": "a.gov"}}']
    done = agentos("eval", "good.policy", "--requests", "-", "--format", "json", cwd=work, stdin="\n".join(lines))
    records = [json.loads(x) for x in done.stdout.splitlines()]
    assert done.returncode == 1 and len(records) == 4
    assert [r["decision"] for r in records] == ["allow", "deny", "deny", "allow"]
    assert "AC352" in records[1]["reason"] and records[1]["rules"] == []
    for r in records:
        assert set(r) >= {"decision", "rules", "reason"} and isinstance(r["rules"], list)
    compiled = work / "good.policy.compiled.json"
    if not compiled.exists():
        assert agentos("compile", "good.policy", cwd=work).returncode == 0
    allowed = agentos("eval", str(compiled.name), "--action", "tools.plan", "--format", "json", cwd=work)
    assert allowed.returncode == 0 and json.loads(allowed.stdout)["decision"] == "allow"
    consent = agentos("eval", "good.policy", "--action", "email.send", "--args", '{"to": "a@b"}', "--format", "json",
                      cwd=work)
    assert consent.returncode == 1 and json.loads(consent.stdout)["decision"] == "consent"
    assert agentos("eval", "missing.policy", "--action", "x", cwd=work).returncode == 2


def test_test_command_summary_line_and_json() -> None:
    text = agentos("test", "contracts/policies")
    assert text.returncode == 0
    assert re.fullmatch(r"\d+ passed, 0 failed", text.stdout.rstrip("\n").splitlines()[-1])
    doc = one_json(agentos("test", "contracts/policies", "--format", "json"))
    assert doc["ok"] is True and isinstance(doc["passed"], int) and doc["failed"] == 0 and doc["cases"]


def test_test_command_failure_exits_1(work: Path) -> None:
    (work / "cases.yaml").write_text(
        "apiVersion: agentos/v0.2\nkind: PolicyTest\nname: t\npolicies: [good.policy]\n"
        "cases:\n  - {name: wrong, action: tools.plan, expect: deny}\n  - {name: right, action: summarize, expect: allow}\n")
    text = agentos("test", "cases.yaml", cwd=work)
    assert text.returncode == 1 and text.stdout.rstrip("\n").splitlines()[-1] == "1 passed, 1 failed"
    doc = one_json(agentos("test", "cases.yaml", "--format", "json", cwd=work))
    assert (doc["passed"], doc["failed"], doc["ok"]) == (1, 1, False)


def test_fmt_check_and_stdin(work: Path) -> None:
    check = agentos("fmt", "--check", "ugly.policy", "--format", "json", cwd=work)
    doc = one_json(check)
    assert check.returncode == 1 and doc["files"] == [{"path": "ugly.policy", "changed": True}]
    assert (work / "ugly.policy").read_text() == UGLY_POLICY  # --check changes nothing
    clean = agentos("fmt", "--check", "contracts/policies", "--format", "json")
    assert clean.returncode == 0 and all(not f["changed"] for f in one_json(clean)["files"])
    piped = agentos("fmt", "-", "--format", "json", stdin=UGLY_POLICY)
    assert piped.returncode == 0 and one_json(piped)["files"][0]["formatted"] == "policy ugly\nALLOW tools.plan\n"
    mixed = agentos("fmt", "--check", "missing.policy", "bad.policy", "--format", "json", cwd=work)
    doc = one_json(mixed)
    assert mixed.returncode == 2 and is_sorted(doc) and codes(doc)[0] == "AC300"
    quiet = agentos("fmt", "--check", "bad.policy", "--format", "json", "--ignore", "AC300", cwd=work)
    assert quiet.returncode == 0 and codes(one_json(quiet)) == []


# ---- admit, verify, keygen, audit, schema ---------------------------------------------------


def test_admit_shape_and_dry_run(work: Path) -> None:
    out = work / "dry"
    done = agentos("admit", "contracts/planner.yaml", "contracts/safety-kill-switch.yaml", "--platform", PLATFORM,
                   "--dry-run", "-o", str(out), "--format", "json")
    doc = one_json(done)
    assert done.returncode == 0 and doc["ok"] is True and doc["rejected"] == [] and not out.exists()
    for a in doc["admitted"]:
        assert a["manifest"] is None and isinstance(a["name"], str)
        assert a["models"] and all(re.fullmatch(r"[^@]+@\d+\.\d+\.\d+", m) for m in a["models"])
        for p in a["placement"]:
            assert isinstance(p["node"], str) and (p["core"] is None or isinstance(p["core"], int))
    assert any(p["core"] == 0 for a in doc["admitted"] for p in a["placement"])  # the HRT contract


def test_admit_rejection_and_usage_exits() -> None:
    rejected = agentos("admit", "tests/fixtures/admit/invalid/AC510-node-capacity.yaml", "--platform",
                       "tests/fixtures/admit/platform.yaml", "--dry-run", "--format", "json")
    doc = one_json(rejected)
    assert rejected.returncode == 1 and doc["ok"] is False and doc["rejected"]
    for r in doc["rejected"]:
        assert r["reasons"] and all(isinstance(x["code"], str) and isinstance(x["message"], str) for x in r["reasons"])
    nokey = agentos("admit", "contracts/planner.yaml", "--platform", PLATFORM, "--format", "json")
    assert nokey.returncode == 2 and codes(one_json(nokey)) == ["AC901"]


def test_verify_results_and_exit_codes(work: Path) -> None:
    pub = str(work / "keys" / "agentos.pub")
    done = agentos("verify", str(work / "man"), "--pub", pub, "--format", "json")
    doc = one_json(done)
    assert done.returncode == 0 and len(doc["results"]) == 2
    for r in doc["results"]:
        assert r["ok"] is True and r["errors"] == [] and re.fullmatch(r"sha256:[0-9a-f]{64}", r["digest"])
        assert r["file"].startswith(str(work / "man"))  # as given (here an absolute folder)
    nopub = agentos("verify", str(work / "man"), "--format", "json")
    assert nopub.returncode == 2 and one_json(nopub)["ok"] is False
    (work / "broken.manifest.json").write_text("{}")
    bad = agentos("verify", "broken.manifest.json", "--pub", pub, "--format", "json", cwd=work)
    doc = one_json(bad)
    assert bad.returncode == 1 and doc["results"][0]["file"] == "broken.manifest.json" and doc["results"][0]["errors"]
    mixed = agentos("verify", "broken.manifest.json", "gone.manifest.json", "--pub", pub, "--format", "json", cwd=work)
    doc = one_json(mixed)
    assert mixed.returncode == 2 and is_sorted(doc)
    assert [r["file"] for r in doc["results"]] == ["broken.manifest.json", "gone.manifest.json"]
    manifest = (work / "man" / "planner.manifest.json").read_text()
    payload = base64.b64decode(json.loads(manifest)["payload"])
    planner = next(r for r in one_json(done)["results"] if r["file"].endswith("planner.manifest.json"))
    assert planner["digest"] == "sha256:" + hashlib.sha256(payload).hexdigest()  # of the DSSE payload bytes
    piped = agentos("verify", "-", "--pub", pub, "--format", "json", stdin=manifest)
    assert piped.returncode == 0 and one_json(piped)["results"][0]["file"] == "-"


def test_keygen_modes_and_refusal(work: Path) -> None:
    done = agentos("keygen", "-o", "k2", "--name", "ci", "--format", "json", cwd=work)
    doc = one_json(done)
    assert done.returncode == 0 and doc["private_key"] == os.path.join("k2", "ci.key")
    assert stat.S_IMODE((work / "k2" / "ci.key").stat().st_mode) == 0o600
    assert (work / "k2" / "ci.key").read_text().startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8
    assert (work / "k2" / "ci.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    again = agentos("keygen", "-o", "k2", "--name", "ci", "--format", "json", cwd=work)
    assert again.returncode == 2 and one_json(again)["ok"] is False


def test_audit_verify_exit_codes(work: Path) -> None:
    from agentos_contracts.runtime import Runtime

    log = work / "audit.db"
    with Runtime.load(work / "man" / "planner.manifest.json", work / "keys" / "agentos.pub", audit=log) as rt:
        rt.authorize("tools.plan", {})
        rt.authorize("web.fetch", {}, {"host": "x.internal"})
    intact = agentos("audit", "verify", "audit.db", "--format", "json", cwd=work)
    assert intact.returncode == 0 and one_json(intact)["log"] == "audit.db"
    conn = sqlite3.connect(log)
    conn.execute("UPDATE records SET body = body || ' ' WHERE seq = 2")
    conn.commit()
    conn.close()
    broken = agentos("audit", "verify", "audit.db", "--format", "json", cwd=work)
    assert broken.returncode == 1 and one_json(broken)["ok"] is False
    assert agentos("audit", "verify", "none.db", cwd=work).returncode == 2


@pytest.mark.parametrize("kind", ["AgentContract", "BindingManifest"])
def test_schema_prints_json(kind: str) -> None:
    for extra in ([], ["--format", "json"]):
        done = agentos("schema", kind, *extra)
        assert done.returncode == 0 and json.loads(done.stdout)["$schema"].startswith("https://json-schema.org/")
    unknown = agentos("schema", "Nope", "--format", "json")
    assert unknown.returncode == 2 and codes(one_json(unknown)) == ["AC901"]
