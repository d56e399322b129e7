"""The collector's batch path in this process: CPU time per record, for before/after comparisons.

    python benchmarks/audit_collect_cpu.py prepare BODIES [--logs 3] [--records 10000] [--batch 1000]
    python benchmarks/audit_collect_cpu.py run BODIES [--src DIR] [--limit N]

``prepare`` writes LOGS audit logs with the runtime's own ``AuditLog`` and saves their events,
encoded as the shipper sends them (batched-mode bodies, the logs taken in turn), to BODIES.
``run`` takes those bodies into a fresh store in this process (parse, then
``Collector.accept``: hash check, chain links, leaves, fsynced commit, checkpoints every 10,000
records) and prints the CPU time (user + system) per record. ``--src`` runs another checkout's
``agentos_contracts`` (the code before a change) on the same bodies, so runs of the two can be
alternated within minutes on a machine whose speed drifts. ``--limit 0`` opens and closes a
store without taking a batch: under an instruction counter, a run minus that run is the
per-batch work alone.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def prepare(out: Path, logs: int, records: int, batch: int) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from audit_ship_bench import batches, interleaved, write_logs

    with tempfile.TemporaryDirectory() as tmp:
        bodies = interleaved(batches(write_logs(Path(tmp), logs, records), batch))
    out.write_bytes(pickle.dumps(bodies))
    print(f"{len(bodies)} bodies, {logs * records} records -> {out}")


def run(bodies_file: Path, src: Path, limit: int | None) -> None:
    sys.path.insert(0, str(src))
    from agentos_contracts.fleet.collect import Collector, cycle_collection_paused
    from agentos_contracts.fleet.events import read_body
    from agentos_contracts.seal import keys

    bodies: list[bytes] = pickle.loads(bodies_file.read_bytes())
    bodies = bodies if limit is None else bodies[:limit]
    key = keys.generate_private_key()
    with tempfile.TemporaryDirectory() as tmp:
        with Collector.open(Path(tmp) / "store", key, every=10000) as collector:
            start = os.times()
            for body in bodies:
                with cycle_collection_paused():
                    collector.accept(read_body(body))
            end = os.times()
            total = collector.size
    user, system = end.user - start.user, end.system - start.system
    cpu = user + system
    import agentos_contracts

    where = Path(agentos_contracts.__file__).parent
    print(f"{where}: {total} records, {cpu:.3f} CPU-s, {1e6 * cpu / max(total, 1):.1f} us/record "
          f"(user {1e6 * user / max(total, 1):.1f}, system {1e6 * system / max(total, 1):.1f})")


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("bodies", type=Path)
    p.add_argument("--logs", type=int, default=3)
    p.add_argument("--records", type=int, default=10000)
    p.add_argument("--batch", type=int, default=1000)
    r = sub.add_parser("run")
    r.add_argument("bodies", type=Path)
    r.add_argument("--src", type=Path, default=ROOT)
    r.add_argument("--limit", type=int, default=None, help="take only the first N bodies")
    args = ap.parse_args()
    if args.command == "prepare":
        prepare(args.bodies, args.logs, args.records, args.batch)
    else:
        run(args.bodies, args.src, args.limit)


if __name__ == "__main__":
    main()
