"""Gateway benchmark: one tool call through `agentos gateway` versus the same call made directly.

    python benchmarks/gateway_bench.py [--n 400] [--warmup 50] [--mode auto|legacy]

Both use the same client (the official MCP SDK's ``Client``), the same transport (stdio)
and the same upstream server (tests/fixtures/gateway/upstream_server.py, an SDK
low-level server): ``fetch {"host": "city.gov"}`` directly, then ``web.fetch`` through the
gateway, which verifies the sealed manifest once at start-up and then, per call, checks the
pin, decides with the runtime (ceiling, compiled policy, sealed inputSchema, budgets),
appends the audit records (batched), forwards, checks the result against the sealed
outputSchema and records the outcome. Calls alternate between the two open sessions, so a
busy machine slows both alike. The manifest is admitted here with `agentos admit` against the
test catalog. Prints p50/p95 per call for both, the difference (goal: ≤ 1.5 ms added at p50,
≤ 3 ms at p95), and the CPU time the gateway process spends per call (Linux).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "gateway"


def _agentos(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "agentos_contracts", *args], cwd=str(ROOT), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def admit(folder: Path) -> tuple[Path, Path]:
    _agentos("keygen", "-o", str(folder / "keys"))
    _agentos("admit", str(FIXTURES / "agent.yaml"), "--platform", str(FIXTURES / "platform.yaml"),
             "--key", str(folder / "keys" / "agentos.key"), "-o", str(folder / "m"))
    return folder / "m" / "permit-clerk.manifest.json", folder / "keys" / "agentos.pub"


def _cpu_s(pattern: str) -> float:
    """User + system CPU seconds of this process's children whose command line contains ``pattern`` (Linux /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if pattern in cmdline and int(fields[1]) == os.getpid():
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


async def interleaved(direct: StdioServerParameters, gateway: StdioServerParameters, n: int, warmup: int,
                      mode: str) -> tuple[list[float], list[float], float, float]:
    """Per-call seconds of the same call made directly and through the gateway, alternating one by one
    on two open sessions (so both see the same machine load), and the CPU seconds per call of the
    gateway process and of the directly called upstream server (the same SDK server code)."""
    base: list[float] = []
    via: list[float] = []
    cpu_before = up_before = 0.0
    async with Client(direct, mode=mode) as d, Client(gateway, mode=mode) as g:
        for i in range(warmup + n):
            if i == warmup:
                cpu_before, up_before = _cpu_s("agentos_contracts gateway"), _cpu_s("upstream_server.py")
            pair = ((d, "fetch", base), (g, "web.fetch", via))
            for client, tool, out in (pair if i % 2 == 0 else pair[::-1]):
                start = time.perf_counter()
                result = await client.call_tool(tool, {"host": "city.gov"})
                elapsed = time.perf_counter() - start
                if result.is_error:
                    raise SystemExit(f"{tool} failed: {result.content}")
                if i >= warmup:
                    out.append(elapsed)
        cpu = (_cpu_s("agentos_contracts gateway") - cpu_before) / n
        up_cpu = (_cpu_s("upstream_server.py") - up_before) / n
    return base, via, cpu, up_cpu


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--mode", default="auto", help="client protocol negotiation: auto (2026-07-28) or legacy")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        manifest, pub = admit(folder)
        record = folder / "received.jsonl"
        upstream = [str(FIXTURES / "upstream_server.py"), "--record", str(record)]
        direct = StdioServerParameters(command=sys.executable, args=upstream, env=dict(os.environ))
        gateway = StdioServerParameters(command=sys.executable, cwd=str(ROOT), env=dict(os.environ), args=[
            "-m", "agentos_contracts", "gateway", str(manifest), "--pub", str(pub), "--audit", str(folder / "a.db"),
            "--upstream", f"web={sys.executable} {' '.join(upstream)}", "--context", '{"unsafe_environment": false}'])
        base, via, cpu, up_cpu = anyio.run(interleaved, direct, gateway, opts.n, opts.warmup, opts.mode)
        verified = subprocess.run([sys.executable, "-m", "agentos_contracts", "audit", "verify", str(folder / "a.db")],
                                  cwd=str(ROOT), capture_output=True, text=True)
    print(f"gateway benchmark: {opts.n} calls after {opts.warmup} warm-up, stdio, client mode {opts.mode}, "
          f"Python {platform.python_version()}, {platform.machine()}")
    rows: list[tuple[str, Any, Any]] = [
        ("direct to the upstream (baseline)", pct(base, 0.5), pct(base, 0.95)),
        ("through agentos gateway", pct(via, 0.5), pct(via, 0.95)),
    ]
    for name, p50, p95 in rows:
        print(f"  {name:<36} p50 {p50 * 1e3:7.3f} ms   p95 {p95 * 1e3:7.3f} ms")
    added50, added95 = pct(via, 0.5) - pct(base, 0.5), pct(via, 0.95) - pct(base, 0.95)
    print(f"  {'added by the gateway':<36} p50 {added50 * 1e3:7.3f} ms   p95 {added95 * 1e3:7.3f} ms"
          f"   (goal: ≤ 1.5 ms p50, ≤ 3 ms p95)")
    print(f"  CPU per call (user + system, from /proc): gateway process {cpu * 1e3:.3f} ms; "
          f"the upstream server called directly {up_cpu * 1e3:.3f} ms")
    print(f"  mean direct {statistics.fmean(base) * 1e3:.3f} ms, via gateway {statistics.fmean(via) * 1e3:.3f} ms; "
          f"audit log: {verified.stdout.strip() or verified.stderr.strip()}")


if __name__ == "__main__":
    main()
