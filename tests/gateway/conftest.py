"""Gateway test fixtures: manifests admitted with `agentos admit` against a test catalog, real SDK
servers as subprocesses (tests/fixtures/gateway/upstream_server.py) and the SDK's real client."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "gateway"
UPSTREAM = FIXTURES / "upstream_server.py"
SEALED_FETCH_DESCRIPTION = "fetch a page from an allowed host"


@dataclass(frozen=True)
class Admitted:
    agent: Path
    tight: Path
    pub: Path
    key: Path


@pytest.fixture(scope="session")
def admitted(tmp_path_factory: pytest.TempPathFactory) -> Admitted:
    """The test contracts admitted and sealed by `agentos admit` with a fresh test key."""
    from agentos_contracts.cli import app

    out = tmp_path_factory.mktemp("gateway-admit")
    runner = CliRunner()
    keys = runner.invoke(app, ["keygen", "-o", str(out / "keys")])
    assert keys.exit_code == 0, keys.output
    result = runner.invoke(app, ["admit", str(FIXTURES / "agent.yaml"), str(FIXTURES / "tight.yaml"),
                                 "--platform", str(FIXTURES / "platform.yaml"), "--key",
                                 str(out / "keys" / "agentos.key"), "-o", str(out / "manifests"),
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    return Admitted(agent=out / "manifests" / "permit-clerk.manifest.json",
                    tight=out / "manifests" / "tight-clerk.manifest.json",
                    pub=out / "keys" / "agentos.pub", key=out / "keys" / "agentos.key")


def upstream_command(record: Path, *extra: str) -> str:
    return " ".join([sys.executable, str(UPSTREAM), "--record", str(record), *extra])


def received(record: Path) -> list[dict[str, Any]]:
    """What the upstream servers were sent (every request they got, in order)."""
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines() if line.strip()]


def gateway_args(manifest: Path, pub: Path, audit: Path, upstreams: list[str], *extra: str) -> list[str]:
    args = ["-m", "agentos_contracts", "gateway", str(manifest), "--pub", str(pub), "--audit", str(audit)]
    for u in upstreams:
        args += ["--upstream", u]
    return [*args, *extra]


@asynccontextmanager
async def stdio_gateway(args: list[str], *, mode: str = "auto", elicit: Any = None) -> AsyncIterator[Any]:
    """The SDK's client connected to `agentos gateway ...` over stdio."""
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=args, cwd=str(ROOT))
    async with Client(params, mode=mode, elicitation_callback=elicit) as client:
        yield client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"process exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listened on 127.0.0.1:{port}")


@contextmanager
def background(args: list[str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A process serving HTTP on ``port``, stopped with SIGINT (as Ctrl-C would) at the end."""
    proc = subprocess.Popen(args, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, proc)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(2)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def audit_verify(audit: Path) -> dict[str, Any]:
    """`agentos audit verify LOG --format json`, as a user runs it after the client disconnected."""
    done = subprocess.run([sys.executable, "-m", "agentos_contracts", "audit", "verify", str(audit), "--format",
                           "json"], cwd=str(ROOT), capture_output=True, text=True, timeout=60)
    doc = json.loads(done.stdout)
    assert done.returncode == 0, doc
    return doc


def audit_records(audit: Path) -> list[dict[str, Any]]:
    from agentos_contracts.runtime.logstore import iter_records, read_log

    return [dict(r) for r in iter_records(read_log(audit))]


class Kit:
    """The helpers above as one fixture (test modules cannot import conftest under importlib mode)."""

    fetch_description = SEALED_FETCH_DESCRIPTION
    root = ROOT
    upstream_command = staticmethod(upstream_command)
    received = staticmethod(received)
    gateway_args = staticmethod(gateway_args)
    stdio_gateway = staticmethod(stdio_gateway)
    free_port = staticmethod(free_port)
    background = staticmethod(background)
    audit_verify = staticmethod(audit_verify)
    audit_records = staticmethod(audit_records)


@pytest.fixture()
def kit() -> Kit:
    return Kit()
