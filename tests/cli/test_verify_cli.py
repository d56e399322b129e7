"""``agentos verify``: exit codes 0/1/2, the documented JSON shape, and every refusal on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentos_contracts.cli import app
from agentos_contracts.cli.verify import verify_files
from agentos_contracts.diagnostics import Diagnostic, Severity, Span
from agentos_contracts.seal import keys

ROOT = Path(__file__).resolve().parents[2]
SEAL = ROOT / "tests" / "fixtures" / "seal"
GOOD = str(SEAL / "valid" / "hrt-agent.manifest.json")
FLOW = str(SEAL / "valid" / "workflow.manifest.json")
PUB = str(SEAL / "keys" / "test.pub")
OTHER = str(SEAL / "keys" / "other.pub")
runner = CliRunner()


def _json(args: list[str]) -> tuple[int, dict]:
    result = runner.invoke(app, ["verify", *args, "--format", "json"])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def test_good_manifests_verify() -> None:
    code, doc = _json([GOOD, FLOW, "--pub", PUB, "--now", "2026-01-01T00:00:00Z"])
    assert code == 0 and doc["ok"] is True and doc["diagnostics"] == []
    assert [r["file"] for r in doc["results"]] == [GOOD, FLOW]
    for r in doc["results"]:
        assert set(r) >= {"file", "ok", "digest", "errors"}
        assert r["ok"] is True and r["errors"] == [] and r["digest"].startswith("sha256:")


def test_any_of_several_keys_suffices() -> None:
    assert _json([GOOD, "--pub", OTHER, "--pub", PUB])[0] == 0


@pytest.mark.parametrize("path", sorted((SEAL / "invalid").glob("*.manifest.json")), ids=lambda p: p.name)
def test_each_invalid_fixture_fails_with_its_code(path: Path) -> None:
    code, doc = _json([str(path), "--pub", PUB])
    expected = path.name.split("-", 1)[0]
    assert code == 1 and doc["ok"] is False
    (result,) = doc["results"]
    assert result["ok"] is False and result["errors"]
    assert [d["code"] for d in doc["diagnostics"]] == [expected]
    diag = doc["diagnostics"][0]
    assert diag["file"] == str(path) and diag["line"] == 1 and diag["column"] == 1 and diag["hint"]


def test_unsigned_is_reported_as_such() -> None:
    code, doc = _json([str(SEAL / "invalid" / "AC604-unsigned.manifest.json"), "--pub", PUB])
    assert code == 1 and doc["results"][0]["errors"] == ["manifest is unsigned"]


def test_wrong_key_fails() -> None:
    code, doc = _json([GOOD, "--pub", OTHER])
    assert code == 1 and doc["diagnostics"][0]["code"] == "AC605"


def test_min_sequence_and_now() -> None:
    code, doc = _json([FLOW, "--pub", PUB, "--min-sequence", "8", "--now", "2026-01-01T00:00:00Z"])
    assert code == 1 and doc["diagnostics"][0]["code"] == "AC613"
    assert _json([FLOW, "--pub", PUB, "--min-sequence", "7", "--now", "2026-01-01T00:00:00Z"])[0] == 0
    code, doc = _json([FLOW, "--pub", PUB, "--now", "2031-01-01T00:00:00Z"])
    assert code == 1 and doc["diagnostics"][0]["code"] == "AC612"


def test_no_key_is_a_usage_error() -> None:
    code, doc = _json([GOOD])
    assert code == 2 and doc["ok"] is False and doc["results"] == []
    assert doc["diagnostics"][0]["code"] == "AC901" and "--pub" in doc["diagnostics"][0]["hint"]
    text = runner.invoke(app, ["verify", GOOD])
    assert text.exit_code == 2 and "error[AC901]" in text.stderr


def test_private_key_or_garbage_as_pub_is_a_usage_error(tmp_path: Path) -> None:
    code, doc = _json([GOOD, "--pub", str(SEAL / "keys" / "test.key")])
    assert code == 2 and doc["diagnostics"][0]["code"] == "AC620"
    junk = tmp_path / "junk.pub"
    junk.write_text("junk")
    assert _json([GOOD, "--pub", str(junk)])[0] == 2
    assert _json([GOOD, "--pub", str(tmp_path / "missing.pub")])[0] == 2


def test_bad_now_is_a_usage_error() -> None:
    code, doc = _json([GOOD, "--pub", PUB, "--now", "yesterday"])
    assert code == 2 and "--now" in doc["diagnostics"][0]["message"]


def test_missing_manifest_is_an_io_error_but_others_are_still_checked(tmp_path: Path) -> None:
    missing = str(tmp_path / "gone.manifest.json")
    code, doc = _json([GOOD, missing, "--pub", PUB])
    assert code == 2  # 2 wins over 1
    assert [r["ok"] for r in doc["results"]] == [True, False]
    assert doc["diagnostics"][0]["code"] == "AC001"


def test_folders_and_stdin(tmp_path: Path) -> None:
    folder = tmp_path / "manifests"
    folder.mkdir()
    (folder / "a.manifest.json").write_bytes(Path(GOOD).read_bytes())
    (folder / "notes.json").write_text("{}")  # not a manifest by name: skipped
    code, doc = _json([str(folder), "--pub", PUB])
    assert code == 0 and [Path(r["file"]).name for r in doc["results"]] == ["a.manifest.json"]
    result = runner.invoke(app, ["verify", "-", "--pub", PUB, "--format", "json"], input=Path(GOOD).read_bytes())
    assert result.exit_code == 0 and json.loads(result.stdout)["results"][0]["file"] == "-"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _json([str(empty), "--pub", PUB])[0] == 2


def test_text_output() -> None:
    ok = runner.invoke(app, ["verify", GOOD, "--pub", PUB])
    assert ok.exit_code == 0 and ok.stdout.startswith(f"ok   {GOOD} sha256:") and "1 manifest verified" in ok.stdout
    bad = runner.invoke(app, ["verify", str(SEAL / "invalid" / "AC606-payload-altered.manifest.json"), "--pub", PUB])
    assert bad.exit_code == 1 and "FAIL" in bad.stdout and "error[AC606]" in bad.stderr


def test_drift_check_hook_runs_on_intact_manifests_only() -> None:
    seen: list[str] = []

    def drift(file: str, result: object) -> list[Diagnostic]:
        seen.append(file)
        return [Diagnostic(Span.file_start(file), Severity.ERROR, "AC901", "re-admission differs", "", "")]

    key = keys.read_public_key(PUB)
    bad = str(SEAL / "invalid" / "AC606-payload-altered.manifest.json")
    reports = verify_files([GOOD, bad], [key], drift_check=drift)
    assert seen == [GOOD]
    assert [r.ok for r in reports] == [False, False]
    assert reports[0].to_json()["errors"] == ["re-admission differs"]
