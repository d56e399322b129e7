"""``agentos migrate`` and ``validate`` on the paper's forms, as a user runs them (subprocesses)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAPER = ROOT / "tests" / "fixtures" / "paper"
PLATFORM = ROOT / "contracts" / "platforms" / "city-edge.yaml"


def agentos(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "agentos_contracts", *args], cwd=cwd, capture_output=True,
                          text=True, check=False, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def copy(tmp_path: Path) -> Path:
    folder = tmp_path / "paper"
    shutil.copytree(PAPER, folder)
    return folder


def test_validate_gives_one_finding_for_a_paper_contract_then_what_would_remain() -> None:
    done = agentos("validate", str(PAPER / "safety-kill-switch.yaml"), "--format", "json")
    assert done.returncode == 1
    diags = json.loads(done.stdout)["diagnostics"]
    assert [(d["code"], d["line"], d["column"]) for d in diags] == [("AC050", 1, 1), ("AC110", 7, 14)]
    assert "agentos migrate" in diags[0]["message"]
    assert diags[1]["path"] == "/deadline_ms"  # located in the file as the user wrote it


def test_validate_paper_workflow_is_one_finding_not_a_cascade() -> None:
    done = agentos("validate", str(PAPER / "city-permit-assistant.yaml"), "--format", "json")
    codes = [d["code"] for d in json.loads(done.stdout)["diagnostics"]]
    assert codes == ["AC050"]


def test_migrate_without_write_shows_a_diff_and_exits_1(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    before = (folder / "speech-copilot.yaml").read_text(encoding="utf-8")
    done = agentos("migrate", str(folder / "speech-copilot.yaml"))
    assert done.returncode == 1
    assert "-agent: \"speech-copilot\"" in done.stdout and "+name: \"speech-copilot\"" in done.stdout
    assert f"{folder / 'speech-copilot.yaml'}:2:1: `agent` is `name`" in done.stdout
    assert (folder / "speech-copilot.yaml").read_text(encoding="utf-8") == before  # nothing written


def test_migrate_write_then_check_is_clean_and_admits(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    done = agentos("migrate", str(folder), "--write", "--format", "json")
    assert done.returncode == 0, done.stdout
    report = json.loads(done.stdout)
    changed = {Path(f["path"]).name for f in report["files"] if f["changed"]}
    assert changed == {"safety-kill-switch.yaml", "speech-copilot.yaml", "city-permit-assistant.yaml"}
    again = agentos("migrate", str(folder))
    assert again.returncode == 0 and "0 files would be migrated" in again.stdout
    admitted = agentos("admit", str(folder / "speech-copilot.yaml"), "--platform", str(PLATFORM),
                       "--dry-run", "--format", "json")
    doc = json.loads(admitted.stdout)
    assert admitted.returncode == 0 and [a["name"] for a in doc["admitted"]] == ["speech-copilot"]
    hrt = agentos("admit", str(folder / "safety-kill-switch.yaml"), "--platform", str(PLATFORM),
                  "--dry-run", "--format", "json")
    assert hrt.returncode == 1
    assert "AC110" in hrt.stdout  # an HRT contract without a WCET cannot be admitted: said, not guessed


def test_migrate_reports_yaml_errors_located_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("agent: x\nmust: [a\n", encoding="utf-8")
    done = agentos("migrate", str(bad), "--format", "json")
    assert done.returncode == 1
    (diag,) = json.loads(done.stdout)["diagnostics"]
    assert diag["code"] == "AC004" and diag["line"] >= 2


def test_migrate_nothing_to_read_is_a_usage_error(tmp_path: Path) -> None:
    done = agentos("migrate", str(tmp_path), "--format", "json")
    assert done.returncode == 2
    json.loads(done.stdout)


def test_validating_canonical_contracts_never_loads_ruamel() -> None:
    code = ("import sys\nfrom agentos_contracts.validate import validate_paths\n"
            f"validate_paths([{str(ROOT / 'contracts')!r}], check_policies=False)\n"
            "print('ruamel' in ' '.join(sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False).stdout
    assert out.strip() == "False", out
