"""Admission at fleet scale: batches of 500 and 2,000 contracts on 200 nodes, and one more against 2,000 held.

    python benchmarks/admit_scale_bench.py [--nodes 200] [--time-limit 15] [--new 40] [--seed 7] [--hrt-load 0.5]

Contracts and platform come from ``admit_bench.py`` (same generators, same seed → same bytes).

1. Batch: ``admit`` on 500, then 2,000 contracts (whole pipeline, seal included); prints the
   verdict counts (every contract must end admitted, rejected or unknown with its reason),
   the time, and the growth from 500 to 2,000 against n·log n (4 × log 2000 / log 500 ≈ 4.9).
2. Incremental: the manifests the 2,000-contract batch sealed become reservations. Baseline:
   what a webhook does today per `kubectl apply`, the whole ``admit`` of one new contract with
   the 2,000 manifests as ``--existing`` (each re-read and re-verified). Ours: an ``Admission``
   session that verified them once, deciding each of ``--new`` new contracts (not committed, so
   every one is decided against the same 2,000); p50 / p95 per contract, in-process.

Times are wall clock; CPU time (this process) is printed beside them, since on a shared machine
the wall figures carry other jobs' load.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import admit_bench  # noqa: E402

from agentos_contracts.admit import AdmitOptions, admit  # noqa: E402
from agentos_contracts.incremental import Admission  # noqa: E402
from agentos_contracts.seal import keys  # noqa: E402

BATCH_GOAL_S = 30.0
ONE_GOAL_MS = 200.0


def write_inputs(root: Path, contracts: int, nodes: int, seed: int, hrt_load: float, start: int = 0) -> Path:
    rng = random.Random(seed)
    (root / "platform.yaml").write_text(yaml.safe_dump(admit_bench.platform(rng, nodes), sort_keys=False))
    folder = root / f"contracts-{start}-{contracts}"
    folder.mkdir()
    for i in range(start + contracts):
        doc = admit_bench.contract(rng, i, hrt_load)
        if i >= start:
            (folder / f"{doc['name']}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return folder


def batch(root: Path, n: int, args: argparse.Namespace, key: keys.PrivateKey) -> tuple[float, object]:
    folder = write_inputs(root, n, args.nodes, args.seed, args.hrt_load)
    spent = admit_bench._timed()
    start, cpu = time.perf_counter(), time.process_time()
    result = admit([str(folder)], str(root / "platform.yaml"),
                   AdmitOptions(key=key, time_limit=args.time_limit, issued_at="2026-12-03T00:00:00Z", sequence=1))
    took, cpu = time.perf_counter() - start, time.process_time() - cpu
    verdicts = Counter(r.verdict for r in result.rejected)
    reasons = Counter(x.code for r in result.rejected for x in r.reasons)
    every = len(result.admitted) + len(result.rejected) == n
    print(f"batch {n:>5} contracts, {args.nodes} nodes: {took:6.2f} s wall, {cpu:6.2f} s CPU  admitted {len(result.admitted)}, "
          f"rejected {verdicts['rejected']}, unknown {verdicts['unknown']}  (solver {result.solver.get('status')}, "
          f"{result.solver.get('rounds')} rounds)  every contract has a verdict: {'yes' if every else 'NO'}  "
          f"reasons {dict(sorted(reasons.items()))}", flush=True)
    print("  of which: " + ", ".join(f"{k} {v:.2f} s" for k, v in spent.items())
          + f", layering/policies/manifests/seal {took - sum(spent.values()):.2f} s", flush=True)
    return took, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=200)
    ap.add_argument("--time-limit", type=float, default=15.0, help="admission's solver time limit, seconds")
    ap.add_argument("--new", type=int, default=40, help="new contracts decided one at a time")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--hrt-load", type=float, default=admit_bench.HRT_LOAD)
    ap.add_argument("--baseline-runs", type=int, default=2)
    args = ap.parse_args()
    key = keys.generate_private_key()
    with tempfile.TemporaryDirectory() as tmp:
        small_root, big_root = Path(tmp) / "500", Path(tmp) / "2000"
        for folder in (small_root, big_root, big_root / "new", big_root / "held"):
            folder.mkdir()
        small, _ = batch(small_root, 500, args, key)
        big, result = batch(big_root, 2000, args, key)
        bound = 4 * math.log(2000) / math.log(500)
        print(f"growth 500 → 2,000: {big / small:.2f}x (n·log n allows {bound:.2f}x): "
              f"{'met' if big / small <= bound else 'NOT met'}; 2,000 in ≤ {BATCH_GOAL_S:.0f} s: "
              f"{'met' if big <= BATCH_GOAL_S else 'NOT met'}")
        held = big_root / "held"
        for a in result.admitted:  # type: ignore[attr-defined]
            (held / f"{a.name}.manifest.json").write_bytes(a.envelope)
        # new contracts (names from agent-2000 on) from another seed; decided on the platform of the batch
        new = write_inputs(big_root / "new", args.new, args.nodes, args.seed + 1, args.hrt_load, start=2000)
        platform = str(big_root / "platform.yaml")
        files = sorted(new.glob("*.yaml"))
        options = AdmitOptions(key=key, existing=(str(held),), trusted_keys=(key.public_key(),),
                               issued_at="2026-12-03T00:00:00Z", sequence=2)
        base = []
        for f in files[:args.baseline_runs]:
            start = time.perf_counter()
            admit([str(f)], platform, options)
            base.append(time.perf_counter() - start)
        start = time.perf_counter()
        session = Admission(platform, options)
        opened = time.perf_counter() - start
        times, cpu_times, verdicts = [], [], Counter()
        for f in files:
            start, cpu = time.perf_counter(), time.process_time()
            one = session.admit([str(f)])
            times.append((time.perf_counter() - start) * 1000)
            cpu_times.append((time.process_time() - cpu) * 1000)
            verdicts.update(["admitted"] if one.admitted else [r.verdict for r in one.rejected] or ["error"])
        times.sort()
        cpu_times.sort()
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        cpu_p95 = cpu_times[min(len(cpu_times) - 1, int(0.95 * len(cpu_times)))]
        print(f"incremental: one new contract against {len(result.admitted)} admitted on {args.nodes} nodes "  # type: ignore[attr-defined]
              f"({len(files)} contracts): p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms "
              f"(goal ≤ {ONE_GOAL_MS:.0f} ms p95: {'met' if p95 <= ONE_GOAL_MS else 'NOT met'}); CPU p50 "
              f"{statistics.median(cpu_times):.1f} ms, p95 {cpu_p95:.1f} ms; verdicts {dict(verdicts)}")
        print(f"  baseline, whole `admit` with the manifests as --existing: {statistics.median(base):.2f} s per "
              f"contract (median of {len(base)}); opening the session (verifying them once): {opened:.2f} s")


if __name__ == "__main__":
    main()
