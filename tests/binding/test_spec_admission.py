"""`agentos admit` against the design notes' precise rules, on small hand-computed platforms.

Every figure below is worked out by hand from documents.md ("SRT and DT at admission",
"Binding modes", "must / prefer keys", HRT R = w + J ≤ D) and checked at the boundary:
exactly equal is admitted, one nanosecond (or one token) over is rejected.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from agentos_contracts.cli import app

runner = CliRunner()
SCHEMA = {"type": "object", "properties": {}}
SAFE = {"readOnlyHint": True}  # MCP annotations: not high-risk, so no consent gate is needed

# overhead 10 ms; `m@1.0.0` onset 90 ms p95 and 256 tokens/s: 256 default output tokens take 1000 ms,
# so onset = 100 ms and turn = 1100 ms (+ 50 ms with the `t.x` tool).
PLATFORM: dict[str, Any] = {
    "apiVersion": "agentos/v0.2", "kind": "Platform", "name": "spec", "orchestration_overhead_ms": 10,
    "nodes": [
        {"name": "edge-0", "placement": "edge", "cores": 1, "mem": "4GiB", "scheduler": "RM", "tags": ["gpu"]},
        {"name": "prem-0", "placement": "on-prem", "cores": 8, "mem": "32GiB"},
        {"name": "cloud-0", "placement": "cloud", "cores": 8, "mem": "32GiB"},
    ],
    "models": [
        {"name": "m", "version": "1.0.0", "placement": "on-prem", "node": "prem-0", "onset_ms_p95": 90,
         "tokens_per_s": 256, "cost_per_1k_tokens": 0.01, "capacity_tokens_per_min": 10000000},
    ],
    "tools": [{"name": "t.x", "version": "1.0.0", "rtt_ms_p95": 50, "placement": "on-prem", "inputSchema": SCHEMA, "annotations": SAFE}],
}


def srt(name: str, onset: Any, turn: Any, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"apiVersion": "agentos/v0.2", "kind": "AgentContract", "name": name,
                           "class": {"latency": "SRT", "slo": {"onset_ms": onset, "turn_ms": turn}},
                           "capabilities": [], "modelPolicy": {"allow": ["m"]},
                           "binding": {"mode": "smooth"}}
    doc.update(extra)
    return doc


def dt(name: str, slo: dict[str, Any], **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"apiVersion": "agentos/v0.2", "kind": "AgentContract", "name": name,
                           "class": {"latency": "DT", "slo": slo}, "capabilities": [],
                           "modelPolicy": {"allow": ["m"]}, "binding": {"mode": "smooth"}}
    doc.update(extra)
    return doc


def hrt(name: str, **slo: Any) -> dict[str, Any]:
    return {"apiVersion": "agentos/v0.2", "kind": "AgentContract", "name": name,
            "class": {"latency": "HRT", "slo": slo}, "capabilities": [], "binding": {"mode": "strict"}}


def admit(tmp: Path, docs: list[dict[str, Any]], platform: dict[str, Any] | None = None,
          extra: tuple[str, ...] = ("--dry-run",)) -> tuple[int, dict[str, Any]]:
    """Write each contract to its own file (command-line order = document order), admit, parse JSON."""
    (tmp / "platform.yaml").write_text(json.dumps(platform or PLATFORM))
    paths = []
    for i, d in enumerate(docs):
        p = tmp / f"{i:02d}-{d['name']}.yaml"
        p.write_text(json.dumps(d))
        paths.append(str(p))
    result = runner.invoke(app, ["admit", *paths, "--platform", str(tmp / "platform.yaml"), *extra,
                                 "--format", "json"])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, json.loads(result.stdout)


def verdicts(doc: dict[str, Any]) -> tuple[list[str], list[str]]:
    assert not [d for d in doc["diagnostics"] if d["severity"] == "error" and d["code"] < "AC500"], doc["diagnostics"]
    return [a["name"] for a in doc["admitted"]], [r["name"] for r in doc["rejected"]]


def codes(doc: dict[str, Any], name: str) -> set[str]:
    return {r["code"] for e in doc["rejected"] if e["name"] == name for r in e["reasons"]}


def plat(**changes: Any) -> dict[str, Any]:
    p = copy.deepcopy(PLATFORM)
    p.update(changes)
    return p


def model(name: str, version: str, **kw: Any) -> dict[str, Any]:
    m = {"name": name, "version": version, "placement": "on-prem", "node": "prem-0", "onset_ms_p95": 90,
         "tokens_per_s": 256, "cost_per_1k_tokens": 0.01, "capacity_tokens_per_min": 10000000}
    m.update(kw)
    return m


# --- SRT ----------------------------------------------------------------------------------------


def test_srt_onset_and_turn_exactly_at_the_bound_are_admitted(tmp_path: Path) -> None:
    code, doc = admit(tmp_path, [srt("a", 100, 1100)])
    assert (code, verdicts(doc)) == (0, (["a"], []))
    assert doc["admitted"][0]["models"] == ["m@1.0.0"] and doc["admitted"][0]["manifest"] is None


def test_srt_onset_one_nanosecond_short_is_rejected(tmp_path: Path) -> None:
    code, doc = admit(tmp_path, [srt("a", 99.999999, 1100)])
    assert (code, verdicts(doc)) == (1, ([], ["a"])) and codes(doc, "a") == {"AC506"}


def test_srt_turn_one_nanosecond_short_is_rejected(tmp_path: Path) -> None:
    code, doc = admit(tmp_path, [srt("a", 100, 1099.999999)])
    assert (code, verdicts(doc)) == (1, ([], ["a"])) and codes(doc, "a") == {"AC507"}


def test_srt_turn_counts_the_contracts_tools(tmp_path: Path) -> None:
    code, doc = admit(tmp_path, [srt("a", 100, 1150, capabilities=["t.x"]),
                                 srt("b", 100, 1149.999999, capabilities=["t.x"])])
    assert verdicts(doc) == (["a"], ["b"]) and code == 1 and codes(doc, "b") == {"AC507"}


def test_srt_turn_picks_a_tool_deployment_that_fits_by_one_nanosecond(tmp_path: Path) -> None:
    p = plat(tools=[{"name": "t.x", "version": "1.0.0", "rtt_ms_p95": 50, "placement": "on-prem", "inputSchema": SCHEMA, "annotations": SAFE},
                    {"name": "t.x", "version": "1.0.0", "rtt_ms_p95": 60, "placement": "cloud", "inputSchema": SCHEMA, "annotations": SAFE}])
    c = srt("a", 100, 1160, capabilities=["t.x"], binding={"mode": "flexible", "prefer": {"placement": ["cloud"]}})
    code, doc = admit(tmp_path, [c], p)
    assert code == 0 and doc["admitted"][0]["evidence"]["turn_ms"] == 1160  # the preferred (cloud) deployment
    c["class"]["slo"]["turn_ms"] = 1159.999999
    code, doc = admit(tmp_path, [c], p)
    assert code == 0 and doc["admitted"][0]["evidence"]["turn_ms"] == 1150  # only the on-prem one fits
    c["class"]["slo"]["turn_ms"] = 1149.999999
    code, doc = admit(tmp_path, [c], p)
    assert code == 1 and codes(doc, "a") == {"AC507"}


def test_srt_max_output_tokens_sets_the_output_time(tmp_path: Path) -> None:
    # 128 tokens at 256/s = 500 ms: turn 600 ms
    code, doc = admit(tmp_path, [srt("a", 100, 600, modelPolicy={"allow": ["m"], "max_output_tokens": 128}),
                                 srt("b", 100, 599.999999, modelPolicy={"allow": ["m"], "max_output_tokens": 128})])
    assert verdicts(doc) == (["a"], ["b"])


def test_srt_overhead_is_counted_once_in_onset_and_turn(tmp_path: Path) -> None:
    code, doc = admit(tmp_path, [srt("a", 100, 1100)], plat(orchestration_overhead_ms=10.000001))
    assert verdicts(doc) == ([], ["a"]) and codes(doc, "a") == {"AC506"}


def test_srt_without_any_model_is_rejected_not_waved_through(tmp_path: Path) -> None:
    """Regression: an SRT contract naming no model was admitted with onset_ms 1 and no check at all."""
    c = srt("a", 1, 2)
    del c["modelPolicy"]
    code, doc = admit(tmp_path, [c])
    assert (code, verdicts(doc)) == (1, ([], ["a"])) and codes(doc, "a") == {"AC521"}


# --- DT -----------------------------------------------------------------------------------------


def dt_platform(capacity: int) -> dict[str, Any]:
    return plat(models=[model("m", "1.0.0", capacity_tokens_per_min=capacity)])


def test_dt_tokens_per_hour_exactly_the_capacity(tmp_path: Path) -> None:
    code, doc = admit(tmp_path, [dt("a", {"tokens_per_hour": 60000})], dt_platform(1000))
    assert (code, verdicts(doc)) == (0, (["a"], []))


def test_dt_without_any_model_is_rejected_when_it_needs_tokens(tmp_path: Path) -> None:
    """Regression: a DT contract naming no model was admitted with any tokens_per_hour."""
    c = dt("a", {"tokens_per_hour": 10**12})
    del c["modelPolicy"]
    code, doc = admit(tmp_path, [c], dt_platform(1000))
    assert (code, verdicts(doc)) == (1, ([], ["a"])) and codes(doc, "a") == {"AC521"}


def test_dt_tokens_per_hour_one_over_the_capacity(tmp_path: Path) -> None:
    code, doc = admit(tmp_path, [dt("a", {"tokens_per_hour": 60001})], dt_platform(1000))
    assert (code, verdicts(doc)) == (1, ([], ["a"])) and codes(doc, "a") == {"AC508"}


def test_dt_agents_share_the_capacity(tmp_path: Path) -> None:
    fit = [dt("a", {"tokens_per_hour": 30000}), dt("b", {"tokens_per_hour": 30000})]
    code, doc = admit(tmp_path, fit, dt_platform(1000))
    assert (code, verdicts(doc)) == (0, (["a", "b"], []))
    over = [dt("a", {"tokens_per_hour": 30000}), dt("b", {"tokens_per_hour": 30060})]
    code, doc = admit(tmp_path, over, dt_platform(1000))
    assert (code, verdicts(doc)) == (1, (["a"], ["b"]))


def test_dt_shares_that_fit_exactly_in_total_are_admitted(tmp_path: Path) -> None:
    # 200000 + 100000 tokens/hour = 5000 tokens/min exactly, though neither share is a whole number per minute
    docs = [dt("a", {"tokens_per_hour": 200000}), dt("b", {"tokens_per_hour": 100000})]
    code, doc = admit(tmp_path, docs, dt_platform(5000))
    assert (code, verdicts(doc)) == (0, (["a", "b"], []))
    docs.append(dt("c", {"tokens_per_hour": 1}))
    code, doc = admit(tmp_path, docs, dt_platform(5000))
    assert (code, verdicts(doc)) == (1, (["a", "b"], ["c"])) and codes(doc, "c") == {"AC509"}


def test_dt_thirds_fill_a_model_exactly(tmp_path: Path) -> None:
    docs = [dt(n, {"tokens_per_hour": 100000}) for n in ("a", "b", "c")]
    code, doc = admit(tmp_path, docs, dt_platform(5000))
    assert (code, verdicts(doc)) == (0, (["a", "b", "c"], []))
    docs.append(dt("d", {"tokens_per_hour": 1}))
    assert verdicts(admit(tmp_path, docs, dt_platform(5000))[1]) == (["a", "b", "c"], ["d"])


def test_dt_and_srt_share_the_capacity(tmp_path: Path) -> None:
    docs = [dt("a", {"tokens_per_hour": 30000}),
            srt("b", 100, 1100, budgets={"tokens_per_minute": 500})]
    assert verdicts(admit(tmp_path, docs, dt_platform(1000))[1]) == (["a", "b"], [])
    docs[1]["budgets"]["tokens_per_minute"] = 501
    assert verdicts(admit(tmp_path, docs, dt_platform(1000))[1]) == (["a"], ["b"])


def test_dt_deadline_rule(tmp_path: Path) -> None:
    # 60000 tokens within 3600 s needs 1000 tokens/min: exactly the capacity
    ok = dt("a", {"deadline_s": 3600}, budgets={"tokens": 60000})
    assert verdicts(admit(tmp_path, [ok], dt_platform(1000))[1]) == (["a"], [])
    late = dt("a", {"deadline_s": 3599}, budgets={"tokens": 60000})
    code, doc = admit(tmp_path, [late], dt_platform(1000))
    assert verdicts(doc) == ([], ["a"]) and codes(doc, "a") == {"AC508"}


def test_dt_deadline_against_a_granted_budget_rate(tmp_path: Path) -> None:
    # granted 1000 tokens/min: 60000 tokens take 3600 s > deadline 3599 s
    late = dt("a", {"tokens_per_hour": 60000, "deadline_s": 3599}, budgets={"tokens": 60000, "tokens_per_minute": 1000})
    code, doc = admit(tmp_path, [late], dt_platform(100000))
    assert verdicts(doc) == ([], ["a"])
    ok = dt("a", {"tokens_per_hour": 60000, "deadline_s": 3600}, budgets={"tokens": 60000, "tokens_per_minute": 1000})
    assert verdicts(admit(tmp_path, [ok], dt_platform(100000))[1]) == (["a"], [])


# --- HRT ----------------------------------------------------------------------------------------


def hrt_platform(scheduler: str) -> dict[str, Any]:
    return plat(nodes=[{"name": "rt-0", "placement": "edge", "cores": 1, "mem": "4GiB", "scheduler": scheduler}],
                models=[model("m", "1.0.0", placement="edge", node="rt-0")], tools=[])


def test_hrt_rm_exact_response_time_boundary(tmp_path: Path) -> None:
    # hi (C=2, T=4) preempts lo (C=2, T=6): w = 2 + ⌈w/4⌉·2 = 4, R = w + J
    hi = hrt("hi", wcet_ms=2, period_ms=4)
    assert verdicts(admit(tmp_path, [hi, hrt("lo", wcet_ms=2, period_ms=6, deadline_ms=4)], hrt_platform("RM"))[1]) \
        == (["hi", "lo"], [])
    assert verdicts(admit(tmp_path, [hi, hrt("lo", wcet_ms=2.000001, period_ms=6, deadline_ms=4)],
                          hrt_platform("RM"))[1]) == (["hi"], ["lo"])


def test_hrt_release_jitter_counts_toward_the_response_time(tmp_path: Path) -> None:
    hi = hrt("hi", wcet_ms=2, period_ms=4)
    assert verdicts(admit(tmp_path, [hi, hrt("lo", wcet_ms=2, period_ms=6, jitter_ms=2)], hrt_platform("RM"))[1]) \
        == (["hi", "lo"], [])
    assert verdicts(admit(tmp_path, [hi, hrt("lo", wcet_ms=2, period_ms=6, jitter_ms=2.000001)],
                          hrt_platform("RM"))[1]) == (["hi"], ["lo"])


def test_hrt_rm_deadline_beyond_the_period(tmp_path: Path) -> None:
    # lo's busy period holds two jobs: R0 = 7 (w = 3 + ⌈w/4⌉·2), R1 = 12 − 6 = 6; worst 7 > T = 6
    hi = hrt("hi", wcet_ms=2, period_ms=4)
    assert verdicts(admit(tmp_path, [hi, hrt("lo", wcet_ms=3, period_ms=6, deadline_ms=7)], hrt_platform("RM"))[1]) \
        == (["hi", "lo"], [])
    assert verdicts(admit(tmp_path, [hi, hrt("lo", wcet_ms=3, period_ms=6, deadline_ms=6.999999)],
                          hrt_platform("RM"))[1]) == (["hi"], ["lo"])


def test_hrt_rm_interference_counts_the_higher_tasks_jitter(tmp_path: Path) -> None:
    # hi (C=1, T=4, J=1): lo (C=2, D=4): w = 2 + ⌈(w + 1)/4⌉·1 = 3 alone; with J_hi = 1.000001, ⌈4.000001/4⌉ = 2 → 4
    hi = hrt("hi", wcet_ms=1, period_ms=4, jitter_ms=1)
    lo = hrt("lo", wcet_ms=2, period_ms=10, deadline_ms=3)
    assert verdicts(admit(tmp_path, [hi, lo], hrt_platform("RM"))[1]) == (["hi", "lo"], [])
    hi2 = hrt("hi", wcet_ms=1, period_ms=4, jitter_ms=1.000001, deadline_ms=3)
    assert verdicts(admit(tmp_path, [hi2, lo], hrt_platform("RM"))[1]) == (["hi"], ["lo"])


def test_hrt_edf_full_utilisation_boundary(tmp_path: Path) -> None:
    a = hrt("a", wcet_ms=2, period_ms=4)
    assert verdicts(admit(tmp_path, [a, hrt("b", wcet_ms=3, period_ms=6)], hrt_platform("EDF"))[1]) == (["a", "b"], [])
    assert verdicts(admit(tmp_path, [a, hrt("b", wcet_ms=3.000001, period_ms=6)], hrt_platform("EDF"))[1]) \
        == (["a"], ["b"])


def test_hrt_edf_processor_demand_with_constrained_deadlines(tmp_path: Path) -> None:
    # dbf(2) = 2 ≤ 2, dbf(3) = 2 + C_b ≤ 3
    a = hrt("a", wcet_ms=2, period_ms=4, deadline_ms=2)
    assert verdicts(admit(tmp_path, [a, hrt("b", wcet_ms=1, period_ms=4, deadline_ms=3)], hrt_platform("EDF"))[1]) \
        == (["a", "b"], [])
    assert verdicts(admit(tmp_path, [a, hrt("b", wcet_ms=1.000001, period_ms=4, deadline_ms=3)],
                          hrt_platform("EDF"))[1]) == (["a"], ["b"])


def test_hrt_edf_deadlines_beyond_the_period(tmp_path: Path) -> None:
    a = hrt("a", wcet_ms=2, period_ms=4, deadline_ms=6)
    assert verdicts(admit(tmp_path, [a, hrt("b", wcet_ms=2, period_ms=4, deadline_ms=6)], hrt_platform("EDF"))[1]) \
        == (["a", "b"], [])
    assert verdicts(admit(tmp_path, [a, hrt("b", wcet_ms=2.000001, period_ms=4, deadline_ms=6)],
                          hrt_platform("EDF"))[1]) == (["a"], ["b"])


def test_hrt_period_defaults_to_the_deadline_and_blocking_counts(tmp_path: Path) -> None:
    hi = hrt("hi", wcet_ms=2, period_ms=4)
    assert verdicts(admit(tmp_path, [hi, hrt("lo", wcet_ms=1, deadline_ms=4, blocking_ms=1)], hrt_platform("RM"))[1]) \
        == (["hi", "lo"], [])
    assert verdicts(admit(tmp_path, [hi, hrt("lo", wcet_ms=1, deadline_ms=4, blocking_ms=1.000001)],
                          hrt_platform("RM"))[1]) == (["hi"], ["lo"])


def test_hrt_tasks_that_cannot_share_a_core_get_one_each(tmp_path: Path) -> None:
    p = plat(nodes=[{"name": "rt-0", "placement": "edge", "cores": 2, "mem": "4GiB", "scheduler": "RM"}],
             models=[model("m", "1.0.0", placement="edge", node="rt-0")], tools=[])
    code, doc = admit(tmp_path, [hrt("a", wcet_ms=3, period_ms=4), hrt("b", wcet_ms=3, period_ms=4)], p)
    assert code == 0 and sorted(e["placement"][0]["core"] for e in doc["admitted"]) == [0, 1]
    code, doc = admit(tmp_path, [hrt("a", wcet_ms=3, period_ms=4), hrt("b", wcet_ms=3, period_ms=4),
                                 hrt("c", wcet_ms=1.000001, period_ms=4)], p)
    assert verdicts(doc) == (["a", "b"], ["c"])


def test_hrt_work_stays_on_nodes_that_declare_a_scheduler(tmp_path: Path) -> None:
    """Regression: the 1 ns-over task spilled onto a scheduler-less cloud node (assumed EDF) and was admitted."""
    p = hrt_platform("RM")
    p["nodes"].append({"name": "cloud-0", "placement": "cloud", "cores": 8, "mem": "32GiB"})
    hi = hrt("hi", wcet_ms=2, period_ms=4)
    code, doc = admit(tmp_path, [hi, hrt("lo", wcet_ms=2.000001, period_ms=6, deadline_ms=4)], p)
    assert verdicts(doc) == (["hi"], ["lo"]) and codes(doc, "lo") == {"AC511"}
    assert doc["admitted"][0]["placement"] == [{"node": "rt-0", "core": 0}]
    # a platform that declares no scheduler anywhere has no node for HRT work at all
    p = plat(nodes=[{"name": "n", "placement": "edge", "cores": 1, "mem": "4GiB"}],
             models=[model("m", "1.0.0", placement="edge", node="n")], tools=[])
    code, doc = admit(tmp_path, [hrt("a", wcet_ms=2, period_ms=4), hrt("b", wcet_ms=3, period_ms=6)], p)
    assert (code, verdicts(doc)) == (1, ([], ["a", "b"])) and codes(doc, "a") == {"AC511"}


def test_hrt_only_on_undeclared_nodes_is_rejected(tmp_path: Path) -> None:
    p = hrt_platform("RM")
    p["nodes"].append({"name": "cloud-0", "placement": "cloud", "cores": 8, "mem": "32GiB"})
    c = hrt("a", wcet_ms=1, period_ms=10)
    c["binding"]["must"] = {"placement": "cloud"}
    code, doc = admit(tmp_path, [c], p)
    assert (code, verdicts(doc)) == (1, ([], ["a"])) and codes(doc, "a") == {"AC511"}


def test_hrt_rm_rejects_what_edf_admits(tmp_path: Path) -> None:
    # U = 1 with non-harmonic periods: RM misses, w_b = 3 + ⌈w/4⌉·2 runs 5 → 7 > 6 (EDF admits it, above)
    docs = [hrt("a", wcet_ms=2, period_ms=4), hrt("b", wcet_ms=3, period_ms=6)]
    assert verdicts(admit(tmp_path, docs, hrt_platform("RM"))[1]) == (["a"], ["b"])


# --- binding modes ------------------------------------------------------------------------------


def two_versions(*versions: str) -> dict[str, Any]:
    return plat(models=[model("m", v) for v in versions])


def test_strict_exact_version_admits(tmp_path: Path) -> None:
    c = srt("a", 100, 1100, binding={"mode": "strict", "must": {"model": "m@==1.0.0"}})
    code, doc = admit(tmp_path, [c], two_versions("1.0.0", "1.5.0"))
    assert code == 0 and doc["admitted"][0]["models"] == ["m@1.0.0"]


def test_strict_range_with_two_versions_is_rejected(tmp_path: Path) -> None:
    c = srt("a", 100, 1100, binding={"mode": "strict", "must": {"model": "m@>=1.0,<2"}})
    code, doc = admit(tmp_path, [c], two_versions("1.0.0", "1.5.0"))
    assert code == 1 and codes(doc, "a") == {"AC503"}


def test_strict_tool_refs_need_exactly_one_version(tmp_path: Path) -> None:
    p = plat(tools=[{"name": "t.x", "version": v, "rtt_ms_p95": 50, "placement": "on-prem", "inputSchema": SCHEMA, "annotations": SAFE}
                    for v in ("1.0.0", "2.0.0")])
    c = srt("a", 100, 1150, capabilities=["t.x"], binding={"mode": "strict", "must": {"model": "m", "tools": "t.x@==1.0.0"}})
    assert admit(tmp_path, [c], p)[0] == 0
    c["binding"]["must"]["tools"] = "t.x"
    code, doc = admit(tmp_path, [c], p)
    assert code == 1 and codes(doc, "a") == {"AC503"}


def test_smooth_picks_the_highest_version_numerically(tmp_path: Path) -> None:
    c = srt("a", 100, 1100, binding={"mode": "smooth", "must": {"model": "m@>=2,<3"}})
    code, doc = admit(tmp_path, [c], two_versions("2.9", "2.10", "3.0"))
    assert code == 0 and doc["admitted"][0]["models"] == ["m@2.10.0"]


def test_smooth_skips_a_version_that_breaks_the_slo(tmp_path: Path) -> None:
    p = plat(models=[model("m", "2.9.0"), model("m", "2.10.0", onset_ms_p95=91)])
    code, doc = admit(tmp_path, [srt("a", 100, 1100, binding={"mode": "smooth", "must": {"model": "m@>=2"}})], p)
    assert code == 0 and doc["admitted"][0]["models"] == ["m@2.9.0"]


def test_paper_shorthand_refs_resolve(tmp_path: Path) -> None:
    # `m_v2` means m@>=2.0.0,<3.0.0 and `m_v2..v3` means m@>=2.0.0,<4.0.0
    p = two_versions("1.0.0", "2.9.0", "2.10.0", "3.1.0", "4.0.0")
    code, doc = admit(tmp_path, [srt("a", 100, 1100, binding={"mode": "smooth", "prefer": {"model": ["m_v2"]}})], p)
    assert code == 0 and doc["admitted"][0]["models"] == ["m@2.10.0"]
    code, doc = admit(tmp_path, [srt("a", 100, 1100, binding={"mode": "smooth", "prefer": {"model": ["m_v2..v3"]}})], p)
    assert code == 0 and doc["admitted"][0]["models"] == ["m@3.1.0"]


def test_strict_pins_a_two_part_version(tmp_path: Path) -> None:
    c = srt("a", 100, 1100, binding={"mode": "strict", "must": {"model": "m@==2.10"}})
    code, doc = admit(tmp_path, [c], two_versions("2.9", "2.10", "2.1"))
    assert code == 0 and doc["admitted"][0]["models"] == ["m@2.10.0"]


def flex_platform(cost_b: float) -> dict[str, Any]:
    cloud = model("c", "1.0.0", cost_per_1k_tokens=0.001, placement="cloud")
    del cloud["node"]
    return plat(models=[model("a", "1.0.0", cost_per_1k_tokens=0.02), model("b", "1.0.0", cost_per_1k_tokens=cost_b),
                        cloud])


def flexible(name: str) -> dict[str, Any]:
    return srt(name, 100, 1100, modelPolicy={"allow": ["a", "b", "c"]},
               binding={"mode": "flexible", "must": {"placement": "on-prem"}, "prefer": {"model": ["a", "b", "c"]}})


def test_flexible_picks_the_cheapest_satisfying_the_musts(tmp_path: Path) -> None:
    code, doc = admit(tmp_path, [flexible("x")], flex_platform(0.01))
    assert code == 0 and doc["admitted"][0]["models"] == ["b@1.0.0"]  # `c` is cheaper but in the cloud


def test_flexible_cost_tie_follows_the_prefer_ranking(tmp_path: Path) -> None:
    p = flex_platform(0.02)
    code, doc = admit(tmp_path, [flexible("x")], p)
    assert code == 0 and doc["admitted"][0]["models"] == ["a@1.0.0"]
    c = flexible("x")
    c["binding"]["prefer"]["model"] = ["b", "a", "c"]
    code, doc = admit(tmp_path, [c], p)
    assert code == 0 and doc["admitted"][0]["models"] == ["b@1.0.0"]


def test_prefer_placement_and_tags_rank_equal_cost_options(tmp_path: Path) -> None:
    p = plat(models=[model("m", "1.0.0"), model("m", "1.0.0", placement="edge", node="edge-0", tags=["gpu"])])
    c = srt("a", 100, 1100, binding={"mode": "flexible", "prefer": {"placement": ["edge", "on-prem"]}})
    code, doc = admit(tmp_path, [c], p)
    assert code == 0 and doc["admitted"][0]["placement"] == [{"node": "edge-0", "core": None}]
    c["binding"]["prefer"] = {"placement": ["on-prem", "edge"]}
    code, doc = admit(tmp_path, [c], p)
    assert code == 0 and doc["admitted"][0]["placement"] == [{"node": "prem-0", "core": None}]


def test_prefer_is_soft_when_no_preferred_model_fits(tmp_path: Path) -> None:
    """Regression: an unsatisfiable `prefer.model` rejected the contract instead of falling back to `allow`/`must`."""
    p = plat(models=[model("slow", "1.0.0", onset_ms_p95=500), model("fast", "1.0.0")])
    for mode in ("smooth", "flexible"):
        c = srt("a", 100, 1100, modelPolicy={"allow": ["slow", "fast"]},
                binding={"mode": mode, "prefer": {"model": ["slow"]}})
        code, doc = admit(tmp_path, [c], p)
        assert (code, doc["admitted"][0]["models"] if doc["admitted"] else doc["rejected"]) == (0, ["fast@1.0.0"]), mode
        c["binding"]["must"] = {"model": ["slow", "fast"]}
        del c["modelPolicy"]
        code, doc = admit(tmp_path, [c], p)
        assert (code, doc["admitted"][0]["models"] if doc["admitted"] else doc["rejected"]) == (0, ["fast@1.0.0"]), mode
        c["binding"]["prefer"] = {"model": ["absent"]}
        code, doc = admit(tmp_path, [c], p)
        assert (code, doc["admitted"][0]["models"] if doc["admitted"] else doc["rejected"]) == (0, ["fast@1.0.0"]), mode


def test_preferred_model_wins_when_it_fits(tmp_path: Path) -> None:
    p = plat(models=[model("x", "1.0.0"), model("y", "1.0.0")])
    for mode in ("smooth", "flexible"):
        for first in ("x", "y"):
            c = srt("a", 100, 1100, modelPolicy={"allow": ["x", "y"]}, binding={"mode": mode, "prefer": {"model": [first]}})
            code, doc = admit(tmp_path, [c], p)
            assert code == 0 and doc["admitted"][0]["models"] == [f"{first}@1.0.0"], (mode, first)


# --- placement and tags -------------------------------------------------------------------------


def placed() -> dict[str, Any]:
    return plat(models=[model("m", "1.0.0"), model("m", "1.0.0", placement="edge", node="edge-0", tags=["gpu"])])


def test_must_placement_edge_only_binds_the_edge_deployment(tmp_path: Path) -> None:
    c = srt("a", 100, 1100, binding={"mode": "smooth", "must": {"placement": "edge-only"}})
    code, doc = admit(tmp_path, [c], placed())
    assert code == 0 and doc["admitted"][0]["placement"] == [{"node": "edge-0", "core": None}]
    assert any(d["severity"] == "warning" for d in doc["diagnostics"])


def test_must_placement_with_nothing_there_is_rejected(tmp_path: Path) -> None:
    c = srt("a", 100, 1100, binding={"mode": "smooth", "must": {"placement": "cloud"}})
    code, doc = admit(tmp_path, [c], placed())
    assert code == 1 and verdicts(doc) == ([], ["a"])


def test_must_tags(tmp_path: Path) -> None:
    c = srt("a", 100, 1100, binding={"mode": "smooth", "must": {"tags": ["gpu"]}})
    code, doc = admit(tmp_path, [c], placed())
    assert code == 0 and doc["admitted"][0]["placement"] == [{"node": "edge-0", "core": None}]
    c["binding"]["must"]["tags"] = ["tpu"]
    assert admit(tmp_path, [c], placed())[0] == 1


# --- fallbacks ----------------------------------------------------------------------------------


def test_fallback_violating_must_is_not_recorded(tmp_path: Path) -> None:
    p = plat(models=[model("m", "1.0.0"), model("cloudy", "1.0.0", placement="cloud", node=None)])
    del p["models"][1]["node"]
    c = srt("a", 100, 1100, modelPolicy={"allow": ["m", "cloudy"]},
            binding={"mode": "flexible", "must": {"placement": ["on-prem"]}, "prefer": {"model": ["m"]},
                     "allow_fallbacks": [{"when": "overload", "substitute": {"model": "cloudy"}},
                                         {"when": "slow", "substitute": {"model": "m"}}]})
    out = tmp_path / "out"
    code, doc = admit(tmp_path, [c], p, ("--unsigned", "-o", str(out)))
    assert code == 0
    envelope = json.loads(Path(doc["admitted"][0]["manifest"]).read_text())
    predicate = json.loads(base64.b64decode(envelope["payload"]))["predicate"]
    assert predicate["fallbacks"] == [{"when": "slow", "substitute": {
        "model": "m@1.0.0", "modelPlacement": "on-prem", "node": "prem-0", "redact": False}}]
    assert any(d["code"] == "AC530" for d in doc["diagnostics"])


def test_fallback_tool_outside_the_must_range_or_the_ceiling_is_not_recorded(tmp_path: Path) -> None:
    """Regression: a substitute tool was checked for placement and tags only, not `must.tools` or the ceiling."""
    p = plat(tools=[{"name": "t.x", "version": v, "rtt_ms_p95": 50, "placement": "on-prem", "inputSchema": SCHEMA, "annotations": SAFE}
                    for v in ("1.0.0", "2.0.0")] +
             [{"name": "t.y", "version": "1.0.0", "rtt_ms_p95": 1, "placement": "on-prem", "inputSchema": SCHEMA, "annotations": SAFE}])
    c = srt("a", 100, 1150, capabilities=["t.x"],
            binding={"mode": "flexible", "must": {"tools": "t.x@<2"},
                     "allow_fallbacks": [{"when": "newer", "substitute": {"tools": ["t.x@>=2"]}},
                                         {"when": "other", "substitute": {"tools": ["t.y"]}},
                                         {"when": "same", "substitute": {"tools": ["t.x"]}}]})
    out = tmp_path / "out"
    code, doc = admit(tmp_path, [c], p, ("--unsigned", "-o", str(out)))
    assert code == 0 and doc["admitted"][0]["models"] == ["m@1.0.0"]
    envelope = json.loads(Path(doc["admitted"][0]["manifest"]).read_text())
    predicate = json.loads(base64.b64decode(envelope["payload"]))["predicate"]
    assert predicate["fallbacks"] == [{"when": "same", "substitute": {"redact": False, "tools": ["t.x@1.0.0"]}}]
    assert sum(d["code"] == "AC530" for d in doc["diagnostics"]) == 2


def test_fallback_store_outside_must_embed_store_is_not_recorded(tmp_path: Path) -> None:
    """Regression: a substitute embedding store was checked for placement and tags only, not `must.embed_store`."""
    p = plat(embed_stores=[{"name": "vec-a", "placement": "on-prem"}, {"name": "vec-b", "placement": "on-prem"}])
    c = srt("a", 100, 1100,
            binding={"mode": "flexible", "must": {"embed_store": "vec-a"},
                     "allow_fallbacks": [{"when": "other", "substitute": {"embed_store": "vec-b"}},
                                         {"when": "same", "substitute": {"embed_store": "vec-a"}}]})
    out = tmp_path / "out"
    code, doc = admit(tmp_path, [c], p, ("--unsigned", "-o", str(out)))
    assert code == 0
    envelope = json.loads(Path(doc["admitted"][0]["manifest"]).read_text())
    predicate = json.loads(base64.b64decode(envelope["payload"]))["predicate"]
    assert predicate["fallbacks"] == [{"when": "same", "substitute": {"redact": False, "embed_store": "vec-a"}}]


def test_fallback_tags_wider_than_must_tags_are_not_recorded(tmp_path: Path) -> None:
    """Regression: substitute tags [gpu, tpu] were accepted under must tags [gpu] (a `tpu`-only resource breaks it)."""
    c = srt("a", 100, 1100,
            binding={"mode": "flexible", "must": {"tags": "gpu"},
                     "allow_fallbacks": [{"when": "wide", "substitute": {"tags": ["gpu", "tpu"]}},
                                         {"when": "same", "substitute": {"tags": ["gpu"]}}]})
    out = tmp_path / "out"
    code, doc = admit(tmp_path, [c], placed(), ("--unsigned", "-o", str(out)))
    assert code == 0
    envelope = json.loads(Path(doc["admitted"][0]["manifest"]).read_text())
    predicate = json.loads(base64.b64decode(envelope["payload"]))["predicate"]
    assert predicate["fallbacks"] == [{"when": "same", "substitute": {"redact": False, "tags": ["gpu"]}}]


# --- layering -----------------------------------------------------------------------------------


def tenant_platform(tenant_defaults: dict[str, Any], role_defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    tenant: dict[str, Any] = {"name": "acme", "defaults": tenant_defaults}
    if role_defaults is not None:
        tenant["roles"] = [{"name": "bot", "defaults": role_defaults}]
    return plat(models=[model("m", "1.0.0"), model("m", "1.0.0", placement="edge", node="edge-0"),
                        model("m", "1.0.0", placement="cloud", node="cloud-0")],
                tenants=[tenant])


def test_layered_must_lists_intersect(tmp_path: Path) -> None:
    p = tenant_platform({"binding": {"must": {"placement": ["edge", "on-prem"]}}})
    c = srt("a", 100, 1100, tenant="acme", binding={"mode": "smooth", "must": {"placement": ["on-prem", "cloud"]}})
    code, doc = admit(tmp_path, [c], p)
    assert code == 0 and doc["admitted"][0]["placement"] == [{"node": "prem-0", "core": None}]


def test_layered_must_cannot_be_widened(tmp_path: Path) -> None:
    p = tenant_platform({"binding": {"must": {"placement": ["edge"]}}})
    c = srt("a", 100, 1100, tenant="acme", binding={"mode": "smooth", "must": {"placement": ["cloud"]}})
    code, doc = admit(tmp_path, [c], p)
    assert code == 1 and codes(doc, "a") == {"AC501"}


def test_layered_must_model_ranges_combine(tmp_path: Path) -> None:
    p = tenant_platform({"binding": {"must": {"model": "m@>=2"}}})
    p["models"] = [model("m", v) for v in ("1.0.0", "2.5.0", "3.0.0")] + [model("n", "9.0.0")]
    c = srt("a", 100, 1100, tenant="acme", modelPolicy={"allow": ["m", "n"]},
            binding={"mode": "smooth", "must": {"model": ["m@<3", "n"]}})
    code, doc = admit(tmp_path, [c], p)
    assert code == 0 and doc["admitted"][0]["models"] == ["m@2.5.0"]


def test_tenant_must_holds_when_the_contract_says_nothing(tmp_path: Path) -> None:
    p = tenant_platform({"binding": {"must": {"placement": "edge"}}})
    code, doc = admit(tmp_path, [srt("a", 100, 1100, tenant="acme")], p)
    assert code == 0 and doc["admitted"][0]["placement"] == [{"node": "edge-0", "core": None}]


def test_role_must_intersects_with_the_tenant_must(tmp_path: Path) -> None:
    p = tenant_platform({"binding": {"must": {"placement": ["edge", "on-prem"]}}},
                        {"binding": {"must": {"placement": ["on-prem", "cloud"]}}})
    code, doc = admit(tmp_path, [srt("a", 100, 1100, tenant="acme", role="bot")], p)
    assert code == 0 and doc["admitted"][0]["placement"] == [{"node": "prem-0", "core": None}]
    c = srt("a", 100, 1100, tenant="acme", role="bot", binding={"mode": "smooth", "must": {"placement": "edge"}})
    code, doc = admit(tmp_path, [c], p)
    assert code == 1 and codes(doc, "a") == {"AC501"}


def test_role_layer_maps_merge_and_lists_replace(tmp_path: Path) -> None:
    # role sets budgets.tokens_per_minute = 501 (over the 1000 capacity with `a`), the contract's budgets merge
    p = tenant_platform({"budgets": {"tokens_per_minute": 501}, "capabilities": ["t.x"]},
                        {"binding": {"must": {"placement": ["on-prem", "edge"]}}})
    p["models"] = [model("m", "1.0.0", capacity_tokens_per_min=1000)]
    c = srt("b", 100, 1100, tenant="acme", role="bot", budgets={"calls": 5})
    code, doc = admit(tmp_path, [dt("a", {"tokens_per_hour": 30000}), c], p)
    assert verdicts(doc) == (["a"], ["b"]) and codes(doc, "b") == {"AC509"}  # budgets merged: 501 tokens/min kept
    # lists replace: the contract's empty capabilities drop the tenant's tool, so the turn excludes it
    c["budgets"] = {"tokens_per_minute": 500}
    code, doc = admit(tmp_path, [dt("a", {"tokens_per_hour": 30000}), c], p)
    assert verdicts(doc) == (["a", "b"], [])


# --- dry run and determinism --------------------------------------------------------------------


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    code, doc = admit(tmp_path, [srt("a", 100, 1100)], extra=("--dry-run", "-o", str(out)))
    assert code == 0 and doc["admitted"][0]["manifest"] is None and list(out.iterdir()) == []


def test_same_inputs_same_bytes(tmp_path: Path) -> None:
    docs = [srt("a", 100, 1100), dt("b", {"tokens_per_hour": 600}), hrt("c", wcet_ms=1, period_ms=10)]
    first = admit(tmp_path, docs, extra=("--unsigned", "-o", str(tmp_path / "one")))[1]
    second = admit(tmp_path, docs, extra=("--unsigned", "-o", str(tmp_path / "two")))[1]
    for a, b in zip(first["admitted"], second["admitted"]):
        assert Path(a["manifest"]).read_bytes() == Path(b["manifest"]).read_bytes()
    strip = [json.dumps({**d, "admitted": [{**e, "manifest": None} for e in d["admitted"]]}, sort_keys=True)
             for d in (first, second)]
    assert strip[0] == strip[1] and len(first["admitted"]) == 3


def test_exact_shares_survive_the_manifest_round_trip(tmp_path: Path) -> None:
    """Regression: a reservation of 200000 tokens/hour is recorded as `10000/3` tokens/min, not rounded up."""
    out = tmp_path / "out"
    code, doc = admit(tmp_path, [dt("a", {"tokens_per_hour": 200000})], dt_platform(5000),
                      ("--unsigned", "-o", str(out)))
    assert code == 0
    envelope = json.loads(Path(doc["admitted"][0]["manifest"]).read_text())
    predicate = json.loads(base64.b64decode(envelope["payload"]))["predicate"]
    assert predicate["requested"]["reservation"]["tokens_per_min"] == "10000/3"
    assert predicate["budgets"]["tokens_per_minute"] == 3334  # the runtime budget: whole tokens, rounded up
    later = tmp_path / "later"
    later.mkdir()
    existing = ("--dry-run", "--existing", str(out), "--existing-unsigned")
    code, doc = admit(later, [dt("b", {"tokens_per_hour": 100000})], dt_platform(5000), existing)
    assert (code, verdicts(doc)) == (0, (["b"], []))
    code, doc = admit(later, [dt("b", {"tokens_per_hour": 100001})], dt_platform(5000), existing)
    assert (code, verdicts(doc)) == (1, ([], ["b"])) and codes(doc, "b") == {"AC509"}


def test_admit_json_shape_and_verify_digest(tmp_path: Path) -> None:
    from agentos_contracts.seal import keys

    pair = keys.save_key_pair(keys.generate_private_key(), tmp_path / "keys", "k")
    out = tmp_path / "out"
    code, doc = admit(tmp_path, [srt("a", 100, 1100), hrt("h", wcet_ms=1, period_ms=10), srt("late", 99, 1100)],
                      extra=("--key", str(pair[0]), "-o", str(out)))
    assert code == 1 and doc["ok"] is False
    assert {k for k in doc} >= {"ok", "diagnostics", "admitted", "rejected"}
    by_name = {e["name"]: e for e in doc["admitted"]}
    assert by_name["a"]["models"] == ["m@1.0.0"] and by_name["h"]["models"] == []
    assert by_name["h"]["placement"] == [{"node": "edge-0", "core": 0}]
    assert by_name["a"]["manifest"] == str(out / "a.manifest.json")
    [rejected] = doc["rejected"]
    assert rejected["name"] == "late" and [r["code"] for r in rejected["reasons"]] == ["AC506"]
    assert all(set(r) >= {"code", "message"} for r in rejected["reasons"])
    assert not (out / "late.manifest.json").exists()
    result = runner.invoke(app, ["verify", by_name["a"]["manifest"], "--pub", str(pair[1]), "--format", "json"])
    checked = json.loads(result.stdout)
    payload = base64.b64decode(json.loads(Path(by_name["a"]["manifest"]).read_text())["payload"])
    assert result.exit_code == 0 and checked["results"][0]["digest"] == "sha256:" + hashlib.sha256(payload).hexdigest()
    result = runner.invoke(app, ["verify", by_name["a"]["manifest"], "--format", "json"])
    assert result.exit_code == 2
