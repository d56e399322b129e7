"""How fast the size bounds answer: inputs that once hung, next to an ordinary input.

    python benchmarks/fault_bench.py [--runs 5]

Whole-process wall time (``subprocess`` + ``time.perf_counter``), median of ``--runs``:
- ``agentos compile`` of ``ALLOW a IF`` + 50,000 nested parentheses (refused, AC317), next
  to the baseline: compiling the one-rule policy ``ALLOW a IF x == 1``;
- ``agentos sched`` of a TaskSet with ``cores: 1000000000`` (refused, AC408), and of 400
  tasks with unrelated prime periods (refused, AC410), next to the baseline: the bundled
  three-task ``contracts/tasksets/robot-safety.yaml``.
Also, in process: parsing the 50,000-bracket policy (the nesting limit is applied to the
raw text before lexing).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AGENTOS = [sys.executable, "-m", "agentos_contracts"]


def wall(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(AGENTOS + args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "deep.policy").write_text("ALLOW a IF " + "(" * 50_000 + "x == 1" + ")" * 50_000 + "\n")
        (d / "plain.policy").write_text("ALLOW a IF x == 1\n")
        (d / "cores.yaml").write_text("apiVersion: agentos/v0.2\nkind: TaskSet\nname: big\nscheduler: RM\n"
                                      "cores: 1000000000\ntasks:\n  - {name: a, period_ms: 10, wcet_ms: 2}\n")
        primes = [p for p in range(1009, 40_000) if all(p % q for q in range(2, int(p ** 0.5) + 1))][:400]
        (d / "periods.yaml").write_text("apiVersion: agentos/v0.2\nkind: TaskSet\nname: p\nscheduler: RM\n"
                                        "cores: 1\ntasks:\n" + "".join(f"  - {{name: t{i}, period_ms: {p}, "
                                                                       f"wcet_ms: 0.01}}\n"
                                                                       for i, p in enumerate(primes)))
        rows = [
            ("compile, 50,000 nested parentheses (AC317)", wall(["compile", str(d / "deep.policy"), "-o",
                                                                 str(d / "x.json")], runs)),
            ("compile, one plain rule (baseline)", wall(["compile", str(d / "plain.policy"), "-o",
                                                         str(d / "y.json")], runs)),
            ("sched, cores: 1000000000 (AC408)", wall(["sched", str(d / "cores.yaml")], runs)),
            ("sched, 400 unrelated prime periods (AC410)", wall(["sched", str(d / "periods.yaml")], runs)),
            ("sched, robot-safety.yaml, 3 tasks (baseline)",
             wall(["sched", str(ROOT / "contracts" / "tasksets" / "robot-safety.yaml")], runs)),
        ]
        from agentos_contracts.policy.parser import parse_policy

        parse_policy("ALLOW a\n", "warm.policy")
        text = (d / "deep.policy").read_text()
        start = time.perf_counter()
        parse_policy(text, "deep.policy")
        rows.append(("parse in process, 50,000 nested parentheses", time.perf_counter() - start))
    print(f"{'measure':52} {'seconds':>9}")
    for name, seconds in rows:
        print(f"{name:52} {seconds:9.3f}")


if __name__ == "__main__":
    main()
