"""Fleet audit benchmark: records/s shipped and collected over loopback HTTP, and proofs/s.

    python benchmarks/audit_ship_bench.py [--logs 3] [--records 20000] [--batch 1000] [--profile]

Writes LOGS audit logs of RECORDS records each (the runtime's own AuditLog, batched), starts
`agentos audit collect --listen` in its own process, and measures:

- collected: batches of CloudEvents POSTed by this process (already encoded, so only the
  collector is timed: parse, hash check, chain links, Merkle leaves, SQLite commit with
  synchronous=FULL, a signed checkpoint every 10,000 records) — goal ≥ 20,000 records/s;
- baseline for the same run: the same batches POSTed to a Starlette/uvicorn endpoint that only
  reads the body (what the HTTP stack alone allows on this machine);
- shipped end to end: one `agentos audit ship` process per log, in parallel, into a fresh
  collector (read the log, encode the events, send, wait for the commit, save the cursor);
- proofs: `audit prove` inclusion proofs (library call) against the newest checkpoint, and one
  `audit check` of the whole store (every leaf re-derived, every checkpoint verified).

``--profile`` also takes the same batches in this process (parse, then ``Collector.accept``),
prints its CPU time per record and the functions that used the most of it (cProfile).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import json
import os
import platform
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agentos_contracts.fleet import proofs  # noqa: E402
from agentos_contracts.fleet.ship import Cursor, next_events  # noqa: E402
from agentos_contracts.fleet.events import BATCH, dump_batch  # noqa: E402
from agentos_contracts.runtime.audit import AuditLog  # noqa: E402
from agentos_contracts.seal import keys  # noqa: E402

SINK = """
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
async def sink(request):
    body = await request.body()
    return JSONResponse({"bytes": len(body)})
uvicorn.run(Starlette(routes=[Route("/", sink, methods=["POST"])]), host="127.0.0.1", port=int(sys.argv[1]),
            log_level="warning", access_log=False)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("server exited early")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not start")


def write_logs(folder: Path, count: int, records: int) -> list[Path]:
    logs = []
    for n in range(count):
        path = folder / f"agent-{n}.db"
        with AuditLog.open(path, durability="batched", batch_size=1000) as log:
            log.append({"type": "agent.started", "agent": f"agent-{n}", "tenant": "city", "trace_id": "t" * 32})
            for i in range(records - 1):
                log.append({"type": "tool.allowed", "agent": f"agent-{n}", "tenant": "city", "trace_id": "t" * 32,
                            "action": "web.fetch", "decision": "allow", "rules": ["fetch-city"],
                            "args_digest": f"sha256:{i:064x}"})
        logs.append(path)
    return logs


def batches(logs: list[Path], size: int) -> list[list[bytes]]:
    """Every log's events, encoded once, in per-log order: one list of batch bodies per log."""
    per_log = []
    for log in logs:
        cursor = Cursor(log=sqlite3.connect(log).execute("SELECT value FROM meta WHERE key='log'").fetchone()[0])
        out = []
        while True:
            part = next_events(log, cursor, size)
            if not part.events:
                break
            out.append(dump_batch(part.events))
            cursor = part.after
        per_log.append(out)
    return per_log


def interleaved(per_log: list[list[bytes]]) -> list[bytes]:
    """The logs' batches taken in turn, as one connection would carry them."""
    mixed = []
    for i in range(max(len(p) for p in per_log)):
        mixed += [p[i] for p in per_log if i < len(p)]
    return mixed


def post_concurrently(port: int, per_log: list[list[bytes]]) -> float:
    """One sender (thread, own connection) per log, all at once: how a fleet's runtimes ship."""
    with concurrent.futures.ThreadPoolExecutor(len(per_log)) as pool:
        start = time.perf_counter()
        list(pool.map(lambda bodies: post_all(port, bodies), per_log))
        return time.perf_counter() - start


def post_all(port: int, bodies: list[bytes]) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    start = time.perf_counter()
    for body in bodies:
        conn.request("POST", "/", body=body, headers={"Content-Type": BATCH})
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def start_collector(store: Path, key: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "agentos_contracts", "audit", "collect", "--listen",
                             f"127.0.0.1:{port}", "--store", str(store), "--key", str(key), "--checkpoint-every",
                             "10000", "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    wait_port(port, proc)
    return proc


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far, from /proc; None where there is no /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(proc: subprocess.Popen[bytes]) -> dict[str, object]:
    proc.terminate()
    out, _ = proc.communicate(timeout=300)
    return json.loads(out) if out.strip() else {}


def in_process(folder: Path, key_file: Path, bodies: list[bytes], total: int) -> None:
    """The collector's batch path without HTTP, timed (CPU) and then profiled, on a fresh store each."""
    import cProfile
    import pstats

    from agentos_contracts.fleet.collect import Collector, cycle_collection_paused
    from agentos_contracts.fleet.events import read_body

    key = keys.read_private_key(key_file)
    for name in ("timed", "profiled"):
        profile = cProfile.Profile(time.process_time) if name == "profiled" else None
        with Collector.open(folder / f"store-{name}", key, every=10000) as collector:
            start = time.process_time()
            if profile is not None:
                profile.enable()
            for body in bodies:
                with cycle_collection_paused():
                    collector.accept(read_body(body))
            if profile is not None:
                profile.disable()
            cpu = time.process_time() - start
        print(f"in-process ({name}): {cpu:.2f} CPU-s, {1e6 * cpu / total:.1f} us/record, "
              f"{total / cpu:,.0f} records/CPU-s")
        if profile is not None:
            pstats.Stats(profile).sort_stats("tottime").print_stats(12)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--logs", type=int, default=3)
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--proofs", type=int, default=100)
    ap.add_argument("--profile", action="store_true", help="also profile the batch path in this process")
    args = ap.parse_args()
    total = args.logs * args.records
    print(f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, {os.cpu_count()} cpu(s), "
          f"load {os.getloadavg()[0]:.2f}; {args.logs} logs x {args.records} records, batches of {args.batch}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        key_file, pub_file = keys.save_key_pair(keys.generate_private_key(), folder / "keys", "collector")
        t = time.perf_counter()
        logs = write_logs(folder, args.logs, args.records)
        print(f"wrote {total} records in {time.perf_counter() - t:.1f} s")
        per_log = batches(logs, args.batch)
        bodies = interleaved(per_log)
        if args.profile:
            in_process(folder, key_file, bodies, total)

        port = free_port()
        sink = subprocess.Popen([sys.executable, "-c", SINK, str(port)], stderr=subprocess.DEVNULL)
        wait_port(port, sink)
        sink_s = post_all(port, bodies)
        sink.terminate()
        sink.wait()

        port = free_port()
        collector = start_collector(folder / "store", key_file, port)
        cpu_before = cpu_seconds(collector.pid)
        collect_s = post_all(port, bodies)
        cpu_after = cpu_seconds(collector.pid)
        report = stop(collector)
        assert report.get("size") == total and not report.get("problems"), report

        port = free_port()
        collector = start_collector(folder / "store3", key_file, port)
        together_s = post_concurrently(port, per_log)
        report3 = stop(collector)
        assert report3.get("size") == total and not report3.get("problems"), report3

        port = free_port()
        collector = start_collector(folder / "store2", key_file, port)
        start = time.perf_counter()
        shippers = [subprocess.Popen([sys.executable, "-m", "agentos_contracts", "audit", "ship", str(log), "--to",
                                      f"http://127.0.0.1:{port}/", "--batch", str(args.batch), "--state",
                                      str(log) + ".bench-ship"], stdout=subprocess.DEVNULL) for log in logs]
        assert all(p.wait() == 0 for p in shippers)
        ship_s = time.perf_counter() - start
        report2 = stop(collector)
        assert report2.get("size") == total, report2

        ids = proofs.event_ids(folder / "store")
        sample = random.Random(7).sample(ids, min(args.proofs, len(ids)))
        pub = keys.read_public_key(pub_file)
        start = time.perf_counter()
        assert all(proofs.prove(folder / "store", e, pub).verified for e in sample)
        prove_s = time.perf_counter() - start
        start = time.perf_counter()
        assert proofs.check(folder / "store", pub).ok
        check_s = time.perf_counter() - start

    print(f"{'case':<62} {'records':>8} {'seconds':>8} {'records/s':>10}")
    rows = [("baseline: same batches to an HTTP sink that only reads the body", total, sink_s),
            ("collected: batches POSTed to `audit collect` (goal >= 20,000/s)", total, collect_s),
            (f"collected: {args.logs} senders at once, one per log (same goal)", total, together_s),
            (f"shipped end to end: {args.logs} `audit ship` processes -> collector", total, ship_s)]
    for name, n, s in rows:
        print(f"{name:<62} {n:>8} {s:>8.2f} {n / s:>10,.0f}")
    if cpu_before is not None and cpu_after is not None and cpu_after > cpu_before:
        cpu = cpu_after - cpu_before  # the collector process alone: what an idle machine would allow
        print(f"{'collector CPU time while collecting (user+system), records/CPU-s':<62} {total:>8} {cpu:>8.2f} "
              f"{total / cpu:>10,.0f}")
    print(f"{'inclusion proofs (prove, signature checked), proofs/s':<62} {len(sample):>8} {prove_s:>8.2f} "
          f"{len(sample) / prove_s:>10,.0f}")
    print(f"{'check: whole store re-derived, all checkpoints verified':<62} {total:>8} {check_s:>8.2f} "
          f"{total / check_s:>10,.0f}")


if __name__ == "__main__":
    main()
