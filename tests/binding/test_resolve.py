"""The MILP + exact re-check loop: cuts, fleet sharing, objectives, solver status."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agentos_contracts.binding import hrt
from agentos_contracts.binding.candidates import build_candidates
from agentos_contracts.binding.ledger import Held, Ledger
from agentos_contracts.binding.resolve import resolve
from agentos_contracts.model.tasks import Task

MS = 1_000_000


def hrt_contract(kit, name: str, wcet: float, period: float, **slo: float):  # type: ignore[no-untyped-def]
    return kit.contract(name, "HRT", capabilities=[], **{"class": {"latency": "HRT", "slo": {
        "wcet_ms": wcet, "period_ms": period, **slo}}}, binding={"must": {"placement": ["edge"]}})


def test_utilisation_fits_but_exact_rm_fails_so_a_cut_is_needed(kit) -> None:  # type: ignore[no-untyped-def]
    # edge-a is empty; edge-b already holds (1 ms / 2 ms). New: t1 = (1 / 2), t2 = (1.5 / 3).
    # Both on edge-a: U = 1 passes the MILP's relaxation, but RM gives t2 a response time of 3.5 ms > 3.
    # The only exact answer: t1 beside the reservation on edge-b (harmonic), t2 alone on edge-a.
    plat = kit.platform()
    ledger = Ledger(platform=plat)
    held = Task(name="old", wcet_ns=1 * MS, period_ns=2 * MS, deadline_ns=2 * MS)
    assert ledger.add_held(Held(source="old.manifest.json", label="old", owner=("AgentContract", "old"),
                                node="edge-b", core=0, cpu_mc=500, task=held)) == []
    cands = [build_candidates(kit.unit(hrt_contract(kit, "t1", 1, 2), plat, 0), plat),
             build_candidates(kit.unit(hrt_contract(kit, "t2", 1.5, 3), plat, 1), plat)]
    res = resolve(cands, ledger)
    assert [o.verdict for o in res.outcomes] == ["admitted", "admitted"]
    assert res.cuts >= 1 and res.rounds >= 2
    place = {o.unit.key: (o.choice.node.name, o.choice.core) for o in res.outcomes}  # type: ignore[union-attr]
    assert place == {"t1": ("edge-b", 0), "t2": ("edge-a", 0)}
    for core, tasks in res.ledger.tasks.items():
        assert hrt.is_schedulable(tasks, "RM"), core
    assert not hrt.is_schedulable([c.task for c in cands], "RM")  # the relaxation alone would have been wrong


def test_fleet_shares_model_capacity_and_explains_with_numbers(kit) -> None:  # type: ignore[no-untyped-def]
    plat = kit.platform()
    first = kit.contract("first", "DT", **{"class": {"latency": "DT", "slo": {"tokens_per_hour": 3000000}}},
                         binding={"mode": "strict", "must": {"model": "llm@==1.1.0"}})
    second = kit.contract("second", "DT", **{"class": {"latency": "DT", "slo": {"tokens_per_hour": 1200000}}},
                          binding={"mode": "strict", "must": {"model": "llm@==1.1.0"}})
    cands = [build_candidates(kit.unit(first, plat, 0), plat), build_candidates(kit.unit(second, plat, 1), plat)]
    res = resolve(cands, Ledger(platform=plat))
    assert [o.verdict for o in res.outcomes] == ["admitted", "rejected"]
    assert [r.message for r in res.outcome("second").reasons] == [
        "second: model `llm@1.1.0 (prem-a)`: needs 20000 tokens/min, 10000 free of 60000 (taken by `first`)"]


def test_earlier_contracts_keep_capacity_when_not_everything_fits(kit) -> None:  # type: ignore[no-untyped-def]
    plat = kit.platform()
    datas = [kit.contract(n, "DT", **{"class": {"latency": "DT", "slo": {"tokens_per_hour": 1800000}}},
                          binding={"mode": "strict", "must": {"model": "llm@==1.1.0"}}) for n in ("x", "y", "z")]
    cands = [build_candidates(kit.unit(d, plat, i), plat) for i, d in enumerate(datas)]
    res = resolve(cands, Ledger(platform=plat))
    assert [o.verdict for o in res.outcomes] == ["admitted", "admitted", "rejected"]  # 30000 each, 60000 in all


def test_hrt_rejection_names_core_scheduler_and_numbers(kit) -> None:  # type: ignore[no-untyped-def]
    plat = kit.platform()
    cands = [build_candidates(kit.unit(hrt_contract(kit, f"h{i}", 6, 10), plat, i), plat) for i in range(3)]
    res = resolve(cands, Ledger(platform=plat))
    assert [o.verdict for o in res.outcomes] == ["admitted", "admitted", "rejected"]
    [r] = res.outcome("h2").reasons
    assert r.code == "AC511"
    assert r.message.startswith("h2: ")
    assert "on edge-a core 0 (RM)" in r.message
    assert "on one more free core of placement [edge]" in r.message


def test_cost_and_latency_objectives_choose_differently(kit) -> None:  # type: ignore[no-untyped-def]
    plat = kit.platform()
    data = kit.contract("f", modelPolicy={"max_output_tokens": 10},
                        binding={"mode": "flexible", "prefer": {"model": ["llm", "cheap"]}})
    pick = {}
    for objective in ("cost", "latency"):
        res = resolve([build_candidates(kit.unit(data, plat), plat)], Ledger(platform=plat), optimize=objective)
        pick[objective] = res.outcomes[0].choice.model.model.name  # type: ignore[union-attr]
    # cost: cheap (0.001 vs 0.02 per 1k); latency: llm 90 + 40 ms vs cheap 160 + 25 ms
    assert pick == {"cost": "cheap", "latency": "llm"}


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_both_solvers_give_the_same_binding(kit, solver: str) -> None:  # type: ignore[no-untyped-def]
    plat = kit.platform()
    datas = [kit.contract("a", binding={"mode": "flexible", "prefer": {"model": ["llm", "cheap"]}}),
             hrt_contract(kit, "h", 1, 10)]
    res = resolve([build_candidates(kit.unit(d, plat, i), plat) for i, d in enumerate(datas)],
                  Ledger(platform=plat), solver=solver)
    assert res.solver == solver and res.status == "optimal"
    got = [(o.unit.key, o.choice.model.model.name if o.choice.model else None, o.choice.node.name, o.choice.core)  # type: ignore[union-attr]
           for o in res.outcomes]
    assert got == [("a", "cheap", "edge-a", None), ("h", None, "edge-a", 0)]


def test_hrt_rejection_says_what_would_fit(kit) -> None:  # type: ignore[no-untyped-def]
    # both edge cores hold (3 ms / 5 ms); the guard (5.1 ms every 20 ms, deadline 10) would finish at 14.1 ms.
    # With the others unchanged it fits if its WCET is at most 4 ms (sensitivity analysis).
    plat = kit.platform()
    datas = [hrt_contract(kit, "a", 3, 5), hrt_contract(kit, "b", 3, 5), hrt_contract(kit, "guard", 5.1, 20, deadline_ms=10)]
    res = resolve([build_candidates(kit.unit(d, plat, i), plat) for i, d in enumerate(datas)], Ledger(platform=plat))
    assert [r.message for r in res.outcome("guard").reasons] == [
        "guard: response time 14.1 ms > deadline 10 ms on edge-a core 0 (RM); fits if wcet_ms ≤ 4 or on one more "
        "free core of placement [edge] (fails on all 2 eligible cores)"]


def test_solver_status_is_read_from_highs_not_from_pulp() -> None:
    import highspy
    import pulp

    from agentos_contracts.binding import milp

    class Info:
        primal_solution_status = 2

    class Fake:
        status = highspy.HighsModelStatus.kTimeLimit

        def getModelStatus(self):  # type: ignore[no-untyped-def]
            return self.status

        def getInfo(self) -> Info:
            return Info()

        def modelStatusToString(self, status) -> str:  # type: ignore[no-untyped-def]
            return "Time limit reached"

    prob = pulp.LpProblem("x")
    prob.solverModel = Fake()
    assert milp._status("highs", prob) == ("feasible", "HiGHS: time limit reached")  # PuLP would say Optimal
    Info.primal_solution_status = 0
    assert milp._status("highs", prob) == ("unknown", "HiGHS stopped without a solution (time limit reached)")
    Fake.status = highspy.HighsModelStatus.kInfeasible
    assert milp._status("highs", prob)[0] == "infeasible"


def test_a_time_limited_incumbent_is_admitted_with_a_warning(kit, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from agentos_contracts.binding import milp

    monkeypatch.setattr(milp, "_status", lambda name, prob: ("feasible", "HiGHS: time limit reached"))
    plat = kit.platform()
    res = resolve([build_candidates(kit.unit(kit.contract("a", modelPolicy={"allow": ["cheap"]}), plat), plat)],
                  Ledger(platform=plat))
    assert res.status == "feasible" and res.outcomes[0].verdict == "admitted"
    assert [w.code for w in res.warnings] == ["AC531"]
    assert "not proven cost-optimal" in res.warnings[0].message


def _brute_force_best(tasks, cores) -> int:  # type: ignore[no-untyped-def]
    """The most tasks any partition onto ``cores`` [(name, scheduler)] admits, by exhaustion."""
    import itertools

    best = 0
    for assign in itertools.product(range(len(cores) + 1), repeat=len(tasks)):  # len(cores) = not admitted
        placed = [[t for t, a in zip(tasks, assign) if a == k] for k in range(len(cores))]
        if all(not p or hrt.is_schedulable(p, cores[k][1]) for k, p in enumerate(placed)):
            best = max(best, sum(1 for a in assign if a < len(cores)))
    return best


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # kit is stateless
@example(tasks=[(2, 6), (2, 6), (2, 6), (3, 4), (3, 4)])  # three thirds fill the EDF core exactly
@given(tasks=st.lists(st.tuples(st.integers(1, 9), st.sampled_from([4, 5, 6, 10, 12, 20])), min_size=1, max_size=4))
def test_admits_as_many_as_exhaustive_search_and_every_core_is_exact(kit, tasks: list[tuple[int, int]]) -> None:  # type: ignore[no-untyped-def]
    plat = kit.platform(nodes=[
        {"name": "edge-a", "placement": "edge", "cores": 1, "scheduler": "RM"},
        {"name": "edge-b", "placement": "edge", "cores": 1, "scheduler": "RM"},
        {"name": "edge-c", "placement": "edge", "cores": 1, "scheduler": "EDF"}])
    datas = [hrt_contract(kit, f"t{i}", min(c, p - 1), p) for i, (c, p) in enumerate(tasks)]
    cands = [build_candidates(kit.unit(d, plat, i), plat) for i, d in enumerate(datas)]
    res = resolve(cands, Ledger(platform=plat))
    admitted = [o for o in res.outcomes if o.verdict == "admitted"]
    for (node, _core), on_core in res.ledger.tasks.items():
        assert hrt.is_schedulable(on_core, plat.node(node).scheduler)  # type: ignore[union-attr]
    live = [c.task for c in cands if c.ok]
    assert len(admitted) == _brute_force_best(live, [("edge-a", "RM"), ("edge-b", "RM"), ("edge-c", "EDF")])
    assert all(o.reasons for o in res.outcomes if o.verdict == "rejected")
