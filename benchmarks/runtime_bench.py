"""Runtime benchmark: the decision path and authorize + audit append per call, p50/p95.

    python benchmarks/runtime_bench.py [--n 20000] [--durable-n 500]

Measures, on one sealed manifest (the runtime tests' permit policy, compiled by the real
compiler; two MCP tools; token and call budgets) and a mix of allowed, denied by the
ceiling, denied by the policy and schema-failing requests:

- decision path: ceiling → policy → MCP inputSchema → budgets, no audit (goal ≤ 15 µs p95);
- the same with the run-time watch on: lifecycle and signed-revocation-list check (one stat),
  the unit's circuit breaker, then the SLO monitors and breaker fed with the call's time
  (goal ≤ 50 µs p95, the run-time watch's own);
- audit append alone, batched (goal ≥ 15,000 records/s): the records the runtime wrote for the
  request mix, appended to a hash-chained log, next to the naive way with the same rows
  (``json.dumps`` each, one INSERT each into SQLite with the same WAL settings and batch size).
  The runtime hands the log each record's request context already in canonical form (made
  once, when the decision proves the context recordable); the naive way gets it as the dict;
- authorize + audit append, batched (WAL, synchronous=NORMAL, a commit every 256 records);
- authorize + audit append, durable (WAL, synchronous=FULL, a commit per record), with and
  without a signed checkpoint per commit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agentos_contracts.model.manifest import BindingManifest, PolicyRef, Resolved, ResolvedTool  # noqa: E402
from agentos_contracts.policy.compiler import compile_sources  # noqa: E402
from agentos_contracts.runtime import Runtime  # noqa: E402
from agentos_contracts.runtime import revocations  # noqa: E402
from agentos_contracts.runtime.audit import AuditLog  # noqa: E402
from agentos_contracts.seal import keys  # noqa: E402
from agentos_contracts.seal.canonical import Canonical, canonical_digest  # noqa: E402
from agentos_contracts.seal.manifest import seal_manifest  # noqa: E402

FETCH = {"name": "web.fetch", "description": "fetch a page",
         "inputSchema": {"type": "object", "properties": {"host": {"type": "string"}, "path": {"type": "string"}},
                         "required": ["host"], "additionalProperties": False}}
EMAIL = {"name": "email.send", "description": "send an email",
         "inputSchema": {"type": "object", "properties": {"to": {"type": "string"}, "body": {"type": "string"}},
                         "required": ["to", "body"]}}
CONTRACT = {"name": "permit-helper", "capabilities": ["web.fetch", "summarize", "fs.read"],
            "security": {"consent_for": ["email.send"]}}
SAFE = {"risk_score": 0.1, "unsafe_environment": False, "user": {"id": "u-17", "roles": ["clerk"]}}
REQUESTS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("web.fetch", SAFE, {"host": "city.gov", "path": "/permits/deck.html"}),      # allow
    ("summarize", SAFE, {}),                                                     # allow
    ("web.fetch", SAFE, {"host": "evil.example", "path": "/"}),                  # deny: no rule allows
    ("fs.write", SAFE, {"path": "/tmp/x"}),                                      # deny: ceiling
    ("web.fetch", SAFE, {"host": "city.gov", "extra": 1}),                       # deny: inputSchema
    ("summarize", {**SAFE, "unsafe_environment": True}, {}),                     # deny: policy DENY
    ("email.send", SAFE, {"to": "clerk@city.gov", "body": "permit ready"}),     # consent
]


def sealed_manifest(folder: Path, key: keys.PrivateKey) -> Path:
    policy = ROOT / "tests" / "fixtures" / "runtime" / "permit.policy"
    result = compile_sources([("permit.policy", policy.read_bytes())], CONTRACT,
                             tool_schemas={t["name"]: t["inputSchema"] for t in (FETCH, EMAIL)})
    assert result.ok and result.policy.document is not None
    document = dict(result.policy.document.data)
    predicate = BindingManifest(
        agentos_version="0.1.0", kind="AgentContract", name="permit-helper", tenant="city", latency_class="SRT",
        binding_mode="smooth", capabilities=tuple(CONTRACT["capabilities"]), consent_for=("email.send",),
        slo={"onset_ms": 300, "turn_ms": 1200, "jitter_p95_pct": 20},
        requested={"binding": {"breaker": {"failures": 5, "window_s": 60, "open_s": 30, "min_samples": 10}}},
        budgets={"tokens": 10**12, "calls_per_minute": 10**9, "cost_per_day": 10**6},
        policy=PolicyRef(digest=canonical_digest(document), document=document),
        resolved=Resolved(tools=tuple(ResolvedTool(name=t["name"], version="1.0.0",
                                                   descriptor_digest=canonical_digest(t)) for t in (FETCH, EMAIL))),
    )
    path = folder / "bench.manifest.json"
    path.write_bytes(seal_manifest(predicate, [("contract:bench.yaml", b"bench")], key))
    return path


def measure(fn: Callable[[str, dict[str, Any], dict[str, Any]], Any], n: int) -> tuple[float, float, float]:
    """p50, p95 and mean in microseconds over n calls cycling through the request mix."""
    samples: list[int] = []
    clock = time.perf_counter_ns
    for i in range(n):
        action, ctx, args = REQUESTS[i % len(REQUESTS)]
        start = clock()
        fn(action, ctx, args)
        samples.append(clock() - start)
    samples.sort()
    return samples[len(samples) // 2] / 1000, samples[int(len(samples) * 0.95)] / 1000, statistics.fmean(samples) / 1000


def watched(rt: Runtime) -> Callable[[str, dict[str, Any], dict[str, Any]], Any]:
    """What a guarded call adds around the decision, minus the audit append and the tool itself:
    lifecycle + revocation list (stat), the unit's breaker, the decision, then monitors and breaker fed."""
    watch, decide, now = rt.watch, rt.authorizer.decide, time.perf_counter_ns

    def one(action: str, ctx: dict[str, Any], args: dict[str, Any]) -> Any:
        start = now()
        if watch.check(wait=True) is not None or watch.allow(action) is not None:
            raise SystemExit("the watch refused a call: the benchmark's manifest must run")
        decision = decide(action, ctx, args)
        if decision.effect == "allow":  # as in the runtime: only calls that run feed the monitors
            watch.done(action, (now() - start) / 1e6, True)
        else:
            watch.release(action)
        return decision

    return one


class _Collector:
    """Stands in for the audit log to capture the records the runtime writes, as it writes them."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def append(self, fields: dict[str, Any], *, retain_args: Any = None) -> None:
        self.rows.append(dict(fields))

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def runtime_rows(rt: Runtime, n: int) -> list[dict[str, Any]]:
    """n decision records exactly as ``Runtime.authorize`` hands them to the log."""
    real, collector = rt.log, _Collector()
    rt.log = collector  # type: ignore[assignment]
    try:
        for i in range(n):
            action, ctx, args = REQUESTS[i % len(REQUESTS)]
            rt.authorize(action, ctx, args)
    finally:
        rt.log = real
    return collector.rows[:n]


def append_rates(folder: Path, rows: list[dict[str, Any]], batch: int, rounds: int = 10) -> tuple[float, float]:
    """Records per second, (hash-chained log, naive baseline), both batched and including their commits.

    The baseline takes the same rows (plus a sequence number) through json.dumps and one INSERT
    each into SQLite with the same WAL settings and commit size. The two run in alternating
    slices of the rows so that a busy machine slows both alike.
    """
    # the runtime hands the log its request context already in canonical form (it had to prove the
    # context recordable before deciding); the naive way gets that context back as the plain dict
    plain = [{k: json.loads(v.text) if isinstance(v, Canonical) else v for k, v in row.items()} for row in rows]
    log = AuditLog.open(folder / "append.db", durability="batched", batch_size=batch)
    conn = sqlite3.connect(str(folder / "naive.db"), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE records (seq INTEGER PRIMARY KEY, body BLOB NOT NULL)")
    ours = naive = 0.0
    seq = pending = 0
    try:
        size = max(1, len(rows) // rounds)
        for first in range(0, len(rows), size):
            part = rows[first:first + size]
            start = time.perf_counter()
            for row in part:
                log.append(row)
            if first + size >= len(rows):
                log.flush()
            ours += time.perf_counter() - start
            start = time.perf_counter()
            for row in plain[first:first + size]:
                seq += 1
                if pending == 0:
                    conn.execute("BEGIN IMMEDIATE")
                body = json.dumps({**row, "seq": seq}, sort_keys=True).encode("utf-8")
                conn.execute("INSERT INTO records (seq, body) VALUES (?, ?)", (seq, body))
                pending += 1
                if pending >= batch:
                    conn.execute("COMMIT")
                    pending = 0
            if first + size >= len(rows) and pending:
                conn.execute("COMMIT")
            naive += time.perf_counter() - start
    finally:
        log.close()
        conn.close()
    return len(rows) / ours, len(rows) / naive


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="calls for the decision path and batched runs")
    parser.add_argument("--durable-n", type=int, default=500, help="calls for the durable runs (one fsync each)")
    opts = parser.parse_args()
    rows: list[tuple[str, int, tuple[float, float, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        key = keys.generate_private_key()
        _, pub = keys.save_key_pair(key, folder, "bench")
        manifest = sealed_manifest(folder, key)
        tools = [FETCH, EMAIL]
        with Runtime.load(manifest, pub, audit=folder / "warm.db", tools=tools, durability="batched") as rt:
            decide = rt.authorizer.decide
            measure(lambda a, c, g: decide(a, c, g), 2000)  # warm the policy's plan cache
            rows.append(("decision path (no audit)", opts.n, measure(lambda a, c, g: decide(a, c, g), opts.n)))
        listing = folder / "revocations.json"
        revocations.write(listing, revocations.Revocations(sequence=1).changed(revoke=["sha256:" + "0" * 64]), key)
        with Runtime.load(manifest, pub, audit=folder / "watched.db", tools=tools, durability="batched",
                          revocations=listing) as rt:
            rows.append(("decision path + watch (no audit)", opts.n, measure(watched(rt), opts.n)))
        with Runtime.load(manifest, pub, audit=folder / "batched.db", tools=tools, durability="batched") as rt:
            rows.append(("authorize + append, batched", opts.n, measure(rt.authorize, opts.n)))
            records = runtime_rows(rt, opts.n)
        ours, naive = append_rates(folder, records, 256)
        with Runtime.load(manifest, pub, audit=folder / "batched-cp.db", tools=tools, durability="batched",
                          checkpoint_key=key) as rt:
            rows.append(("authorize + append, batched + checkpoints", opts.n, measure(rt.authorize, opts.n)))
        with Runtime.load(manifest, pub, audit=folder / "durable.db", tools=tools, durability="durable") as rt:
            rows.append(("authorize + append, durable", opts.durable_n, measure(rt.authorize, opts.durable_n)))
        with Runtime.load(manifest, pub, audit=folder / "durable-cp.db", tools=tools, durability="durable",
                          checkpoint_key=key) as rt:
            rows.append(("authorize + append, durable + checkpoints", opts.durable_n,
                         measure(rt.authorize, opts.durable_n)))
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cpu(s), "
          f"load {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "")
    print(f"{'case':<45} {'calls':>7} {'p50 µs':>9} {'p95 µs':>9} {'mean µs':>9}")
    for name, n, (p50, p95, mean) in rows:
        print(f"{name:<45} {n:>7} {p50:>9.1f} {p95:>9.1f} {mean:>9.1f}")
    print(f"{'audit append, batched (records/s)':<45} {len(records):>7} {ours:>9.0f}")
    print(f"{'naive json.dumps + SQLite INSERT (records/s)':<45} {len(records):>7} {naive:>9.0f}")
    # the bare decision path has the fleet-scale goal (<= 15 µs); with the run-time watch around it
    # (lifecycle, revocation list, breaker, SLO monitors) the watch's own goal is <= 50 µs
    for (name, _, (_, p95, _)), goal in zip(rows[:2], (15, 50)):
        print(f"goal: {name} p95 <= {goal} µs: {'met' if p95 <= goal else 'NOT met'} ({p95:.1f} µs)")
    print(f"goal: audit append >= 15,000 records/s: {'met' if ours >= 15000 else 'NOT met'} ({ours:.0f}/s); "
          f"{'faster' if ours > naive else 'NOT faster'} than the naive way ({ours / naive:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
