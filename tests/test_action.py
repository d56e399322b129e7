"""The composite GitHub Action: its shell steps run here as a runner would run them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
SARIF = json.loads((ROOT / "tests" / "fixtures" / "report" / "schemas" / "sarif-schema-2.1.0.json").read_text())


def steps() -> dict[str, dict]:  # type: ignore[type-arg]
    return {s.get("name", s.get("uses", "")): s for s in ACTION["runs"]["steps"]}


def test_is_a_composite_action_that_installs_from_the_repository_and_uploads_sarif() -> None:
    assert ACTION["runs"]["using"] == "composite"
    all_steps = steps()
    install = next(s for n, s in all_steps.items() if n.startswith("Install"))
    assert '"$GITHUB_ACTION_PATH"' in install["run"]  # the repository itself, not a package index
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif@") for s in all_steps.values())
    for s in all_steps.values():  # inputs reach shell scripts through the environment, never spliced in
        assert "${{" not in s.get("run", "")


def run_step(name: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    step = steps()[name]
    bindir = str(Path(sys.executable).parent)
    full = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", ""), "GITHUB_ACTION_PATH": str(ROOT),
            **env, **{k: v.replace("${{ inputs.paths }}", env["paths"]) for k, v in step.get("env", {}).items()}}
    for key, value in list(full.items()):  # the runner substitutes ${{ inputs.X }}; do the same
        if isinstance(value, str) and value.startswith("${{ inputs."):
            full[key] = env[value[len("${{ inputs."):-3].strip()]
    return subprocess.run(["bash", "-e", "-c", step["run"]], cwd=cwd, env=full, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_steps_validate_write_sarif_and_gate(tmp_path: Path) -> None:
    shutil.copy(ROOT / "tests" / "fixtures" / "validate" / "invalid" / "hrt-wcet-over-deadline.yaml", tmp_path / "c.yaml")
    (tmp_path / ".pre-commit-config.yaml").write_text("repos: []\n", encoding="utf-8")
    env = {"paths": ".", "args": "", "sarif-file": "out.sarif"}
    sarif = run_step("SARIF report", env, tmp_path)
    assert sarif.returncode == 0, sarif.stderr  # findings do not stop the upload
    doc = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(SARIF).validate(doc)
    assert [r["ruleId"] for r in doc["runs"][0]["results"] if r["level"] == "error"] == ["AC112"]
    gate = run_step("Annotations and gate", env, tmp_path)
    assert gate.returncode == 1 and gate.stdout.startswith("::error file=c.yaml,line=7,col=35,title=AC112::")
    missing = run_step("SARIF report", {**env, "paths": "no-such-folder"}, tmp_path)
    assert missing.returncode == 2  # a mistyped path stops the job
