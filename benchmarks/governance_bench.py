"""What governance costs: validation with the platform's layers vs without, and the run-time result check.

Prints, in one run:
- `agentos validate` work (in process) on N generated contracts without the platform (the
  baseline: no layering, no governance checks) and with it (monotone layering, widening,
  high-risk and namespace checks per contract), per contract;
- `check_tool_result` per MCP result against a sealed outputSchema, next to a bare
  precompiled jsonschema validator on the same value (the baseline: no shape rules, no pin).

Usage: python benchmarks/governance_bench.py [--contracts 500] [--calls 20000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import jsonschema
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import admit_bench  # noqa: E402  (the same generated fleet the admission benchmark uses)

from agentos_contracts.model.manifest import BindingManifest, Resolved, ResolvedTool  # noqa: E402
from agentos_contracts.runtime.manifest import LoadedManifest  # noqa: E402
from agentos_contracts.runtime.results import check_tool_result  # noqa: E402
from agentos_contracts.seal.canonical import canonical_digest  # noqa: E402
from agentos_contracts.validate import validate_paths  # noqa: E402

TOOL = {"name": "permits.lookup", "inputSchema": {"type": "object"},
        "outputSchema": {"type": "object", "properties": {"path": {"type": "string"}, "fee": {"type": "number"},
                                                          "tags": {"type": "array", "items": {"type": "string"}}},
                         "required": ["path", "fee"]}}


def _median_of(fn: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contracts", type=int, default=500)
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "platform.yaml").write_text(yaml.safe_dump(admit_bench.platform(rng, 50), sort_keys=False))
        (root / "c").mkdir()
        for i in range(args.contracts):
            d = admit_bench.contract(rng, i)
            (root / "c" / f"{d['name']}.yaml").write_text(yaml.safe_dump(d, sort_keys=False))
        platform_only = _median_of(lambda: validate_paths([str(root / "platform.yaml")]), args.runs)
        alone = _median_of(lambda: validate_paths([str(root / "c")]), args.runs)
        both = _median_of(lambda: validate_paths([str(root / "c"), str(root / "platform.yaml")]), args.runs)
    extra = both - alone - platform_only
    print(f"validate {args.contracts} contracts: {alone:.2f} s without the platform (baseline), {both:.2f} s with it "
          f"(platform alone {platform_only:.2f} s); layering + governance {extra * 1000 / args.contracts:.2f} ms "
          f"per contract")

    m = BindingManifest(agentos_version="bench", kind="AgentContract", name="bench", resolved=Resolved(tools=(
        ResolvedTool(name=TOOL["name"], version="1.0.0", descriptor_digest=canonical_digest(TOOL), descriptor=TOOL),)))
    loaded = LoadedManifest(path="bench", digest="sha256:bench", manifest=m, signed_by=(), policy=None,
                            policy_document=None)
    result = {"content": [{"type": "text", "text": "{}"}],
              "structuredContent": {"path": "/permits/1", "fee": 12.5, "tags": ["deck", "wood"]}}
    bare = jsonschema.Draft202012Validator(TOOL["outputSchema"])
    assert check_tool_result(loaded, TOOL["name"], result) is None and bare.is_valid(result["structuredContent"])
    n = args.calls
    ours = _median_of(lambda: [check_tool_result(loaded, TOOL["name"], result) for _ in range(n)], args.runs) / n
    base = _median_of(lambda: [bare.is_valid(result["structuredContent"]) for _ in range(n)], args.runs) / n
    print(f"tool result check: {ours * 1e6:.1f} µs per result (check_tool_result: shape, pin, outputSchema), "
          f"{base * 1e6:.1f} µs bare precompiled jsonschema (baseline)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
