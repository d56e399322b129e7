"""Every command, run as a real process: standard output holds exactly what the command renders.

Native code (HiGHS prints a banner on descriptor 1 when a solver object is made) writes
past Python's ``sys.stdout``, so in-process runners cannot see a leak: these tests start
``python -m agentos_contracts`` and read its standard output as a consumer would. Inputs
exercise the MILP (admit, admit --dry-run, verify's drift check, a multi-core task set
that needs the partitioning ILP). Each machine format is checked by its consumer's own
definition: one JSON document, the OASIS SARIF schema, Jenkins' junit-10.xsd, GitHub's
workflow-command syntax.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xmlschema

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = "contracts/platforms/city-edge.yaml"
ILP_SET = "tests/fixtures/sched/multicore/no-partition.yaml"  # needs the partitioning ILP (heuristics fail)
SCHEMAS = ROOT / "tests" / "fixtures" / "report" / "schemas"
GITHUB_LINE = re.compile(r"::(error|warning|notice) file=[^,]*,line=\d+,col=\d+,title=AC\d{3}::.*")


def agentos(*args: str, cwd: Path = ROOT, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true", "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    env.pop("AGENTOS_SIGNING_KEY", None)
    return subprocess.run([sys.executable, "-m", "agentos_contracts", *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=300)


def chatter(text: str) -> bool:
    """HiGHS's banner lines ("Running HiGHS 1.16.0 ...", "Includes third-party software ...")."""
    return "Running HiGHS" in text or "third-party software" in text


def one_json(proc: subprocess.CompletedProcess[str]) -> Any:
    """The whole of standard output is one JSON document (json.loads refuses anything before or after it)."""
    assert "Traceback" not in proc.stderr, proc.stderr
    assert not chatter(proc.stdout)
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def admitted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The README's main job, once: a key pair and sealed manifests of every example."""
    base = tmp_path_factory.mktemp("machine")
    keys, out = base / "keys", base / "out"
    assert agentos("keygen", "-o", str(keys), "--format", "json").returncode == 0
    proc = agentos("admit", "contracts/", "--platform", PLATFORM, "--key", str(keys / "agentos.key"),
                   "-o", str(out), "--format", "json")
    doc = one_json(proc)
    assert proc.returncode == 0 and doc["ok"] is True and len(doc["admitted"]) >= 5
    assert doc["solver"]["name"] == "highs"  # the native solver did run
    return {"key": str(keys / "agentos.key"), "pub": str(keys / "agentos.pub"), "out": str(out), "base": str(base)}


def test_admit_dry_run_is_one_json_document() -> None:
    proc = agentos("admit", "contracts/", "--platform", PLATFORM, "--dry-run", "--format", "json")
    doc = one_json(proc)
    assert proc.returncode == 0 and doc["ok"] and all(a["manifest"] is None for a in doc["admitted"])


def test_admit_text_output_carries_no_banner() -> None:
    proc = agentos("admit", "contracts/", "--platform", PLATFORM, "--dry-run")
    assert proc.returncode == 0 and not chatter(proc.stdout)
    assert proc.stdout.splitlines()[-1].endswith("cuts)")


def test_admit_verbose_sends_solver_chatter_to_stderr() -> None:
    proc = agentos("admit", "contracts/", "--platform", PLATFORM, "--dry-run", "--format", "json", "--verbose")
    one_json(proc)
    assert chatter(proc.stderr)


def test_verify_and_drift_check_of_one_manifest_alone(admitted: dict[str, str]) -> None:
    """The README's drift check: one manifest, its contract, the platform; no drift that is not there."""
    manifest = str(Path(admitted["out"]) / "safety-kill-switch.manifest.json")
    proc = agentos("verify", manifest, "--pub", admitted["pub"], "--contract", "contracts/safety-kill-switch.yaml",
                   "--platform", PLATFORM, "--format", "json")
    doc = one_json(proc)
    assert proc.returncode == 0 and doc["ok"] is True, doc
    proc = agentos("verify", admitted["out"], "--pub", admitted["pub"], "--format", "json")
    assert proc.returncode == 0 and one_json(proc)["ok"] is True


def test_verify_drift_check_still_sees_a_real_change(admitted: dict[str, str], tmp_path: Path) -> None:
    changed = tmp_path / "safety-kill-switch.yaml"
    text = (ROOT / "contracts" / "safety-kill-switch.yaml").read_text(encoding="utf-8")
    changed.write_text(text.replace("wcet_ms: 1.5", "wcet_ms: 2.5"), encoding="utf-8")
    assert "wcet_ms: 2.5" in changed.read_text(encoding="utf-8")
    shutil.copytree(ROOT / "contracts" / "policies", tmp_path / "policies")
    manifest = str(Path(admitted["out"]) / "safety-kill-switch.manifest.json")
    proc = agentos("verify", manifest, "--pub", admitted["pub"], "-c", str(changed), "-p", PLATFORM, "--format", "json")
    doc = one_json(proc)
    assert proc.returncode == 1 and doc["ok"] is False
    assert any("drifted" in e for r in doc["results"] for e in r["errors"])


def test_sched_multicore_ilp_is_one_json_document() -> None:
    proc = agentos("sched", ILP_SET, "--format", "json")
    doc = one_json(proc)
    assert proc.returncode == 1 and doc["reports"][0]["verdict"] == "unschedulable"
    text = agentos("sched", ILP_SET)
    assert not chatter(text.stdout) and text.stdout.splitlines()[-1] == "1 task set analysed, 1 not schedulable"


@pytest.mark.parametrize("args", [
    ["validate", "contracts/"],
    ["test", "contracts/policies/"],
    ["fmt", "--check", "contracts/policies/"],
    ["compile", "contracts/policies/doc-rag-planner.policy", "-o", "{tmp}/p.json"],
    ["schema", "AgentContract"],
    ["explain", "AC112"],
    ["keygen", "-o", "{tmp}/k"],
    ["sched", "contracts/tasksets/robot-safety.yaml"],
    ["validate", "{tmp}/nothing"],
    ["fmt", "--check", "{tmp}/nothing"],
    ["admit", "{tmp}/nothing", "--platform", PLATFORM, "--dry-run"],
])
def test_every_command_prints_one_json_document(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "nothing").mkdir()
    proc = agentos(*[a.replace("{tmp}", str(tmp_path)) for a in args], "--format", "json")
    doc = one_json(proc)
    assert isinstance(doc, dict)
    if "nothing" in " ".join(args):
        assert proc.returncode == 2 and doc["ok"] is False  # nothing to read: a usage error with a hint
        assert doc["diagnostics"] and all(d["hint"] for d in doc["diagnostics"] if d["severity"] == "error")


def test_eval_prints_one_json_line_per_request() -> None:
    requests = '{"action": "web.fetch", "context": {"risk_score": 0.2, "unsafe_environment": false}}\nnot json\n'
    proc = agentos("eval", "contracts/policies/doc-rag-planner.policy", "--contract", "contracts/doc-rag-planner.yaml",
                   "--requests", "-", "--format", "json", stdin=requests)
    lines = proc.stdout.splitlines()
    assert len(lines) == 2 and all(isinstance(json.loads(line), dict) for line in lines)


def test_run_and_audit_print_one_json_document(admitted: dict[str, str], tmp_path: Path) -> None:
    manifest = str(Path(admitted["out"]) / "city_permit_assistant.manifest.json")
    log = str(tmp_path / "permit.db")
    proc = agentos("run", manifest, "--steps", "contracts/workflows/city_permit_steps.py:STEPS", "--pub", admitted["pub"],
                   "--audit", log, "--input", "user_query=do I need a permit for a deck?",
                   "--context", '{"unsafe_environment": false, "risk_score": 0.1}', "--format", "json")
    assert isinstance(one_json(proc), dict)
    assert one_json(agentos("audit", "verify", log, "--format", "json"))["ok"] is True
    replay = agentos("audit", "replay", log, "--manifest", manifest, "--pub", admitted["pub"], "--format", "json")
    assert isinstance(one_json(replay), dict)


def test_compile_stdin_without_output_writes_the_compiled_document(tmp_path: Path) -> None:
    policy = (ROOT / "contracts" / "policies" / "doc-rag-planner.policy").read_text(encoding="utf-8")
    proc = agentos("compile", "-", "--stdin-filename", "contracts/policies/doc-rag-planner.policy", stdin=policy)
    doc = one_json(proc)
    assert proc.returncode == 0 and doc["kind"] == "CompiledPolicy" and "standard output" in proc.stderr
    assert [s["file"] for s in doc["sources"]] == ["contracts/policies/doc-rag-planner.policy"]  # named as told


def test_validate_stdin_filename_resolves_relative_paths_and_names_the_file(tmp_path: Path) -> None:
    text = (ROOT / "contracts" / "planner.yaml").read_text(encoding="utf-8")
    bare = agentos("validate", "-", "--format", "json", cwd=tmp_path, stdin=text)
    assert bare.returncode == 1 and [d["code"] for d in one_json(bare)["diagnostics"]] == ["AC124"]
    named = agentos("validate", "-", "--stdin-filename", str(ROOT / "contracts" / "planner.yaml"), "--format", "json",
                    cwd=tmp_path, stdin=text)
    assert named.returncode == 0 and one_json(named)["ok"] is True
    broken = agentos("validate", "-", "--stdin-filename", "my/contract.yaml", "--format", "json", cwd=tmp_path,
                     stdin=text.replace("name:", "nmae:", 1))
    assert {d["file"] for d in one_json(broken)["diagnostics"]} == {"my/contract.yaml"}


# ---- the other machine formats, read by their consumers' own definitions ------------------------

SARIF = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
JUNIT = xmlschema.XMLSchema10(str(SCHEMAS / "junit-10.xsd"))
BAD = "tests/fixtures/validate/invalid/hrt-wcet-over-deadline.yaml"
CI_RUNS = {
    "validate": ["validate", "contracts/", BAD],
    "test": ["test", "contracts/policies/"],
    "sched": ["sched", ILP_SET],
    "admit": ["admit", "contracts/", "--platform", PLATFORM, "--dry-run"],
}


@pytest.mark.parametrize("command", sorted(CI_RUNS))
def test_sarif_junit_github_for_every_reporting_command(command: str) -> None:
    sarif = agentos(*CI_RUNS[command], "--format", "sarif")
    doc = one_json(sarif)
    jsonschema.Draft4Validator(SARIF).validate(doc)
    junit = agentos(*CI_RUNS[command], "--format", "junit")
    assert not chatter(junit.stdout)
    JUNIT.validate(junit.stdout)
    github = agentos(*CI_RUNS[command], "--format", "github")
    assert all(GITHUB_LINE.fullmatch(line) for line in github.stdout.splitlines()), github.stdout
    assert sarif.returncode == junit.returncode == github.returncode
