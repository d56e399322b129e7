"""What users of ruff, uv, conftest and kubeconform expect: version, help, config file, inline
suppression, explain, quiet, the same flags everywhere; folder scans that skip YAML that is not
ours; `--ignore` that never admits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentos_contracts.cli import COMMANDS, app

ROOT = Path(__file__).resolve().parents[2]
INVALID = ROOT / "tests" / "fixtures" / "validate" / "invalid"
PLATFORM = str(ROOT / "contracts" / "platforms" / "city-edge.yaml")
runner = CliRunner()


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=input)
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def test_version_and_short_help() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("agentos ") and run("-V")[1] == out
    assert run("-h")[0] == 0 and "validate" in run("-h")[1]
    assert run("validate", "-h")[0] == 0


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_same_flags_mean_the_same_everywhere(name: str) -> None:
    """`-f/--format`, `-o/--output`, `-p/--platform`, `-c/--contract`, `-q/--quiet` wherever they exist."""
    import importlib
    import inspect

    fn = importlib.import_module(f"agentos_contracts.cli.{COMMANDS[name]}").command
    decls = [getattr(p.default, "param_decls", ()) or () for p in inspect.signature(fn).parameters.values()]
    by_long = {o: d for d in decls for o in d if o.startswith("--")}
    expected = {"--format": "-f", "--output": "-o", "--platform": "-p", "--contract": "-c", "--quiet": "-q",
                "--verbose": "-v"}
    for long, short in expected.items():
        if long in by_long:
            assert short in by_long[long], (name, long)


def test_explain_prints_the_codes_documentation() -> None:
    code, out, _ = run("explain", "ac112")
    assert code == 0 and out.startswith("AC112 `wcet-over-deadline` (error)") and "Fix:" in out
    code, out, _ = run("explain", "AC112", "--format", "json")
    assert json.loads(out)["title"] == "wcet-over-deadline"
    code, out, err = run("explain", "AC99")
    assert code == 2 and "unknown code" in err


# ---- folder scans and foreign YAML --------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository as users have them: our contracts beside CI files and other YAML."""
    shutil.copy(ROOT / "contracts" / "planner.yaml", tmp_path / "planner.yaml")
    shutil.copytree(ROOT / "contracts" / "policies", tmp_path / "policies")
    (tmp_path / ".pre-commit-config.yaml").write_text("repos:\n- repo: local\n", encoding="utf-8")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text("on: push\njobs: {}\n", encoding="utf-8")
    (tmp_path / "chart").mkdir()
    (tmp_path / "chart" / "values.yaml").write_text("apiVersion: v2\nimage: {{ .Values.x }}\n", encoding="utf-8")
    (tmp_path / "cr.yaml").write_text("apiVersion: agentos.dev/v1alpha1\nkind: AgentContract\n", encoding="utf-8")
    return tmp_path


def test_folder_scan_skips_yaml_that_is_not_ours_with_a_note(repo: Path) -> None:
    (repo / "cr.yaml").unlink()
    code, out, _ = run("validate", str(repo), "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["ok"] is True
    skipped = sorted(Path(d["file"]).name for d in doc["diagnostics"] if d["code"] == "AC017")
    assert skipped == [".pre-commit-config.yaml", "ci.yml", "values.yaml"]
    assert all(d["severity"] == "note" for d in doc["diagnostics"])


def test_custom_resource_group_counts_as_ours(repo: Path) -> None:
    code, out, _ = run("validate", str(repo), "--format", "json")
    files = {Path(d["file"]).name for d in json.loads(out)["diagnostics"] if d["code"] != "AC017"}
    assert "cr.yaml" in files  # recognised (and then checked), not skipped


def test_named_foreign_file_is_an_error_and_strict_checks_skipped_ones(repo: Path) -> None:
    code, out, _ = run("validate", str(repo / ".pre-commit-config.yaml"), "--format", "json")
    assert code == 1 and "AC013" in {d["code"] for d in json.loads(out)["diagnostics"]}
    (repo / "cr.yaml").unlink()
    code, out, _ = run("validate", str(repo), "--strict", "--format", "json")
    codes = {d["code"] for d in json.loads(out)["diagnostics"]}
    assert code == 1 and "AC017" not in codes and "AC013" in codes


def test_hook_mode_skips_named_foreign_files(repo: Path) -> None:
    """What the pre-commit hook runs: the changed files by name, foreign ones skipped, not failed."""
    code, out, _ = run("validate", "--skip-foreign", str(repo / ".pre-commit-config.yaml"), "--format", "json")
    assert code == 0 and [d["code"] for d in json.loads(out)["diagnostics"]] == ["AC017"]
    code, _, _ = run("validate", "--skip-foreign", str(repo / ".pre-commit-config.yaml"), str(repo / "planner.yaml"))
    assert code == 0


def test_pre_commit_hooks_cover_yaml_and_policies() -> None:
    import yaml

    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert "--skip-foreign" in hooks["agentos-validate"]["entry"]
    assert "policy" in hooks["agentos-fmt"]["files"] and "--check" in hooks["agentos-fmt"]["entry"]


# ---- --ignore never admits ----------------------------------------------------------------------


def test_admit_ignore_never_admits_or_drops_silently() -> None:
    bad = str(INVALID / "hrt-wcet-over-deadline.yaml")
    code, out, _ = run("admit", str(ROOT / "contracts" / "planner.yaml"), bad, "--platform", PLATFORM, "--dry-run",
                       "--ignore", "AC112", "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False and doc["admitted"] == []
    codes = {d["code"] for d in doc["diagnostics"]}
    assert {"AC112", "AC903"} <= codes  # the error is still shown, and why nothing was decided


def test_admit_ok_is_false_when_nothing_was_decided(tmp_path: Path) -> None:
    code, out, _ = run("admit", PLATFORM, "--platform", PLATFORM, "--dry-run", "--format", "json")
    doc = json.loads(out)
    assert code == 2 and doc["ok"] is False and doc["admitted"] == [] and doc["rejected"] == []


# ---- configuration and inline suppression -------------------------------------------------------


def test_config_file_sets_defaults_and_flags_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(INVALID / "consent-outside-capabilities.yaml", tmp_path / "c.yaml")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.agentos]\nformat = "json"\n'
                                             'ignore = ["AC119"]\n', encoding="utf-8")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")  # found walking up
    code, out, _ = run("validate", "../c.yaml")
    assert code == 0 and json.loads(out)["diagnostics"] == []  # json from the config, AC119 ignored by it
    code, out, _ = run("validate", "../c.yaml", "--format", "text")
    assert out.startswith("ok:")  # the flag wins


def test_agentos_toml_platform_and_per_file_ignores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "legacy").mkdir()
    shutil.copy(INVALID / "consent-outside-capabilities.yaml", tmp_path / "legacy" / "c.yaml")
    shutil.copy(INVALID / "consent-outside-capabilities.yaml", tmp_path / "d.yaml")
    (tmp_path / "agentos.toml").write_text(f'platform = "{PLATFORM}"\n[per-file-ignores]\n"legacy/*.yaml" = ["AC119"]\n',
                                           encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run("validate", ".", "--format", "json")
    files = {Path(d["file"]).as_posix() for d in json.loads(out)["diagnostics"] if d["code"] == "AC119"}
    assert files == {"d.yaml"}
    code, out, _ = run("admit", str(ROOT / "contracts" / "planner.yaml"), "--dry-run", "--format", "json")
    assert code == 0 and json.loads(out)["admitted"][0]["name"] == "planner"  # the platform came from the file


def test_broken_config_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "agentos.toml").write_text('formatt = "json"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, _, err = run("validate", str(ROOT / "contracts"))
    assert code == 2 and "AC905" in err and "formatt" in err


def test_inline_suppression_in_yaml_and_policy(tmp_path: Path) -> None:
    text = (INVALID / "consent-outside-capabilities.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    lines[8] += "  # agentos: ignore[AC119]"
    (tmp_path / "c.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, _ = run("validate", str(tmp_path / "c.yaml"), "--format", "json")
    assert json.loads(out)["diagnostics"] == []
    (tmp_path / "p.policy").write_text("REQUIRE CONSENT FOR email.send\n", encoding="utf-8")
    code, out, _ = run("compile", str(tmp_path / "p.policy"), "--format", "json")
    assert "AC334" in {d["code"] for d in json.loads(out)["diagnostics"]}
    (tmp_path / "p.policy").write_text("REQUIRE CONSENT FOR email.send  # agentos: ignore[AC334]\n", encoding="utf-8")
    code, out, _ = run("compile", str(tmp_path / "p.policy"), "--format", "json")
    assert code == 0 and json.loads(out)["diagnostics"] == []


def test_quiet_prints_findings_only(tmp_path: Path) -> None:
    assert run("validate", str(ROOT / "contracts"), "-q")[1] == ""
    code, out, _ = run("validate", str(INVALID / "hrt-wcet-over-deadline.yaml"), "--quiet")
    assert code == 1 and "AC112" in out and "error," not in out.splitlines()[-1]
    assert run("test", str(ROOT / "contracts" / "policies"), "-q")[1] == ""


def test_fmt_stdin_filename_names_the_file_and_never_rewrites_it(tmp_path: Path) -> None:
    real = tmp_path / "p.policy"
    real.write_text("ALLOW   x\n", encoding="utf-8")
    code, out, _ = run("fmt", "-", "--stdin-filename", str(real), input="ALLOW   x\n")
    assert code == 0 and out == "ALLOW x\n" and real.read_text(encoding="utf-8") == "ALLOW   x\n"
    code, out, _ = run("fmt", "-", "--stdin-filename", str(real), "--format", "json", input="ALLOW (\n")
    assert code == 1 and {d["file"] for d in json.loads(out)["diagnostics"]} == {str(real)}
