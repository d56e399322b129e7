"""Checked document data → model objects: exact nanoseconds, defaults, refs, spans, task sets."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from agentos_contracts.diagnostics import Span
from agentos_contracts.model.contract import BindingMode, DtSlo, HrtSlo, LatencyClass, SrtSlo
from agentos_contracts.model.tasks import Scheduler
from agentos_contracts.model.units import Ref, VersionRange
from agentos_contracts.validate import build

HRT = {"kind": "AgentContract", "name": "guard",
       "class": {"latency": "HRT", "slo": {"wcet_ms": 2, "period_ms": 10, "jitter_ms": 0.5}}}


# --- task sets (formerly sched.load) ---------------------------------------------------------


def test_taskset_defaults_and_exact_durations() -> None:
    data = {"name": "s", "tasks": [{"name": "a", "period_ms": 0.1, "wcet_ms": 0.000001},
                                   {"name": "b", "period_ms": 40, "wcet_ms": 9.5, "deadline_ms": 50, "jitter_ms": 1.25,
                                    "blocking_ms": 2, "priority": 3, "core": 0}]}
    ts = build.build_taskset(data, "f.yaml", span_of=lambda p: Span("f.yaml", 7 if p else 1, 1))
    a, b = ts.tasks
    assert (ts.scheduler, ts.cores, ts.file) == (Scheduler.RM, 1, "f.yaml")
    assert (a.period_ns, a.wcet_ns, a.deadline_ns, a.jitter_ns) == (100_000, 1, 100_000, 0)
    assert (b.deadline_ns, b.jitter_ns, b.blocking_ns, b.priority, b.core) == (50_000_000, 1_250_000, 2_000_000, 3, 0)
    assert a.path == "/tasks/0" and a.span == Span("f.yaml", 7, 1)
    assert (a.blocking_ns, a.priority, a.core) == (0, None, None)


def test_taskset_period_defaults_to_deadline_and_order_is_kept() -> None:
    data = {"name": "s", "scheduler": "DM", "cores": 2,
            "tasks": [{"name": "z", "deadline_ms": 3, "wcet_ms": 1, "priority": 1},
                      {"name": "a", "period_ms": 3, "wcet_ms": 1, "priority": 1}]}
    ts = build.build_taskset(data)
    # equal priorities: the fixed-priority tests break the tie by this (document) order
    assert [t.name for t in ts.tasks] == ["z", "a"]
    assert [(t.period_ns, t.deadline_ns) for t in ts.tasks] == [(3_000_000, 3_000_000)] * 2
    assert (ts.scheduler, ts.cores, ts.span, ts.tasks[0].span) == (Scheduler.DM, 2, None, None)


def test_scheduler_override() -> None:
    data = {"name": "s", "scheduler": "RM", "tasks": [{"name": "a", "period_ms": 1, "wcet_ms": 1}]}
    assert build.build_taskset(data, scheduler=Scheduler.EDF).scheduler is Scheduler.EDF


def test_hrt_contract_period_and_deadline_default_to_each_other() -> None:
    c = {"kind": "AgentContract", "name": "g", "class": {"latency": "HRT", "slo": {"wcet_ms": 1, "deadline_ms": 10}}}
    t = build.build_task(c)
    assert t is not None and (t.period_ns, t.deadline_ns) == (10_000_000, 10_000_000)
    c["class"]["slo"] = {"wcet_ms": 1, "period_ms": 20, "jitter_ms": 0.5}  # type: ignore[index]
    t = build.build_task(c)
    assert t is not None and (t.period_ns, t.deadline_ns, t.jitter_ns) == (20_000_000, 20_000_000, 500_000)
    assert build.is_hrt_contract(c)
    assert build.build_task({"name": "s", "class": {"latency": "SRT"}}) is None
    assert not build.is_hrt_contract({"kind": "Workflow", "class": {"latency": "HRT"}})


def test_task_from_data_and_from_built_contract_agree() -> None:
    from_data = build.build_task(HRT, span_of=lambda p: Span("c.yaml", 4, 3))
    contract = build.build_contract(HRT, "c.yaml")
    from_model = build.build_task(contract, name="unit-key")
    assert from_data is not None and from_model is not None
    assert (from_data.path, from_data.span, from_data.name) == ("/class/slo", Span("c.yaml", 4, 3), "guard")
    assert from_model.name == "unit-key"
    assert (from_model.period_ns, from_model.wcet_ns, from_model.deadline_ns, from_model.jitter_ns) == \
        (from_data.period_ns, from_data.wcet_ns, from_data.deadline_ns, from_data.jitter_ns) == \
        (10_000_000, 2_000_000, 10_000_000, 500_000)
    srt = build.build_contract({"name": "s", "class": {"latency": "SRT", "slo": {"turn_ms": 5}}})
    assert build.build_task(srt) is None


def test_contract_set_is_edf_on_one_core_by_default() -> None:
    ts = build.build_contracts_taskset([])
    assert (ts.name, ts.scheduler, ts.cores) == ("hrt-contracts", Scheduler.EDF, 1)


def test_reserved_task_reads_a_reservation_record() -> None:
    t = build.build_reserved_task({"wcet_ns": 3, "period_ns": 10, "deadline_ns": 9}, "g (m.json)")
    assert (t.name, t.wcet_ns, t.period_ns, t.deadline_ns, t.jitter_ns, t.blocking_ns) == ("g (m.json)", 3, 10, 9, 0, 0)


# --- contracts, platforms, workflows ----------------------------------------------------------


def test_contract_exact_units_defaults_and_refs() -> None:
    data = {
        "name": "rag", "class": {"latency": "SRT", "slo": {"onset_ms": 0.25, "jitter_p95_pct": 12.5}},
        "capabilities": ["rag.retrieve"], "security": {"consent_for": ["email.send"]},
        "compute": {"cpu": "250m", "mem": "512Mi"},
        "modelPolicy": {"allow": ["llama@>=3.1,<4", "mistral_v2"]},
        "memory": {"rag": {"top_k": 4}},
        "budgets": {"tokens": 50000, "cost_per_day": 1.1},
        "policies": ["p/rag.policy"],
        "binding": {"mode": "smooth", "must": {"placement": "edge-only"},
                    "canary": {"percent": 5, "rollback_on": {"latency_p95_ms": 1.5}}},
    }
    c = build.build_contract(data, "dir/rag.yaml")
    assert c.latency is LatencyClass.SRT and c.slo == SrtSlo(onset_ns=250_000, jitter_p95_pct=Fraction(25, 2))
    assert (c.cpu_millicores, c.mem_bytes) == (250, 512 * 2**20)
    assert c.model_allow == (Ref("llama", VersionRange(((">=", (3, 1, 0)), ("<", (4, 0, 0))))),
                             Ref("mistral", VersionRange(((">=", (2, 0, 0)), ("<", (3, 0, 0))))))
    assert c.ceiling == ("rag.retrieve", "email.send")
    assert c.budgets.tokens == 50000 and c.budgets.cost_per_day == Fraction(11, 10) and c.budgets.calls is None
    assert c.policies == (str(Path("dir") / "p/rag.policy"),)
    assert c.binding.mode is BindingMode.SMOOTH and c.binding.must.placement == ("edge",)
    assert c.binding.canary is not None and c.binding.canary.latency_p95_ns == 1_500_000
    # defaults
    assert (c.max_output_tokens, c.memory.top_k, c.memory.require_grounding) == (256, 4, False)
    assert (c.version, c.tenant, c.max_context_tokens) == (None, None, None)


def test_contract_slo_classes() -> None:
    hrt = build.build_contract({"name": "h", "class": {"latency": "HRT", "slo": {"wcet_ms": 0.000001, "period_ms": 1}}})
    assert hrt.slo == HrtSlo(wcet_ns=1, period_ns=1_000_000, deadline_ns=1_000_000)
    dt = build.build_contract({"name": "d", "class": {"latency": "DT", "slo": {"deadline_s": 1.5}}})
    assert dt.slo == DtSlo(deadline_ns=1_500_000_000) and build.build_contract(
        {"name": "m", "class": {"latency": "DT"}}).binding.mode is BindingMode.STRICT


def test_platform_exact_units_and_defaults() -> None:
    data = {"name": "lab", "nodes": [{"name": "e1", "placement": "edge", "cores": 2, "mem": "1Gi"}],
            "models": [{"name": "llama", "version": "3.1", "placement": "edge", "onset_ms_p95": 0.5,
                        "cost_per_1k_tokens": 0.002}],
            "tools": [{"name": "fetch", "version": "1", "description": "get a page", "rtt_ms_p95": 20}],
            "orchestration_overhead_ms": 0.125, "reservations": ["held/a.json"]}
    p = build.build_platform(data, "site/platform.yaml")
    (node,), (model,), (tool,) = p.nodes, p.models, p.tools
    assert (node.mem_bytes, node.scheduler, node.tags) == (2**30, "EDF", ())
    assert (model.version, model.onset_ns_p95, model.cost_per_1k_tokens) == ((3, 1, 0), 500_000, Fraction(1, 500))
    assert (model.node, model.tokens_per_s) == (None, None)
    assert (tool.version, tool.rtt_ns_p95, tool.descriptor) == ((1, 0, 0), 20_000_000,
                                                                {"name": "fetch", "description": "get a page"})
    assert p.orchestration_overhead_ns == 125_000 and p.reservations == (str(Path("site") / "held/a.json"),)


def test_workflow_edges_and_step_times_from_agents() -> None:
    data = {"name": "w", "deadline_ms": 5000, "inputs": {"q": "string"},
            "steps": [{"id": "plan", "agent": "planner", "in": {"q": "string"}, "out": {"plan": "json"}},
                      {"id": "act", "agent": "actor", "turn_ms": 2.5, "in": {"plan": "json"}, "out": {"a": "text"}},
                      {"id": "ok", "type": "HITL_approval", "timeout_s": 60, "escalate_to": "boss",
                       "policy": {"consent_for": ["email.send"]}, "in": {"a": "text"}}]}
    contracts = {"planner": {"class": {"latency": "SRT", "slo": {"turn_ms": 40}}}}
    w = build.build_workflow(data, contracts, "w.yaml")
    assert w.edges == (("act", "ok"), ("plan", "act")) and w.deadline_ns == 5_000_000_000
    assert [s.turn_ns for s in w.steps] == [40_000_000, 2_500_000, 0]
    assert w.step("ok").is_hitl and w.step("ok").consent_for == ("email.send",) and w.inputs == ("q",)
    assert build.build_workflow(data).step("plan").turn_ns is None  # no contract to read it from
