"""``agentos validate`` as a user runs it: exit codes, formats, stdin, folders, no tracebacks."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from agentos_contracts.cli import app

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests/fixtures/validate/invalid/hrt-wcet-over-deadline.yaml"
runner = CliRunner()


def test_bundled_examples_are_valid() -> None:
    result = runner.invoke(app, ["validate", str(ROOT / "contracts"), "--format", "json"])
    doc = json.loads(result.stdout)
    assert doc["diagnostics"] == [] and doc["ok"] is True, doc["diagnostics"]
    assert result.exit_code == 0
    assert len(doc["files"]) >= 8


def test_text_output_is_compiler_style() -> None:
    result = runner.invoke(app, ["validate", str(BAD)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{BAD}:7:35: error[AC112]: ")
    assert lines[1].endswith("slo: {deadline_ms: 10, wcet_ms: 12}")
    assert lines[2].strip().endswith("^^")
    assert "hint:" in lines[3]
    assert "\x1b[" not in result.stdout  # no colour when not a terminal


def test_stdin_is_named_dash() -> None:
    result = runner.invoke(app, ["validate", "-", "--format", "json"], input=BAD.read_text())
    doc = json.loads(result.stdout)
    assert result.exit_code == 1 and {d["file"] for d in doc["diagnostics"]} == {"-"}


def test_missing_file_exits_2() -> None:
    result = runner.invoke(app, ["validate", "does/not/exist.yaml", "--format", "json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["diagnostics"][0]["code"] == "AC001"


def test_folder_without_documents_is_an_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path), "--format", "json"])
    assert result.exit_code == 2  # nothing to read is a usage error
    assert [d["code"] for d in json.loads(result.stdout)["diagnostics"]] == ["AC014"]


def test_ignore_silences_a_code() -> None:
    result = runner.invoke(app, ["validate", str(BAD), "--ignore", "AC112"])
    assert result.exit_code == 0


def test_sarif_is_valid_for_code_scanning() -> None:
    result = runner.invoke(app, ["validate", str(BAD), "--format", "sarif"])
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    res = run["results"][0]
    assert res["ruleId"] == "AC112" and rules["AC112"]["help"]["text"]
    region = res["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 7 and region["startColumn"] == 35
    assert run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == "AC112"


def test_sarif_matches_the_official_schema_shape() -> None:
    """Key structural rules of SARIF 2.1.0 that GitHub enforces (startLine >= 1, message text)."""
    result = runner.invoke(app, ["validate", str(ROOT / "tests/fixtures/validate/invalid"), "--format", "sarif"])
    for res in json.loads(result.stdout)["runs"][0]["results"]:
        assert res["message"]["text"]
        assert res["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
        assert res["level"] in ("error", "warning", "note")


def test_junit_and_github_formats() -> None:
    junit = runner.invoke(app, ["validate", str(BAD), "--format", "junit"]).stdout
    root = ET.fromstring(junit.split("\n", 1)[1])
    failure = root.find("./testsuite/testcase/failure")
    assert failure is not None and failure.get("type") == "AC112"
    gh = runner.invoke(app, ["validate", str(BAD), "--format", "github"]).stdout
    assert gh.startswith(f"::error file={BAD},line=7,col=35,title=AC112::")


def test_exit_code_2_wins_over_1() -> None:
    result = runner.invoke(app, ["validate", str(BAD), "missing.yaml"])
    assert result.exit_code == 2


EXAMPLES = sorted((ROOT / "contracts").glob("*.yaml"))


def _mutate(text: str, rnd: random.Random) -> str:
    chars = list(text)
    for _ in range(rnd.randint(1, 6)):
        op = rnd.choice(["del", "dup", "swap", "ins"])
        i = rnd.randrange(len(chars))
        if op == "del":
            del chars[i]
        elif op == "dup":
            chars.insert(i, chars[i])
        elif op == "swap" and i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        else:
            chars.insert(i, rnd.choice(":-[]{}\t\n #&*!'\"0-9é"))
    return "".join(chars)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_random_mutations_of_examples_never_traceback(tmp_path: Path, seed: int) -> None:
    rnd = random.Random(seed)
    src = rnd.choice(EXAMPLES)
    target = tmp_path / src.name
    target.write_text(_mutate(src.read_text(), rnd), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(target), "--format", "json", "--no-policies"])
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(result.stdout)
    for d in doc["diagnostics"]:
        assert d["line"] >= 1 and d["column"] >= 1 and d["code"].startswith("AC")


def test_validate_does_not_import_heavy_packages() -> None:
    """The start-up budget: no lark, pulp or networkx for contracts without workflows or policies."""
    code = (
        "import sys\n"
        "from agentos_contracts.cli import main\n"
        f"sys.argv = ['agentos', 'validate', {str(ROOT / 'contracts/safety-kill-switch.yaml')!r}, '--no-policies']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "bad = sorted(m for m in ('lark', 'pulp', 'networkx', 'highspy', 'cryptography') if m in sys.modules)\n"
        "print('HEAVY=' + ','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False).stdout
    assert "HEAVY=\n" in out, out


def test_validate_loads_networkx_only_for_workflows() -> None:
    code = (
        "import sys\n"
        "from agentos_contracts.validate import validate_paths\n"
        f"validate_paths([{str(ROOT / 'contracts/workflows')!r}, {str(ROOT / 'contracts/planner.yaml')!r}], check_policies=False)\n"
        "print('networkx' in sys.modules, 'lark' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False).stdout
    assert out.strip() == "True False", out


@pytest.mark.parametrize("kind", ["AgentContract", "Workflow", "Platform", "TaskSet", "PolicyTest"])
def test_schema_command_prints_a_schema(kind: str) -> None:
    result = runner.invoke(app, ["schema", kind])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["$id"].endswith(f"{kind}.schema.json")


def test_schema_command_unknown_kind_exits_2() -> None:
    result = runner.invoke(app, ["schema", "AgentContrct"])
    assert result.exit_code == 2
    assert "did you mean `AgentContract`" in result.output
