"""Seal + verify per manifest (issue 5 goal: <= 5 ms), for a typical and a large manifest.

Run: ``python benchmarks/seal_bench.py [--n 500]``. Prints median and p95 of seal,
verify and the two together, per manifest size, and whether the goal holds (p95 of
seal + verify). Verify includes the JSON Schema check and the canonical-form check,
exactly as ``agentos verify`` and the runtime run it.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from agentos_contracts.seal import keys
from agentos_contracts.seal.manifest import seal_manifest, verify_manifest

GOAL_MS = 5.0
DIGEST = "sha256:" + "ab" * 32


def predicate(models: int, tools: int, rules: int) -> dict[str, Any]:
    """A contract's predicate: sizes vary, the shape is what admission writes."""
    return {
        "formatVersion": 1, "semanticsVersion": "agentos/v0.2", "agentosVersion": "0.1.0",
        "kind": "AgentContract", "name": "bench-agent", "tenant": "acme", "role": "analyst",
        "latencyClass": "SRT", "bindingMode": "flexible",
        "requested": {"mode": "flexible", "must": {"placement": ["edge", "on-prem"]}, "prefer": {"model": [f"m{i}" for i in range(models)]}},
        "resolved": {
            "models": [{"name": f"m{i}", "version": f"{i}.2.0", "ref": f"m{i}@>={i}.0.0,<{i + 1}.0.0", "placement": "on-prem", "node": f"node-{i}"} for i in range(models)],
            "tools": [{"name": f"mcp.tool_{i}", "version": "1.0.0", "descriptorDigest": DIGEST, "placement": "cloud"} for i in range(tools)],
            "embedStore": {"name": "vec-main", "placement": "on-prem"},
            "placement": [{"node": "node-0", "core": None}],
        },
        "slo": {"onset_ms": 300, "turn_ms": 2500, "jitter_p95_pct": 20},
        "schedulability": None,
        "policy": {"digest": DIGEST, "file": "p.compiled.json", "document": {
            "formatVersion": 1,
            "rules": [{"id": f"r{i}", "effect": "deny" if i % 3 else "allow", "action": f"mcp.tool_{i % max(tools, 1)}",
                       "when": {"op": "<", "args": [{"attr": "context.cost"}, i * 1.5]}} for i in range(rules)],
        }},
        "capabilities": [f"mcp.tool_{i}" for i in range(tools)],
        "consentFor": ["mcp.tool_0"],
        "budgets": {"tokens": 2_000_000, "tokens_per_minute": 40_000, "calls": 10_000, "cost_per_day": 25.5},
        "fallbacks": [{"when": "cloud_unavailable", "substitute": {"model": "m0", "redact": True}}],
        "canary": {"percent": 10, "rollbackOn": {"latency_p95_ms": 1200, "error_rate_pct": 2.5}, "previous": {"m0": "m0@0.1.0"}},
        "provenance": {"/budgets/tokens": "tenant", "/slo/turn_ms": "contract", "/resolved/placement": "platform"},
        "workflow": None,
        "sequence": 42,
    }


def _ms(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def run(label: str, pred: dict[str, Any], n: int, key: keys.PrivateKey) -> bool:
    subjects = [("contract:c.yaml", b"contract"), ("policy:p.json", DIGEST), ("platform:p.yaml", b"platform")]
    public = [key.public_key()]
    sealed = seal_manifest(pred, subjects, key)
    assert verify_manifest(sealed, public).ok
    seal_t, verify_t, both_t = [], [], []
    for _ in range(n):
        t0 = time.perf_counter()
        data = seal_manifest(pred, subjects, key)
        t1 = time.perf_counter()
        result = verify_manifest(data, public)
        t2 = time.perf_counter()
        assert result.ok
        seal_t.append(t1 - t0)
        verify_t.append(t2 - t1)
        both_t.append(t2 - t0)
    ok = _ms(both_t, 0.95) <= GOAL_MS
    print(f"{label}: {len(sealed)} bytes, n={n}")
    for name, xs in (("seal", seal_t), ("verify", verify_t), ("seal+verify", both_t)):
        print(f"  {name:<12} median {statistics.median(xs) * 1000:6.3f} ms   p95 {_ms(xs, 0.95):6.3f} ms")
    print(f"  goal p95(seal+verify) <= {GOAL_MS} ms: {'met' if ok else 'NOT met'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500)
    args = parser.parse_args()
    key = keys.generate_private_key()
    results = [
        run("typical (2 models, 4 tools, 20 policy rules)", predicate(2, 4, 20), args.n, key),
        run("large (8 models, 40 tools, 200 policy rules)", predicate(8, 40, 200), args.n, key),
    ]
    raise SystemExit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
