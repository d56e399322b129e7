"""Static filtering per binding mode and latency class, with the reasons' numbers."""

from __future__ import annotations

from fractions import Fraction

import copy

from agentos_contracts.binding.candidates import token_rate
from agentos_contracts.validate.build import build_contract


def codes(c) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.code for r in c.reasons]


def models(c) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{m.model.name}@{m.model.version_text}" for m in c.models]


def test_strict_resolves_the_one_version_in_range(kit) -> None:  # type: ignore[no-untyped-def]
    c = kit.candidates(kit.contract("a", binding={"mode": "strict", "must": {"model": "llm@==1.1.0"}}))
    assert c.ok and models(c) == ["llm@1.1.0"]


def test_strict_rejects_a_ref_with_several_versions(kit) -> None:  # type: ignore[no-untyped-def]
    c = kit.candidates(kit.contract("a", binding={"mode": "strict", "must": {"model": "llm"}}))
    assert codes(c) == ["AC503"]
    assert c.reasons[0].message == ("a: strict binding needs exactly one version of `llm`, the catalog has 1.0.0, 1.1.0")


def test_strict_names_each_unmet_requirement(kit) -> None:  # type: ignore[no-untyped-def]
    c = kit.candidates(kit.contract("a", binding={"mode": "strict", "must": {"model": ["gpt@>=4", "llm@>=3"], "tools": "nope"}}))
    messages = [r.message for r in c.reasons]
    assert "a: model `gpt@>=4.0.0` matches no catalog entry (no model of that name)" in messages
    assert "a: model `llm@>=3.0.0` matches no catalog entry (catalog has 1.0.0, 1.1.0)" in messages
    assert "a: tool `nope` matches no catalog entry (no tool of that name)" in messages


def test_smooth_takes_the_highest_version_and_remembers_the_previous(kit) -> None:  # type: ignore[no-untyped-def]
    c = kit.candidates(kit.contract("a", binding={"mode": "smooth", "prefer": {"model": ["llm@>=1.0,<2"]}}))
    assert models(c) == ["llm@1.1.0"]
    assert c.previous == {"llm@1.1.0": "llm@1.0.0"}


def test_smooth_takes_the_highest_compatible_version(kit) -> None:  # type: ignore[no-untyped-def]
    data = copy.deepcopy(kit.BASE)
    data["models"][1]["onset_ms_p95"] = 400  # llm 1.1.0 now misses onset_ms 300
    c = kit.candidates(kit.contract("a", binding={"mode": "smooth", "prefer": {"model": ["llm"]}}), kit.platform(models=data["models"]))
    assert models(c) == ["llm@1.0.0"]


def test_flexible_offers_every_prefer_option_ranked(kit) -> None:  # type: ignore[no-untyped-def]
    c = kit.candidates(kit.contract("a", binding={"mode": "flexible", "prefer": {"model": ["llm", "cheap"]}}))
    assert models(c) == ["llm@1.1.0", "cheap@1.0.0"]
    assert [m.rank for m in c.models] == [0, 1]


def test_smooth_uses_only_the_first_prefer_option_that_resolves(kit) -> None:  # type: ignore[no-untyped-def]
    c = kit.candidates(kit.contract("a", binding={"mode": "smooth", "prefer": {"model": ["gone", "cheap", "llm"]}}))
    assert models(c) == ["cheap@1.0.0"]


def test_placement_must_filters_models_tools_and_nodes(kit) -> None:  # type: ignore[no-untyped-def]
    c = kit.candidates(kit.contract("a", binding={"mode": "flexible", "must": {"placement": ["on-prem", "edge"]},
                                          "prefer": {"model": ["cheap", "llm"]}}))
    assert models(c) == ["llm@1.1.0"]
    assert [o.tool.placement for o in c.tools[0].options] == ["on-prem", "edge"]
    c = kit.candidates(kit.contract("b", binding={"mode": "smooth", "must": {"placement": ["edge"]}, "prefer": {"model": ["llm"]}}))
    assert codes(c) == ["AC504", "AC504"]
    assert c.reasons[0].message == "b: model `llm@1.1.0 (prem-a)` is on-prem, outside must placement [edge]"


def test_model_outside_allow_is_rejected(kit) -> None:  # type: ignore[no-untyped-def]
    c = kit.candidates(kit.contract("a", modelPolicy={"allow": ["llm"]}, binding={"mode": "smooth", "must": {"model": ["cheap"]}}))
    assert c.reasons[0].message == "a: model `cheap@1.0.0 (cloud)` is not in `modelPolicy.allow`"


def test_preferred_model_outside_allow_falls_back_to_allow(kit) -> None:  # type: ignore[no-untyped-def]
    c = kit.candidates(kit.contract("a", modelPolicy={"allow": ["llm"]}, binding={"mode": "smooth", "prefer": {"model": ["cheap"]}}))
    assert c.ok and [m.model.ident for m in c.models] == ["llm@1.1.0#prem-a"]


def test_srt_onset_and_turn_are_checked_with_the_numbers(kit) -> None:  # type: ignore[no-untyped-def]
    c = kit.candidates(kit.contract("a", **{"class": {"latency": "SRT", "slo": {"onset_ms": 85, "turn_ms": 2000}}},
                            modelPolicy={"allow": ["llm@==1.1.0"]}))
    assert c.reasons[0].message == ("a: onset 90 ms (model `llm@1.1.0 (prem-a)` onset_ms_p95 80 + orchestration "
                                    "overhead 10) > onset_ms 85")
    c = kit.candidates(kit.contract("a", **{"class": {"latency": "SRT", "slo": {"onset_ms": 300, "turn_ms": 1000}}},
                            modelPolicy={"allow": ["llm@==1.1.0"], "max_output_tokens": 256}))
    # 90 onset + 1 ms (fastest notes.read) + 256 tokens at 250/s = 1024 ms
    assert c.reasons[0].message == ("a: turn 1115 ms (onset 90 + tools 1 + 256 output tokens at 250/s 1024 with "
                                    "model `llm@1.1.0` (prem-a)) > turn_ms 1000")


def test_srt_turn_boundary_is_exact(kit) -> None:  # type: ignore[no-untyped-def]
    # 90 + 1 + 1000·250/250 = 1091 ms exactly: equal to turn_ms is admitted
    ok = kit.candidates(kit.contract("a", **{"class": {"latency": "SRT", "slo": {"onset_ms": 300, "turn_ms": 1091}}},
                             modelPolicy={"allow": ["llm@==1.1.0"], "max_output_tokens": 250}))
    assert ok.ok
    bad = kit.candidates(kit.contract("a", **{"class": {"latency": "SRT", "slo": {"onset_ms": 300, "turn_ms": 1090.999999}}},
                              modelPolicy={"allow": ["llm@==1.1.0"], "max_output_tokens": 250}))
    assert codes(bad) == ["AC507"]


def test_dt_rate_covers_tokens_per_hour_and_the_deadline(kit) -> None:  # type: ignore[no-untyped-def]
    def rate(**slo: object) -> tuple[object, object]:
        data = kit.contract("d", "DT", **{"class": {"latency": "DT", "slo": slo}}, budgets={"tokens": 600000})
        return token_rate(build_contract(data, "c.yaml"))

    assert rate(tokens_per_hour=60001)[0] == Fraction(60001, 60)  # exact: shares are summed before comparing
    assert rate(tokens_per_hour=60000, deadline_s=600)[0] == 60000  # 600000 tokens in 10 minutes
    data = kit.contract("d", "DT", budgets={"tokens_per_minute": 500})
    r, problem = token_rate(build_contract(data, "c.yaml"))
    assert problem is not None and problem.code == "AC508"
    assert "tokens_per_hour 60000 needs 1000 tokens/min but budgets.tokens_per_minute is 500" in problem.message


def test_dt_over_model_capacity(kit) -> None:  # type: ignore[no-untyped-def]
    c = kit.candidates(kit.contract("d", "DT", **{"class": {"latency": "DT", "slo": {"tokens_per_hour": 6000000}}},
                            modelPolicy={"allow": ["llm@==1.1.0"]}))
    assert c.reasons[0].message == "d: needs 100000 tokens/min, model `llm@1.1.0 (prem-a)` serves 60000 in all"


def test_hrt_gets_one_option_per_core_of_eligible_nodes(kit) -> None:  # type: ignore[no-untyped-def]
    c = kit.candidates(kit.contract("h", "HRT", binding={"must": {"placement": ["edge"]}}))
    assert [(o.node.name, o.core) for o in c.cores] == [("edge-a", 0), ("edge-b", 0)]
    assert c.task is not None and c.cpu_mc == 100  # 1 ms every 10 ms: 100 millicores


def test_hrt_that_fails_alone_is_rejected(kit) -> None:  # type: ignore[no-untyped-def]
    c = kit.candidates(kit.contract("h", "HRT", **{"class": {"latency": "HRT", "slo": {"wcet_ms": 4, "period_ms": 10,
                                                                              "deadline_ms": 5, "jitter_ms": 2}}}))
    assert codes(c) == ["AC511", "AC511"]  # one per scheduler among the eligible nodes (RM edge, EDF on-prem)
    assert c.reasons[0].message == ("h: misses its deadline even alone on an empty RM core: response time 6 ms > "
                                    "deadline 5 ms")
    assert c.reasons[1].message == ("h: misses its deadline even alone on an empty EDF core: processor demand 4 ms > "
                                    "the 3 ms interval")


def test_node_too_small_for_compute(kit) -> None:  # type: ignore[no-untyped-def]
    c = kit.candidates(kit.contract("big", "DT", compute={"cpu": "9", "mem": "1GiB"}, modelPolicy={"allow": ["cheap"]}))
    assert c.reasons[0].message == ("big: needs 9000m CPU and 1GiB memory; the largest eligible node `prem-a` has "
                                    "8000m and 32GiB")
