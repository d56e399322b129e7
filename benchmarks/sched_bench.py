"""Schedulability benchmark: acceptance curves, analysis time at 1,000 tasks, partitioning 200 × 16.

    python benchmarks/sched_bench.py [--sets 1000] [--svg docs/sched-acceptance.svg] [--cbc-limit 60]

1. Acceptance ratio against utilisation for n = 5, 10, 20 tasks (UUniFast utilisations,
   log-uniform periods 10–1000 ms on a 1 µs grid, implicit deadlines): Liu–Layland,
   hyperbolic bound, exact RM response-time analysis and exact EDF; drawn as an SVG.
2. Analysis time of 1,000-task sets: RTA (verdict, and every exact response time) and QPA
   (constrained deadlines, D uniform in [C + 0.9(T - C), T]).
3. Partitioning 200 tasks onto 16 cores: the ILP alone with HiGHS and with CBC, and the
   full pipeline (heuristics first), each answer verified core by core.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agentos_contracts.model.tasks import Scheduler  # noqa: E402
from agentos_contracts.sched import bounds, core_test, edf, fp, generate, is_schedulable  # noqa: E402
from agentos_contracts.sched.partition import partition  # noqa: E402

TESTS = ("liu-layland", "hyperbolic", "RM exact (RTA)", "EDF exact")
POINTS = sorted({round(0.05 * k, 3) for k in range(1, 15)} | {round(0.7 + 0.01 * k, 3) for k in range(11)}
                | {round(0.8 + 0.025 * k, 3) for k in range(9)})


def acceptance(n: int, u: float, sets: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    wins = dict.fromkeys(TESTS, 0)
    for _ in range(sets):
        ts = generate.random_taskset(n, u, rng)
        tasks = list(ts.tasks)
        wins["liu-layland"] += bounds.liu_layland(tasks)
        wins["hyperbolic"] += bounds.hyperbolic(tasks)
        wins["RM exact (RTA)"] += fp.is_schedulable(tasks, Scheduler.RM)
        wins["EDF exact"] += edf.is_schedulable(tasks)
    return {k: v / sets for k, v in wins.items()}


def curves(sets: int) -> dict[int, dict[float, dict[str, float]]]:
    out: dict[int, dict[float, dict[str, float]]] = {}
    for n in (5, 10, 20):
        out[n] = {}
        for k, u in enumerate(sorted(POINTS)):
            out[n][u] = acceptance(n, u, sets, seed=1000 * n + k)
    return out


STYLE = {"EDF exact": ' stroke-width="5" stroke-opacity="0.6"', "RM exact (RTA)": ' stroke-width="2.5"',
         "hyperbolic": ' stroke-width="2" stroke-dasharray="7,3"', "liu-layland": ' stroke-width="2" stroke-dasharray="2,3"'}
COLOURS = {"liu-layland": "#e15759", "hyperbolic": "#f28e2b", "RM exact (RTA)": "#4e79a7", "EDF exact": "#59a14f"}


def svg(data: dict[int, dict[float, dict[str, float]]], sets: int) -> str:
    pw, ph, left, top, gap = 300, 220, 50, 60, 40
    width = left + 3 * (pw + gap) + 10
    height = top + ph + 90
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'font-family="sans-serif" font-size="12">', f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="22" font-size="15" font-weight="bold">Acceptance ratio vs utilisation '
           f'(UUniFast, log-uniform periods 10–1000 ms, implicit deadlines, {sets} sets per point)</text>']
    for p, n in enumerate(sorted(data)):
        x0 = left + p * (pw + gap)
        X = lambda u: x0 + pw * u  # noqa: E731
        Y = lambda a: top + ph * (1 - a)  # noqa: E731
        out.append(f'<text x="{x0 + pw / 2}" y="{top - 10}" text-anchor="middle" font-weight="bold">n = {n}</text>')
        out.append(f'<rect x="{x0}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>')
        for k in range(0, 11, 2):
            v = k / 10
            out.append(f'<line x1="{X(v):.1f}" y1="{top}" x2="{X(v):.1f}" y2="{top + ph}" stroke="#eee"/>')
            out.append(f'<text x="{X(v):.1f}" y="{top + ph + 15}" text-anchor="middle">{v:g}</text>')
            out.append(f'<line x1="{x0}" y1="{Y(v):.1f}" x2="{x0 + pw}" y2="{Y(v):.1f}" stroke="#eee"/>')
            if p == 0:
                out.append(f'<text x="{x0 - 6}" y="{Y(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
        out.append(f'<text x="{x0 + pw / 2}" y="{top + ph + 32}" text-anchor="middle">utilisation U</text>')
        for test in ("EDF exact", "RM exact (RTA)", "hyperbolic", "liu-layland"):  # thick first, dashed on top
            pts = " ".join(f"{X(u):.1f},{Y(data[n][u][test]):.1f}" for u in sorted(data[n]))
            out.append(f'<polyline points="{pts}" fill="none" stroke="{COLOURS[test]}"{STYLE[test]}/>')
    lx = left
    for test in TESTS:
        out.append(f'<line x1="{lx}" y1="{height - 18}" x2="{lx + 24}" y2="{height - 18}" stroke="{COLOURS[test]}"'
                   f'{STYLE[test]}/><text x="{lx + 30}" y="{height - 14}">{test}</text>')
        lx += 190
    out.append("</svg>")
    return "\n".join(out) + "\n"


def timed(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def analysis_times(count: int) -> None:
    print("\n## analysis time, 1,000-task sets (best of 3 per set; median over sets)")
    print(f"{'U':>6} {'RTA verdict':>12} {'RTA all R':>10} {'QPA constr.':>12}  verdicts (RM, EDF)")
    rng = random.Random(7)
    for u in (0.7, 0.8, 0.9, 0.95):
        v, full, q, verdicts = [], [], [], []
        for _ in range(count):
            ts = generate.random_taskset(1000, u, rng)
            cs = generate.random_taskset(1000, u, rng, deadlines="constrained", deadline_min=0.9)
            v.append(timed(lambda: fp.analyse(ts.tasks, Scheduler.RM, stop_at_miss=True)))
            full.append(timed(lambda: fp.analyse(ts.tasks, Scheduler.RM), repeat=1))
            q.append(timed(lambda: edf.analyse(cs.tasks)))
            verdicts.append((fp.is_schedulable(ts.tasks, Scheduler.RM), edf.is_schedulable(cs.tasks)))
        print(f"{u:>6} {statistics.median(v):>11.3f}s {statistics.median(full):>9.3f}s {statistics.median(q):>11.3f}s  "
              f"{sum(a for a, _ in verdicts)}/{count}, {sum(b for _, b in verdicts)}/{count}")


def verified(ts, assignment) -> bool:  # type: ignore[no-untyped-def]
    cores = [[t for t, a in zip(ts.tasks, assignment) if a == c] for c in range(ts.cores)]
    return all(is_schedulable(members, ts.scheduler) for members in cores if members)


def partitioning(cbc_limit: float) -> None:
    print("\n## partitioning 200 tasks onto 16 cores (UUniFast-discard, log-uniform periods)")
    print(f"{'scheduler':>9} {'load':>7} {'path':>22} {'verdict':>13} {'seconds':>8} {'rounds':>6}  verified")
    rows = [(Scheduler.EDF, 0.9875, False, "highs", 10.0), (Scheduler.EDF, 0.9875, False, "cbc", cbc_limit),
            (Scheduler.EDF, 0.9875, True, "highs", 10.0),
            (Scheduler.RM, 0.95, False, "highs", 10.0), (Scheduler.RM, 0.95, False, "cbc", cbc_limit),
            (Scheduler.RM, 0.95, True, "highs", 10.0), (Scheduler.RM, 0.9875, True, "highs", 10.0)]
    for scheduler, load, heuristics, solver, limit in rows:
        ts = generate.random_taskset(200, 16 * load, random.Random(3), scheduler=scheduler, cores=16)
        start = time.perf_counter()
        res = partition(ts, core_test(scheduler, verdict_only=True), verdict=lambda m: is_schedulable(m, scheduler), solver=solver,
                        heuristics=heuristics, time_limit_s=limit)
        took = time.perf_counter() - start
        path = ("heuristics, then " if heuristics else "ILP only, ") + solver
        check = "-" if res.assignment is None else ("yes" if verified(ts, res.assignment) else "NO")
        print(f"{scheduler.value:>9} {load:>7.2%} {path:>22} {res.verdict.value:>13} {took:>8.2f} {res.rounds:>6}  "
              f"{check}  {res.method}{(': ' + res.reason) if res.reason else ''}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", type=int, default=1000, help="random sets per utilisation point")
    ap.add_argument("--svg", default=str(ROOT / "docs" / "sched-acceptance.svg"), help="where to draw the curves")
    ap.add_argument("--timing-sets", type=int, default=3, help="1,000-task sets per utilisation for timing")
    ap.add_argument("--cbc-limit", type=float, default=60.0, help="CBC time limit, seconds")
    args = ap.parse_args()
    start = time.perf_counter()
    data = curves(args.sets)
    print(f"## acceptance ratio ({args.sets} sets per point; {time.perf_counter() - start:.0f} s)")
    for n in sorted(data):
        print(f"\nn = {n}\n{'U':>6} " + " ".join(f"{t:>15}" for t in TESTS))
        for u in sorted(data[n]):
            print(f"{u:>6} " + " ".join(f"{data[n][u][t]:>15.3f}" for t in TESTS))
    Path(args.svg).write_text(svg(data, args.sets), encoding="utf-8")
    print(f"\ncurves drawn in {args.svg}")
    analysis_times(args.timing_sets)
    partitioning(args.cbc_limit)


if __name__ == "__main__":
    main()
