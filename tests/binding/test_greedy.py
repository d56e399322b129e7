"""Greedy pre-placement (fleet-sized batches) and the greedy fallback, checked against the full MILP.

With the threshold lowered so the fixtures count as fleet-sized, nodes and cores are
placed greedily before the MILP: everything the full MILP admits must still be admitted,
and every HRT core the answer uses must pass the exact test with all its tasks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agentos_contracts.admit import AdmitOptions, admit
from agentos_contracts.binding import greedy, hrt
from agentos_contracts.model.tasks import Task

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures" / "admit"
PLATFORM = str(FIX / "platform.yaml")
VALID = [str(p) for p in sorted((FIX / "valid").glob("*.yaml"))]


def _cores(result) -> dict[tuple[str, int], list[Task]]:  # type: ignore[no-untyped-def]
    out: dict[tuple[str, int], list[Task]] = {}
    for a in result.admitted:
        rec = a.predicate["requested"]
        for r in [rec.get("reservation")] + [s.get("reservation") for s in (rec.get("steps") or {}).values()]:
            if r and r.get("task") and r.get("core") is not None:
                t = r["task"]
                out.setdefault((r["node"], r["core"]), []).append(
                    Task(name=f"{a.name}-{len(out)}", period_ns=t["period_ns"], wcet_ns=t["wcet_ns"],
                         deadline_ns=t["deadline_ns"], jitter_ns=t["jitter_ns"], blocking_ns=t["blocking_ns"]))
    return out


@pytest.mark.parametrize("paths", [VALID, VALID + [str(FIX / "invalid" / "AC509-token-capacity.yaml")]],
                         ids=["fits", "capacity-bound"])
def test_preplacement_admits_what_the_full_milp_admits(monkeypatch: pytest.MonkeyPatch, paths: list[str]) -> None:
    full = admit(paths, PLATFORM, AdmitOptions(seal=False))
    monkeypatch.setattr(greedy, "LARGE_OPTIONS", 0)
    narrowed = admit(paths, PLATFORM, AdmitOptions(seal=False))
    either = {"batch-first", "batch-second"}  # only one fits; which one is the solver's choice
    assert {a.name for a in narrowed.admitted} - either == {a.name for a in full.admitted} - either
    assert len(narrowed.admitted) == len(full.admitted)
    # what the narrowed search leaves out is `unknown` (not proven impossible), never `rejected` by capacity
    assert all(r.verdict == "unknown" for r in narrowed.rejected if r.name in ("batch-first", "batch-second"))
    platform_nodes = {n["name"]: n for n in yaml.safe_load(Path(PLATFORM).read_text(encoding="utf-8"))["nodes"]}
    for (node, _), tasks in _cores(narrowed).items():
        assert hrt.is_schedulable(tasks, platform_nodes[node].get("scheduler", "EDF"))


def test_greedy_fallback_gives_every_document_a_verdict() -> None:
    paths = VALID + [str(FIX / "invalid" / "AC509-token-capacity.yaml")]
    result = admit(paths, PLATFORM, AdmitOptions(seal=False, time_limit=0.0))
    full = admit(paths, PLATFORM, AdmitOptions(seal=False))
    names = {a.name for a in result.admitted} | {r.name for r in result.rejected}
    assert names == {a.name for a in full.admitted} | {r.name for r in full.rejected}
    assert len(result.admitted) == len(full.admitted)
    for r in result.rejected:
        assert r.verdict == "unknown" and all(x.code in ("AC512", "AC515") for x in r.reasons)
