"""`agentos k8s manifests` and `agentos webhook serve` from the command line."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import trustme
from typer.testing import CliRunner

from agentos_contracts.cli import app
from tests.k8s.conftest import PLATFORM, REPO, example, review

runner = CliRunner()


def test_manifests_to_stdout_are_deterministic_yaml() -> None:
    first = runner.invoke(app, ["k8s", "manifests", "--image", "example/agentos:1"])
    second = runner.invoke(app, ["k8s", "manifests", "--image", "example/agentos:1"])
    assert first.exit_code == 0 and first.stdout == second.stdout
    assert first.stdout.count("kind: CustomResourceDefinition") == 3
    assert "image: example/agentos:1" in first.stdout


def test_manifests_to_a_folder_and_json(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca))
    result = runner.invoke(app, ["k8s", "manifests", "-o", str(tmp_path / "out"), "--namespace", "agents",
                                 "--ca-bundle", str(ca), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] and sorted(Path(f).name for f in doc["files"]) == ["crds.yaml", "webhook.yaml"]
    kinds = [o["kind"] for o in doc["objects"]]
    assert kinds.count("CustomResourceDefinition") == 3 and "ValidatingWebhookConfiguration" in kinds
    text = (tmp_path / "out" / "webhook.yaml").read_text()
    assert "caBundle:" in text and "namespace: agents" in text


def test_bad_namespace_is_a_usage_error() -> None:
    result = runner.invoke(app, ["k8s", "manifests", "--namespace", "Not_A_Label", "--format", "json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["diagnostics"][0]["code"] == "AC850"


def test_serve_refuses_to_start_without_usable_tls(tmp_path: Path) -> None:
    result = runner.invoke(app, ["webhook", "serve", "--platform", str(PLATFORM), "--tls-cert", "missing.crt",
                                 "--tls-key", "missing.key", "--listen", "nope", "--format", "json"])
    assert result.exit_code == 2
    codes = sorted(d["code"] for d in json.loads(result.stdout)["diagnostics"])
    assert codes == ["AC851", "AC852"]


def test_serve_answers_reviews_from_a_subprocess(tmp_path: Path) -> None:
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    leaf.cert_chain_pems[0].write_to_path(str(tmp_path / "tls.crt"))
    leaf.private_key_pem.write_to_path(str(tmp_path / "tls.key"))
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    cmd = [sys.executable, "-m", "agentos_contracts", "webhook", "serve", "--platform", str(PLATFORM),
           "--policies", str(REPO / "contracts"), "--tls-cert", str(tmp_path / "tls.crt"),
           "--tls-key", str(tmp_path / "tls.key"), "--listen", f"127.0.0.1:{port}",
           "--reservations", str(tmp_path / "state"), "--budget-ms", "30000"]  # wiring, not speed, on a busy machine
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ})
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    try:
        with httpx.Client(verify=ctx, base_url=f"https://127.0.0.1:{port}", timeout=60) as c:
            deadline = time.monotonic() + 120  # start-up imports and validates the platform; the machine may be busy
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    if c.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            resp = c.post("/validate", json=review(example("planner"))).json()["response"]
        assert resp["allowed"] is True, resp
        assert list((tmp_path / "state").glob("AgentContract.*.planner.manifest.json"))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert "Traceback" not in proc.stderr.read().decode()
