"""`agentos compile`, `eval`, `test` and `fmt` as a user runs them: exit codes, JSON shapes, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentos_contracts.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "contracts" / "policies"
FIXTURES = ROOT / "tests" / "fixtures" / "policy"
runner = CliRunner()

POLICY = '''policy demo
attribute risk: number
attribute args.amount: number
ALLOW web.fetch IF risk < 0.5
DENY pay.* IF args.amount > 100
REQUIRE CONSENT FOR pay.charge
ALLOW pay.charge
'''


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    p = tmp_path / "demo.policy"
    p.write_text(POLICY)
    return p


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=input)
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


# ---- compile -------------------------------------------------------------------------------------


def test_compile_writes_next_to_the_first_input_and_reports_json(demo: Path) -> None:
    code, out, _ = run("compile", str(demo), "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["ok"] is True
    (o,) = doc["outputs"]
    assert o["path"] == str(demo) + ".compiled.json" and o["digest"].startswith("sha256:")
    import hashlib

    assert hashlib.sha256(Path(o["path"]).read_bytes()).hexdigest() == o["digest"][7:]
    assert set(doc) >= {"ok", "diagnostics", "outputs"}


def test_compile_is_byte_stable_and_combines_inputs(demo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.policy"
    other.write_text("DENY fs.write\n")
    out1, out2 = tmp_path / "a.json", tmp_path / "b.json"
    assert run("compile", str(demo), str(other), "-o", str(out1))[0] == 0
    assert run("compile", str(demo), str(other), "-o", str(out2))[0] == 0
    assert out1.read_bytes() == out2.read_bytes()
    doc = json.loads(out1.read_bytes())
    assert [s["file"] for s in doc["sources"]] == [str(demo), str(other)]


def test_compile_errors_exit_1_with_located_diagnostics_and_write_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.policy"
    bad.write_text("ALLOW x IF a = 1\nALLOW y IF (b\n")
    code, out, _ = run("compile", str(bad), "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False and doc["outputs"] == []
    assert [(d["file"], d["line"], d["code"]) for d in doc["diagnostics"]] == [
        (str(bad), 1, "AC303"), (str(bad), 2, "AC305")]
    assert not (tmp_path / "bad.policy.compiled.json").exists()
    code, out, _ = run("compile", str(bad))
    assert code == 1 and f"{bad}:1:14: error[AC303]: unexpected character `=`" in out
    assert "^" in out and "hint: compare with `==`" in out


def test_compile_usage_and_io_errors_exit_2(tmp_path: Path) -> None:
    assert run("compile", str(tmp_path / "missing.policy"))[0] == 2
    assert run("compile")[0] == 2
    code, out, err = run("compile", "-", input="ALLOW x\n")  # a filter: the compiled document on stdout
    assert code == 0 and json.loads(out)["kind"] == "CompiledPolicy" and "compiled 1 rules" in err
    code, out, _ = run("compile", "-", "-o", str(tmp_path / "s.json"), input="ALLOW x\n")
    assert code == 0 and (tmp_path / "s.json").exists()


def test_compile_with_contract_and_platform() -> None:
    code, out, _ = run("compile", str(EXAMPLES / "city-permit.policy"), "--contract", str(ROOT / "contracts/planner.yaml"),
                       "--platform", str(ROOT / "contracts/platforms/city-edge.yaml"), "-o", os.devnull, "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert {d["code"] for d in doc["diagnostics"]} == {"AC333"}  # the planner's ceiling trims the shared policy
    code, out, _ = run("compile", "--contract", str(ROOT / "contracts/doc-rag-planner.yaml"), "-o", os.devnull,
                       "--format", "json")
    assert code == 0 and json.loads(out)["rules"] == 8  # 7 written + contract:consent_for


def test_compile_platform_types_tool_arguments(tmp_path: Path) -> None:
    p = tmp_path / "t.policy"
    p.write_text('ALLOW payment.charge IF args.amount > "10"\nALLOW web.fetch IF args.hots == "x"\n')
    code, out, _ = run("compile", str(p), "--platform", str(ROOT / "contracts/platforms/city-edge.yaml"),
                       "--format", "json")
    assert code == 1
    assert [d["code"] for d in json.loads(out)["diagnostics"]] == ["AC312", "AC318"]


# ---- eval ----------------------------------------------------------------------------------------


def test_eval_single_request(demo: Path) -> None:
    code, out, _ = run("eval", str(demo), "--action", "web.fetch", "--context", '{"risk": 0.1}', "--format", "json")
    assert code == 0
    assert json.loads(out) == {"decision": "allow", "rules": ["demo.policy:4"], "reason": "allowed by demo.policy:4 (ALLOW web.fetch)"}
    code, out, _ = run("eval", str(demo), "--action", "pay.charge", "--args", '{"amount": 5}')
    assert code == 1 and out.startswith("consent: consent required by demo.policy:6")


def test_eval_requests_jsonl_with_malformed_lines(demo: Path, tmp_path: Path) -> None:
    reqs = tmp_path / "r.jsonl"
    reqs.write_text('{"action": "web.fetch", "context": {"risk": 0.1}}\nnot json\n\n'
                    '{"action": "pay.charge", "context": {}, "args": {"amount": NaN}}\n{"action": 3}\n'
                    '{"action": "web.fetch", "context": []}\n{"action": "web.fetch", "extra": 1}\n')
    code, out, _ = run("eval", str(demo), "--requests", str(reqs), "--format", "json")
    lines = [json.loads(x) for x in out.splitlines()]
    assert code == 1 and len(lines) == 6
    assert lines[0]["decision"] == "allow"
    assert lines[1]["decision"] == "deny" and "malformed request at line 2 [AC352]" in lines[1]["reason"]
    assert lines[2]["decision"] == "deny" and "not a finite number" in lines[2]["reason"]
    assert all(x["decision"] == "deny" and "malformed" in x["reason"] for x in lines[3:])
    assert all(set(x) == {"decision", "rules", "reason"} for x in lines)


def test_eval_accepts_a_compiled_document_and_stdin(demo: Path, tmp_path: Path) -> None:
    out_path = tmp_path / "c.json"
    assert run("compile", str(demo), "-o", str(out_path))[0] == 0
    code, out, _ = run("eval", str(out_path), "--requests", "-", "--format", "json",
                       input='{"action": "web.fetch", "context": {"risk": 0.1}}\n')
    assert code == 0 and json.loads(out)["decision"] == "allow"


def test_eval_refuses_a_tampered_or_unknown_compiled_document(demo: Path, tmp_path: Path) -> None:
    out_path = tmp_path / "c.json"
    run("compile", str(demo), "-o", str(out_path))
    doc = json.loads(out_path.read_text())
    doc["formatVersion"] = 99
    out_path.write_text(json.dumps(doc))
    code, _, err = run("eval", str(out_path), "--action", "web.fetch")
    assert code == 1 and "AC341" in err


def test_eval_usage_errors(demo: Path) -> None:
    assert run("eval", str(demo))[0] == 2
    assert run("eval", str(demo), "--action", "x", "--context", "{bad")[0] == 2
    assert run("eval", str(demo), "--action", "x", "--context", "[1]")[0] == 2
    assert run("eval", str(demo), "--requests", "/no/such/file")[0] == 2
    assert run("eval", "/no/such.policy", "--action", "x")[0] == 2


def test_eval_of_a_broken_policy_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.policy"
    bad.write_text("ALLOW (")
    code, out, err = run("eval", str(bad), "--action", "x")
    assert code == 1 and "error[AC305]" in err and out == ""


def test_eval_is_fast_enough_for_100k_requests(demo: Path, tmp_path: Path) -> None:
    reqs = tmp_path / "many.jsonl"
    line = '{"action": "web.fetch", "context": {"risk": 0.1}}\n{"action": "pay.charge", "args": {"amount": 500}}\n'
    reqs.write_text(line * 50_000)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "agentos_contracts", "eval", str(demo), "--requests", str(reqs),
                           "--format", "json"], capture_output=True, env=env, text=True)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 1
    assert proc.stdout.count("\n") == 100_000
    assert elapsed < 20, elapsed  # about 2 s on a quiet machine; generous for shared CI


# ---- test ----------------------------------------------------------------------------------------


def test_examples_pass_and_the_last_line_is_the_summary() -> None:
    code, out, _ = run("test", str(EXAMPLES), "--coverage")
    assert code == 0
    lines = out.splitlines()
    assert lines[-1].endswith(" passed, 0 failed")
    assert lines[-2] == "coverage: 0 rule(s) exercised by no case"


def test_failures_are_reported_with_the_case_location(tmp_path: Path) -> None:
    (tmp_path / "p.policy").write_text("ALLOW a\nDENY b\nALLOW c IF x > 1\n")
    (tmp_path / "cases.yaml").write_text(
        "apiVersion: agentos/v0.2\nkind: PolicyTest\npolicies: [p.policy]\ncases:\n"
        "  - {name: ok, action: a, expect: allow}\n"
        "  - {name: wrong, action: b, expect: allow}\n"
        "  - {name: wrong rules, action: a, expect: allow, rules: [nope]}\n")
    code, out, _ = run("test", str(tmp_path / "cases.yaml"), "--coverage")
    assert code == 1
    assert out.splitlines()[-1] == "1 passed, 2 failed"
    assert f"{tmp_path / 'cases.yaml'}:6:5: error[AC351]: case `wrong`: expected allow, got deny" in out
    assert "rule `p.policy:3` is exercised by no case" in out
    code, out, _ = run("test", str(tmp_path / "cases.yaml"), "--format", "json", "--coverage")
    doc = json.loads(out)
    assert (doc["passed"], doc["failed"], doc["ok"]) == (1, 2, False)
    assert doc["uncovered"] == [{"id": "p.policy:3", "file": str(tmp_path / "p.policy"), "line": 3}]


def test_malformed_case_files(tmp_path: Path) -> None:
    head = "apiVersion: agentos/v0.2\nkind: PolicyTest\npolicies: [p.policy]\ncases:\n"
    (tmp_path / "c.yaml").write_text(head + "  - {name: x, action: a, expect: allow}\n")
    code, out, _ = run("test", str(tmp_path / "c.yaml"), "--format", "json")
    assert code == 2 and json.loads(out)["diagnostics"][0]["code"] == "AC001"  # the named policy does not exist
    (tmp_path / "p.policy").write_text("ALLOW a\n")
    (tmp_path / "c.yaml").write_text(head + "  - {name: x, action: a, expect: maybe}\n")
    code, out, _ = run("test", str(tmp_path / "c.yaml"), "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["diagnostics"][0]["line"] == 5
    assert run("test", str(ROOT / "contracts" / "platforms"))[0] == 2  # no PolicyTest documents: AC354, nothing to read


# ---- fmt -------------------------------------------------------------------------------------------


def test_fmt_check_then_rewrite_then_idempotent(tmp_path: Path) -> None:
    p = tmp_path / "x.policy"
    p.write_text("allow  web.fetch   if a<1   and ( b or c )  # why\n\n\n\n# next\ndeny x;deny y\n")
    code, out, _ = run("fmt", "--check", str(p))
    assert code == 1 and f"would reformat {p}" in out
    assert run("fmt", str(p))[0] == 0
    assert p.read_text() == "ALLOW web.fetch IF a < 1 AND (b OR c)  # why\n\n# next\nDENY x\nDENY y\n"
    code, out, _ = run("fmt", "--check", str(p), "--format", "json")
    assert code == 0 and json.loads(out)["files"] == [{"path": str(p), "changed": False}]


def test_fmt_leaves_broken_files_alone_and_reads_stdin(tmp_path: Path) -> None:
    p = tmp_path / "bad.policy"
    p.write_text("ALLOW (\n")
    code, out, _ = run("fmt", str(p))
    assert code == 1 and p.read_text() == "ALLOW (\n"
    code, out, _ = run("fmt", "-", input="deny   x\n")
    assert code == 0 and out == "DENY x\n"


def test_examples_are_formatted() -> None:
    assert run("fmt", "--check", str(EXAMPLES))[0] == 0


def test_eval_denies_requests_whose_args_or_context_are_not_objects(tmp_path: Path) -> None:
    p = tmp_path / "pause.policy"
    p.write_text("ALLOW agent.pause\n")
    reqs = "\n".join(json.dumps(r) for r in (
        {"action": "agent.pause", "context": {}, "args": [1, 2]},
        {"action": "agent.pause", "context": [1, 2]},
        {"action": "agent.pause", "context": {}, "args": None},
    )) + "\n"
    code, out, _ = run("eval", str(p), "--requests", "-", "--format", "json", input=reqs)
    assert [json.loads(line)["decision"] for line in out.splitlines()] == ["deny", "deny", "allow"] and code == 1
    code, out, _ = run("eval", str(p), "--action", "agent.pause", "--args", "[1, 2]", "--format", "json")
    assert code == 2 and json.loads(out)["ok"] is False
