"""``agentos keygen``: files, modes, JSON shape, refusal to overwrite."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from typer.testing import CliRunner

from agentos_contracts.cli import app
from agentos_contracts.seal import keys

runner = CliRunner()


def test_writes_a_key_pair_with_json_report(tmp_path: Path) -> None:
    result = runner.invoke(app, ["keygen", "-o", str(tmp_path / "k"), "--name", "ci", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) >= {"ok", "diagnostics", "private_key", "public_key", "keyid"}
    assert doc["ok"] is True and doc["diagnostics"] == []
    private_path, public_path = Path(doc["private_key"]), Path(doc["public_key"])
    assert (private_path.name, public_path.name) == ("ci.key", "ci.pub")
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    assert keys.keyid(keys.read_public_key(public_path)) == doc["keyid"]
    assert keys.keyid(keys.read_private_key(private_path).public_key()) == doc["keyid"]


def test_text_output_names_the_files(tmp_path: Path) -> None:
    result = runner.invoke(app, ["keygen", "-o", str(tmp_path)])
    assert result.exit_code == 0
    assert "agentos.key" in result.stdout and "key id " in result.stdout
    assert (tmp_path / "agentos.key").exists() and (tmp_path / "agentos.pub").exists()


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    assert runner.invoke(app, ["keygen", "-o", str(tmp_path)]).exit_code == 0
    before = (tmp_path / "agentos.key").read_bytes()
    result = runner.invoke(app, ["keygen", "-o", str(tmp_path), "--format", "json"])
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and doc["private_key"] is None
    (diag,) = doc["diagnostics"]
    assert diag["code"] == "AC621" and diag["file"].endswith("agentos.key") and diag["line"] == 1
    assert "--force" in diag["hint"]
    assert (tmp_path / "agentos.key").read_bytes() == before
    text = runner.invoke(app, ["keygen", "-o", str(tmp_path)])
    assert text.exit_code == 2 and "error[AC621]" in text.stderr and "Traceback" not in text.output
    forced = runner.invoke(app, ["keygen", "-o", str(tmp_path), "--force"])
    assert forced.exit_code == 0 and (tmp_path / "agentos.key").read_bytes() != before


def test_bad_name_and_unwritable_folder_are_diagnosed(tmp_path: Path) -> None:
    result = runner.invoke(app, ["keygen", "-o", str(tmp_path), "--name", "../evil", "--format", "json"])
    assert result.exit_code == 2 and json.loads(result.stdout)["diagnostics"][0]["code"] == "AC901"
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    for target in (blocker / "sub", blocker):
        result = runner.invoke(app, ["keygen", "-o", str(target), "--format", "json"])
        assert result.exit_code == 2
        assert json.loads(result.stdout)["diagnostics"][0]["code"] == "AC001"
