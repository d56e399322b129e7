"""Admission webhook latency over loopback HTTPS, next to `agentos validate` in-process on the same contract.

Starts `agentos webhook serve` as its own process (TLS from a throw-away CA, a fresh
reservation folder), admits N contracts for real so the store holds their manifests, then:
- sends R dry-run reviews of a typical contract one after another: p50/p95 latency per review
  (the client's wall time: TLS request, validate, admit against the platform and the N
  reservations, response);
- sends R reviews from C concurrent clients: reviews/s;
- and, in this process, runs `validate_paths` and `admit` (dry run, same reservations) on the
  same contract in its custom-resource form: p50/p95 per call.

Usage: python benchmarks/webhook_bench.py [--admitted 50] [--reviews 200] [--clients 8]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import trustme

ROOT = Path(__file__).resolve().parent.parent
PLATFORM = ROOT / "contracts" / "platforms" / "city-edge.yaml"


def resource(name: str) -> dict[str, Any]:
    from agentos_contracts.documents.loader import load_text
    from agentos_contracts.k8s.resources import to_resource

    path = ROOT / "contracts" / f"{name}.yaml"
    return to_resource(load_text(str(path), path.read_text()).documents[0].data)


def review(obj: dict[str, Any], dry_run: bool) -> dict[str, Any]:
    meta = obj["metadata"]
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": str(uuid.uuid4()), "kind": {"group": "agentos.dev", "version": "v1alpha1", "kind": obj["kind"]},
        "resource": {"group": "agentos.dev", "version": "v1alpha1", "resource": "agentcontracts"},
        "name": meta["name"], "namespace": meta.get("namespace"), "operation": "CREATE", "object": obj,
        "dryRun": dry_run}}


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--admitted", type=int, default=50)
    ap.add_argument("--reviews", type=int, default=200)
    ap.add_argument("--clients", type=int, default=8)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="agentos-webhook-bench-"))
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    leaf.cert_chain_pems[0].write_to_path(str(work / "tls.crt"))
    leaf.private_key_pem.write_to_path(str(work / "tls.key"))
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    state = work / "state"
    cmd = [sys.executable, "-m", "agentos_contracts", "webhook", "serve", "--platform", str(PLATFORM),
           "--policies", str(ROOT / "contracts"), "--tls-cert", str(work / "tls.crt"), "--tls-key",
           str(work / "tls.key"), "--listen", f"127.0.0.1:{port}", "--reservations", str(state),
           "--budget-ms", "10000"]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    typical = resource("doc-rag-planner")
    try:
        with httpx.Client(verify=ctx, base_url=f"https://127.0.0.1:{port}", timeout=60) as c:
            for _ in range(300):
                try:
                    if c.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            base = resource("planner")
            base["spec"]["budgets"] = {"tokens_per_minute": 500}  # small, so 50 fit beside the typical one
            held = 0
            for i in range(args.admitted):
                obj = copy.deepcopy(base)
                obj["metadata"]["name"] = f"planner-{i:03d}"
                held += c.post("/validate", json=review(obj, False)).json()["response"]["allowed"]
            first = c.post("/validate", json=review(typical, True)).json()["response"]
            assert first["allowed"], first
            lat = []
            for _ in range(args.reviews):
                t = time.perf_counter()
                r = c.post("/validate", json=review(typical, True))
                lat.append(time.perf_counter() - t)
                assert r.json()["response"]["allowed"]

            def one(_: int) -> bool:
                return bool(c.post("/validate", json=review(typical, True)).json()["response"]["allowed"])

            t = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.clients) as pool:
                ok = sum(pool.map(one, range(args.reviews)))
            rate = args.reviews / (time.perf_counter() - t)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    # the baseline: the same contract, in this process, no HTTP
    from agentos_contracts.admit import AdmitOptions, admit
    from agentos_contracts.validate import validate_paths

    local = work / "doc-rag-planner.yaml"
    obj = copy.deepcopy(typical)
    obj["spec"]["policies"] = [str(ROOT / "contracts" / p) for p in obj["spec"]["policies"]]
    local.write_text(json.dumps(obj))
    val, adm = [], []
    for _ in range(args.reviews):
        t = time.perf_counter()
        assert validate_paths([str(local)]).ok
        val.append(time.perf_counter() - t)
    options = AdmitOptions(seal=False, existing=(str(state),), existing_unsigned=True)
    for _ in range(max(args.reviews // 4, 10)):
        t = time.perf_counter()
        assert admit([str(local)], str(PLATFORM), options).ok
        adm.append(time.perf_counter() - t)
    ms = 1000
    print(f"reservations held: {held} of {args.admitted} admitted contracts; {args.reviews} reviews of doc-rag-planner")
    print(f"{'':44} {'p50 ms':>8} {'p95 ms':>8}")
    print(f"{'webhook review over loopback HTTPS':44} {statistics.median(lat) * ms:8.1f} {pct(lat, 0.95) * ms:8.1f}")
    print(f"{'agentos validate, in-process (baseline)':44} {statistics.median(val) * ms:8.1f} {pct(val, 0.95) * ms:8.1f}")
    print(f"{'admit dry run, in-process, same reservations':44} {statistics.median(adm) * ms:8.1f} {pct(adm, 0.95) * ms:8.1f}")
    print(f"throughput, {args.clients} concurrent clients: {rate:.1f} reviews/s ({ok}/{args.reviews} allowed)")
    print(f"goal p95 <= 100 ms with {args.admitted} admitted: {'met' if pct(lat, 0.95) * ms <= 100 else 'not met'}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
