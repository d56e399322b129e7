"""`agentos gateway` refuses to start (exit 2, nothing served) on a manifest or options it cannot trust."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentos_contracts.cli import app

ROOT = Path(__file__).resolve().parents[2]
GW = ROOT / "tests" / "fixtures" / "gateway"
UPSTREAM = f"web={sys.executable} {GW / 'upstream_server.py'} --record /dev/null"


def _admit(out: Path, *paths: Path, platform: Path = GW / "platform.yaml", unsigned: bool = False) -> Path:
    runner = CliRunner()
    assert runner.invoke(app, ["keygen", "-o", str(out / "keys"), "--force"]).exit_code == 0
    sign = ["--unsigned"] if unsigned else ["--key", str(out / "keys" / "agentos.key")]
    result = runner.invoke(app, ["admit", *map(str, paths), "--platform", str(platform), *sign, "-o", str(out / "m")])
    assert result.exit_code == 0, result.output
    return out / "m"


def _gateway(*args: str) -> tuple[int, dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "agentos_contracts", "gateway", *args, "--format", "json"],
                          cwd=str(ROOT), capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    return done.returncode, json.loads(done.stdout)


def _codes(doc: dict[str, Any]) -> list[str]:
    return [d["code"] for d in doc["diagnostics"]]


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("gw-cli")
    folder = _admit(out, GW / "agent.yaml")
    return folder / "permit-clerk.manifest.json", out / "keys" / "agentos.pub"


def test_unsigned_manifest_is_refused_before_listening(tmp_path: Path, signed: tuple[Path, Path]) -> None:
    manifest = _admit(tmp_path, GW / "agent.yaml", unsigned=True) / "permit-clerk.manifest.json"
    code, doc = _gateway(str(manifest), "--pub", str(signed[1]), "--audit", str(tmp_path / "a.db"),
                         "--upstream", UPSTREAM)
    assert code == 2 and doc["ok"] is False and _codes(doc)
    assert not (tmp_path / "a.db").exists()


def test_tampered_manifest_is_refused(tmp_path: Path, signed: tuple[Path, Path]) -> None:
    envelope = json.loads(signed[0].read_text(encoding="utf-8"))
    payload = json.loads(base64.b64decode(envelope["payload"]))
    payload["predicate"]["capabilities"].append("shell.exec")
    envelope["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    tampered = tmp_path / "tampered.manifest.json"
    tampered.write_text(json.dumps(envelope), encoding="utf-8")
    code, doc = _gateway(str(tampered), "--pub", str(signed[1]), "--audit", str(tmp_path / "a.db"),
                         "--upstream", UPSTREAM)
    assert code == 2 and any(c.startswith("AC6") for c in _codes(doc)), doc


def test_workflow_manifest_is_not_served(tmp_path: Path) -> None:
    folder = _admit(tmp_path, ROOT / "tests" / "fixtures" / "admit" / "valid" / "workflow.yaml",
                    platform=ROOT / "tests" / "fixtures" / "admit" / "platform.yaml")
    manifest = folder / "lookup.manifest.json"  # the workflow (its agents get manifests of their own)
    code, doc = _gateway(str(manifest), "--pub", str(tmp_path / "keys" / "agentos.pub"), "--audit",
                         str(tmp_path / "a.db"), "--upstream", UPSTREAM)
    assert code == 2 and _codes(doc) == ["AC800"]


@pytest.mark.parametrize(("args", "code"), [
    (["--upstream", "web"], "AC801"),
    (["--upstream", "web.x=cmd"], "AC801"),
    (["--upstream", UPSTREAM, "--upstream", UPSTREAM], "AC801"),
    (["--upstream", UPSTREAM, "--listen", "http://0.0.0.0:8080/mcp"], "AC802"),
    (["--upstream", UPSTREAM, "--context", "[1]"], "AC803"),
    (["--upstream", UPSTREAM, "--context-file", "/nonexistent/ctx.json"], "AC803"),
])
def test_bad_options_exit_2(tmp_path: Path, signed: tuple[Path, Path], args: list[str], code: str) -> None:
    rc, doc = _gateway(str(signed[0]), "--pub", str(signed[1]), "--audit", str(tmp_path / "a.db"), *args)
    assert rc == 2 and code in _codes(doc), doc
