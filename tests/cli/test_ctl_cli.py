"""``agentos ctl``: one JSON document, exit 0/1/2, a signed list any runtime trusts, a control log that verifies."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from agentos_contracts.cli import app
from agentos_contracts.runtime import revocations as rev
from agentos_contracts.runtime.audit import verify
from agentos_contracts.seal import keys

ROOT = Path(__file__).resolve().parents[2]
SEAL = ROOT / "tests" / "fixtures" / "seal"
MANIFEST = SEAL / "valid" / "hrt-agent.manifest.json"
runner = CliRunner()


def _ctl(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict]:
    result = runner.invoke(app, ["ctl", *args, "--format", "json"], env=env)
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def _setup(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    key = tmp_path / "k.key"
    shutil.copy(SEAL / "keys" / "test.key", key)
    listing = tmp_path / "revocations.json"
    return key, listing, ["--audit", str(tmp_path / "ctl.db"), "--revocations", str(listing), "--key", str(key)]


def test_revoke_writes_a_signed_list_and_records_it(tmp_path) -> None:
    key, listing, common = _setup(tmp_path)
    code, doc = _ctl("revoke", str(MANIFEST), *common, "--reason", "retired")
    assert code == 0 and doc["ok"] and doc["state"] == "revoked" and doc["sequence"] == 1
    assert doc["manifest"].startswith("sha256:") and doc["diagnostics"] == []
    pub = keys.read_public_key(SEAL / "keys" / "test.pub")
    assert rev.read(listing, [pub]).revoked == {doc["manifest"]: "retired"}
    report = verify(tmp_path / "ctl.db")
    assert report.ok and report.records == 1


def test_pause_then_resume_by_digest(tmp_path) -> None:
    _, listing, common = _setup(tmp_path)
    digest = "sha256:" + "ab" * 32
    assert _ctl("pause", digest, *common)[1]["state"] == "paused"
    code, doc = _ctl("resume", digest, *common)
    assert code == 0 and doc["state"] == "running" and doc["sequence"] == 2
    pub = keys.read_public_key(SEAL / "keys" / "test.pub")
    assert rev.read(listing, [pub]).paused == {}


def test_a_revoked_manifest_cannot_be_resumed(tmp_path) -> None:
    _, _, common = _setup(tmp_path)
    _ctl("revoke", str(MANIFEST), *common)
    code, doc = _ctl("resume", str(MANIFEST), *common)
    assert code == 1 and [d["code"] for d in doc["diagnostics"]] == ["AC774"]


def test_usage_errors_exit_2(tmp_path) -> None:
    key, listing, _ = _setup(tmp_path)
    code, doc = _ctl("revoke", "sha256:nothex", "--audit", str(tmp_path / "c.db"), "--revocations", str(listing),
                     "--key", str(key))
    assert code == 2 and [d["code"] for d in doc["diagnostics"]] == ["AC773"]
    code, doc = _ctl("revoke", str(MANIFEST), "--audit", str(tmp_path / "c.db"), "--revocations", str(listing),
                     env={"AGENTOS_SIGNING_KEY": ""})
    assert code == 2 and [d["code"] for d in doc["diagnostics"]] == ["AC775"]
    code, doc = _ctl("revoke", str(MANIFEST), "--audit", str(tmp_path / "c.db"), "--key", str(key),
                     env={"AGENTOS_REVOCATIONS": ""})
    assert code == 2 and doc["diagnostics"][0]["code"] == "AC901"


def test_a_list_signed_by_an_unknown_key_is_not_overwritten(tmp_path) -> None:
    _, listing, common = _setup(tmp_path)
    rev.write(listing, rev.Revocations(sequence=7), keys.generate_private_key())
    code, doc = _ctl("pause", str(MANIFEST), *common)
    assert code == 1 and doc["diagnostics"][0]["code"] == "AC770"
    assert b'"sequence":7' in rev.dsse.from_json(json.loads(listing.read_bytes()))[0].payload
