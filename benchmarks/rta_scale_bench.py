"""Response-time analysis at fleet scale: `agentos sched` on 1,000 and 10,000 tasks against textbook loops.

    python benchmarks/rta_scale_bench.py [--runs 3] [--textbook-10k]

Task sets (written to a temporary folder, the same bytes on every run): UUniFast at U = 0.85,
implicit deadlines, RM, one core; periods either log-uniform 10–1000 ms on a 1 µs grid
(almost every period distinct) or drawn from the divisors of 120 ms (15 distinct periods).

Baselines, over the same file (parsed with PyYAML's C loader, ms → integer ns exactly):
- textbook: the integer RTA loop R = C + Σ_hp ⌈R/T_j⌉·C_j per task, from R = C, stopping at
  the fixed point or past the deadline;
- by period: the same loop with the higher-priority work summed per distinct period.
Both give only job 0's response time, which is the worst one for these sets (D = T,
schedulable); the script checks that every response time equals ours.

Figures: in-process analysis (best of ``--runs``), and the whole command
`agentos sched FILE --format json` (median of ``--runs`` processes, start-up included).
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agentos_contracts.model.tasks import Scheduler  # noqa: E402
from agentos_contracts.sched import fp, generate  # noqa: E402

Triple = tuple[str, int, int]  # name, period ns, wcet ns


def write_set(path: Path, n: int, named: bool, seed: int = 1) -> None:
    rng = random.Random(seed)
    periods = (lambda k, r: generate.choice_periods(k, r, "harmonic-ish")) if named else None
    ts = generate.random_taskset(n, 0.85, rng, periods=periods)
    lines = ["apiVersion: agentos/v0.2", "kind: TaskSet", f"name: bench-{n}", "scheduler: RM", "cores: 1", "tasks:"]
    for t in ts.tasks:
        lines.append(f"  - {{name: {t.name}, period_ms: {_ms(t.period_ns)}, wcet_ms: {_ms(t.wcet_ns)}}}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _ms(ns: int) -> str:
    q, r = divmod(ns, 10**6)
    return f"{q}.{r:06d}".rstrip("0").rstrip(".")


def load(path: Path) -> list[Triple]:
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    return [(t["name"], int(Fraction(str(t["period_ms"])) * 10**6), int(Fraction(str(t["wcet_ms"])) * 10**6))
            for t in doc["tasks"]]


def textbook(tasks: list[Triple], per_period: bool = False) -> dict[str, int]:
    """The integer RTA loop; ``per_period`` sums the higher-priority work per distinct period first."""
    order = sorted(range(len(tasks)), key=lambda i: (tasks[i][1], i))
    out: dict[str, int] = {}
    work: dict[int, int] = {}
    hp: list[tuple[int, int]] = []
    for i in order:
        name, t, c = tasks[i]
        terms = list(work.items()) if per_period else hp
        r = c
        while True:
            nxt = c + sum(-(-r // tj) * cj for tj, cj in terms)
            if nxt == r or nxt > t:
                break
            r = nxt
        out[name] = nxt
        if per_period:
            work[t] = work.get(t, 0) + c
        else:
            hp.append((t, c))
    return out


def best(fn, runs: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    out, took = None, float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        took = min(took, time.perf_counter() - start)
    return took, out


def whole_command(path: Path, runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system) of the child: on a shared machine
    the wall figure carries other jobs' load, the CPU figure does not."""
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "agentos_contracts", "sched", str(path), "--format", "json"],
                              capture_output=True, cwd=ROOT, check=False)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        assert done.returncode == 0, done.stderr.decode()[-2000:]
    return statistics.median(times), statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--textbook-10k", action="store_true", help="also run the textbook loop at 10,000 distinct periods (minutes)")
    args = ap.parse_args()
    from agentos_contracts.cli.sched import collect

    print(f"{'tasks':>6} {'periods':>13} {'textbook':>9} {'by period':>10} {'ours':>8} {'ours/textbook':>14} "
          f"{'whole command wall / CPU':>25}  same R")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1000, 10000):
            for named in (False, True):
                path = Path(tmp) / f"{'named' if named else 'log'}{n}.yaml"
                write_set(path, n, named)
                tasks = load(path)
                ts = collect([str(path)], None, 1).sets[0][0]
                ours_s, res = best(lambda: fp.analyse(ts.tasks, Scheduler.RM), args.runs)
                mine = {r.name: r.response_time_ns for r in res.tasks}  # type: ignore[attr-defined]
                run_textbook = n <= 1000 or named or args.textbook_10k
                tb_s, tb = best(lambda: textbook(tasks), 1 if n > 1000 else args.runs) if run_textbook else (None, None)
                bp_s, bp = best(lambda: textbook(tasks, per_period=True), 1 if n > 1000 else args.runs) if (n <= 1000 or named) \
                    else (None, None)
                same = all(ref is None or ref == mine for ref in (tb, bp))
                whole = whole_command(path, args.runs)
                fmt = lambda s: "-" if s is None else f"{s:.3f}s"  # noqa: E731
                ratio = "-" if tb_s is None else f"{ours_s / tb_s:.3f}x"
                print(f"{n:>6} {'120 divisors' if named else 'log-uniform':>13} {fmt(tb_s):>9} {fmt(bp_s):>10} "
                      f"{ours_s:>7.3f}s {ratio:>14} {whole[0]:>14.2f}s / {whole[1]:.2f}s  {'yes' if same else 'NO'}", flush=True)


if __name__ == "__main__":
    main()
