"""Validate throughput and start-up, next to check-jsonschema on the same 1,000 contracts.

Prints, in one run:
- our single-file wall time (whole `agentos validate` process, median of several runs);
- our batch throughput in one process (contracts/s, one `agentos validate DIR` process);
- check-jsonschema's single-file wall time and batch throughput with the same JSON Schema,
  installed from PyPI into the benchmark's own venv (created on first use).

Usage: python benchmarks/validate_bench.py [--n 1000] [--runs 7] [--no-peer]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEER_VENV = Path(os.environ.get("AGENTOS_BENCH_VENV", Path(tempfile.gettempdir()) / "agentos-bench-peer"))

CAPS = ["web.fetch", "fs.read", "fs.write", "summarize", "rag.retrieve", "email.send", "payment.charge"]


def contract(i: int, rnd: random.Random) -> str:
    cls = rnd.choice(["HRT", "SRT", "DT"])
    if cls == "HRT":
        wcet = rnd.randint(1, 5)
        slo = f"{{wcet_ms: {wcet}, deadline_ms: {wcet * 4}, period_ms: {wcet * 5}, jitter_ms: 1}}"
    elif cls == "SRT":
        slo = f"{{onset_ms: {rnd.randint(100, 300)}, turn_ms: {rnd.randint(800, 1200)}, jitter_p95_pct: 20}}"
    else:
        slo = f"{{tokens_per_hour: {rnd.randint(10, 99) * 10000}, deadline_s: 3600}}"
    caps = sorted(rnd.sample(CAPS, 3))
    return f"""apiVersion: agentos/v0.2
kind: AgentContract
name: agent-{i:04d}
version: "1.0.{i}"
class:
  latency: {cls}
  slo: {slo}
capabilities: [{", ".join(caps)}]
compute: {{cpu: "500m", mem: "1GiB"}}
modelPolicy:
  allow: ["local/8B", "cloud/70B@>=3.0,<4"]
  max_context_tokens: {rnd.choice([4000, 8000, 16000])}
memory:
  namespace: ns-{i % 7}
  retention_days: {rnd.randint(1, 90)}
  rag: {{top_k: {rnd.randint(1, 10)}, require_grounding: true}}
security: {{consent_for: [{caps[0]}]}}
observability: {{tracing: opentelemetry, log_fields: [prompt, sources]}}
budgets: {{tokens: 100000, calls: 100}}
binding:
  mode: smooth
  prefer: {{model: ["local/8B", "cloud/70B"]}}
"""


def generate(folder: Path, n: int) -> list[Path]:
    rnd = random.Random(42)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"agent-{i:04d}.yaml"
        p.write_text(contract(i, rnd))
        paths.append(p)
    return paths


def wall(cmd: list[str], runs: int) -> tuple[float, float, float, int]:
    times, code = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        code = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), max(times), code


def peer() -> Path | None:
    exe = PEER_VENV / "bin" / "check-jsonschema"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        r = subprocess.run([str(PEER_VENV / "bin" / "pip"), "install", "-q", "check-jsonschema"], check=False)
        if r.returncode != 0:
            return None
    return exe


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--no-peer", action="store_true")
    args = ap.parse_args()
    agentos = shutil.which("agentos") or str(Path(sys.executable).parent / "agentos")
    work = Path(tempfile.mkdtemp(prefix="agentos-bench-"))
    paths = generate(work / "contracts", args.n)
    schema = ROOT / "schemas" / "AgentContract.schema.json"

    print(f"validate benchmark: {args.n} generated contracts, {args.runs} runs per figure (whole-process wall time)")
    lo, med, hi, code = wall([agentos, "validate", str(paths[0])], args.runs)
    assert code == 0, "generated contract should be valid"
    print(f"  agentos validate, one file:        min {lo*1000:7.1f} ms  median {med*1000:7.1f} ms  max {hi*1000:7.1f} ms")
    lo_b, med_b, hi_b, code = wall([agentos, "validate", str(work / "contracts")], max(3, args.runs // 2))
    assert code == 0
    print(f"  agentos validate, {args.n} files:    median {med_b:6.2f} s  -> {args.n / med_b:8.0f} contracts/s (incl. start-up)")

    # in-process batch throughput (what a long-running service or a big monorepo run sees)
    sys.path.insert(0, str(ROOT))
    from agentos_contracts.validate import validate_paths

    validate_paths([str(paths[0])])  # warm caches (schema compile)
    start = time.perf_counter()
    report = validate_paths([str(work / "contracts")])
    t = time.perf_counter() - start
    assert report.ok
    print(f"  agentos, in one process:           {t:6.2f} s  -> {args.n / t:8.0f} contracts/s")

    if not args.no_peer:
        exe = peer()
        if exe is None:
            print("  check-jsonschema: could not be installed")
        else:
            lo, med, hi, code = wall([str(exe), "--schemafile", str(schema), str(paths[0])], args.runs)
            print(f"  check-jsonschema, one file:        min {lo*1000:7.1f} ms  median {med*1000:7.1f} ms  max {hi*1000:7.1f} ms  (exit {code})")
            lo_b, med_b, hi_b, code = wall([str(exe), "--schemafile", str(schema), *map(str, paths)], max(3, args.runs // 2))
            print(f"  check-jsonschema, {args.n} files:    median {med_b:6.2f} s  -> {args.n / med_b:8.0f} contracts/s (schema only, no line numbers; exit {code})")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
