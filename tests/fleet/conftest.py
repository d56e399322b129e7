"""Fleet test fixtures: real runtimes writing real audit logs, real keys, real collector processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from agentos_contracts.fleet import proofs
from agentos_contracts.model.manifest import BindingManifest, Resolved, ResolvedTool
from agentos_contracts.seal import keys
from agentos_contracts.seal.canonical import canonical_digest
from agentos_contracts.seal.manifest import seal_manifest

HERE = Path(__file__).resolve().parent
AGENTOS = [sys.executable, "-m", "agentos_contracts"]
FETCH_TOOL = {"name": "web.fetch", "description": "fetch a page",
              "inputSchema": {"type": "object", "properties": {"host": {"type": "string"}, "path": {"type": "string"}},
                              "required": ["host"]}}


@dataclass
class Keys:
    """The collector's key pair and one runtime checkpoint key pair, as files."""

    folder: Path
    collector: Path
    collector_pub: Path
    runtime: Path
    runtime_pub: Path
    signer: keys.PrivateKey
    signer_pub: Path


@pytest.fixture()
def fleet_keys(tmp_path: Path) -> Keys:
    folder = tmp_path / "keys"
    c, cp = keys.save_key_pair(keys.generate_private_key(), folder, "collector")
    r, rp = keys.save_key_pair(keys.generate_private_key(), folder, "runtime")
    signer = keys.generate_private_key()
    _, sp = keys.save_key_pair(signer, folder, "signer")
    return Keys(folder=folder, collector=c, collector_pub=cp, runtime=r, runtime_pub=rp, signer=signer, signer_pub=sp)


def seal_agent(folder: Path, name: str, key: keys.PrivateKey) -> Path:
    """A signed manifest for one agent allowed to fetch pages (the runtime refuses unsealed ones)."""
    predicate = BindingManifest(
        agentos_version="0.1.0", kind="AgentContract", name=name, tenant="city", latency_class="SRT",
        binding_mode="smooth", capabilities=("web.fetch",), consent_for=(),
        resolved=Resolved(tools=(ResolvedTool(name="web.fetch", version="1.0.0",
                                              descriptor_digest=canonical_digest(FETCH_TOOL)),)))
    path = folder / f"{name}.manifest.json"
    path.write_bytes(seal_manifest(predicate, [("contract:test.yaml", b"contract")], key))
    return path


class CollectorProcess:
    """``agentos audit collect --listen`` in its own process; :meth:`stop` returns its JSON report."""

    def __init__(self, store: Path, fleet_keys: Keys, port: int, *extra: str) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.err = store.parent / f"collect-{port}-{time.monotonic_ns()}.err"
        self.proc = subprocess.Popen(
            [*AGENTOS, "audit", "collect", "--listen", f"127.0.0.1:{port}", "--store", str(store),
             "--key", str(fleet_keys.collector), "--format", "json", *extra],
            stdout=subprocess.PIPE, stderr=open(self.err, "w"), text=True)
        deadline = time.monotonic() + 60
        while "collecting on" not in self.err.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"collector did not start: {self.err.read_text()}")
            time.sleep(0.05)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> tuple[int, dict[str, Any]]:
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=60)
        return self.proc.returncode, json.loads(out)


class Fleet:
    """What fleet tests drive: runtimes, the CLI, collectors (killed at the end if still running)."""

    def __init__(self, folder: Path, keys_: Keys) -> None:
        self.folder = folder
        self.keys = keys_
        self.collectors: list[CollectorProcess] = []

    def run_agent(self, name: str, calls: int, *, pace_s: float = 0.0, background: bool = False) -> Any:
        """A runtime in its own process making ``calls`` decisions into ``folder/name.db``."""
        manifest = seal_agent(self.folder, name, self.keys.signer)
        args = [sys.executable, str(HERE / "runtime_agent.py"), str(manifest), str(self.keys.signer_pub),
                str(self.folder / f"{name}.db"), str(self.keys.runtime), str(calls), str(pace_s)]
        if background:
            return subprocess.Popen(args)
        subprocess.run(args, check=True, timeout=120)
        return self.folder / f"{name}.db"

    def collector(self, store: Path, port: int | None = None, *extra: str) -> CollectorProcess:
        c = CollectorProcess(store, self.keys, port or free_port(), *extra)
        self.collectors.append(c)
        return c

    @staticmethod
    def shipper(log: Path, url: str, *extra: str) -> subprocess.Popen[str]:
        """``agentos audit ship LOG --follow`` in its own process (stop it with SIGTERM or SIGKILL)."""
        return subprocess.Popen([*AGENTOS, "audit", "ship", str(log), "--to", url, "--follow", "--poll", "0.05",
                                 "--format", "json", *extra], stdout=subprocess.PIPE, text=True)

    def collect_from(self, store: Path, source: str, *extra: str) -> subprocess.Popen[str]:
        """``agentos audit collect --from kafka://...`` in its own process."""
        return subprocess.Popen([*AGENTOS, "audit", "collect", "--from", source, "--store", str(store), "--key",
                                 str(self.keys.collector), "--format", "json", *extra],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    @staticmethod
    def agentos(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*AGENTOS, *args], capture_output=True, text=True, timeout=timeout)

    @staticmethod
    def log_event_ids(log: Path) -> list[str]:
        """The event ids a log holds, in order (read straight from its SQLite file)."""
        conn = sqlite3.connect(f"file:{log}?mode=ro", uri=True)
        try:
            return [json.loads(b)["event_id"] for (b,) in conn.execute("SELECT body FROM records ORDER BY seq")]
        finally:
            conn.close()

    @staticmethod
    def store_event_ids(store: Path) -> list[str]:
        return proofs.event_ids(store)


@pytest.fixture()
def fleet(tmp_path: Path, fleet_keys: Keys) -> Iterator[Fleet]:
    f = Fleet(tmp_path, fleet_keys)
    yield f
    for c in f.collectors:
        if c.proc.poll() is None:
            c.kill()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


os.environ.setdefault("NO_COLOR", "1")
