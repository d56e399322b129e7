"""Admission end to end (library): every binding mode and latency class, fleet vs one by one,
reservations, determinism, and the manifests the runtime will load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from agentos_contracts.admit import AdmitOptions, AdmitResult, admit
from agentos_contracts.seal import keys
from agentos_contracts.seal.manifest import verify_manifest

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "admit"
PLATFORM = str(FIX / "platform.yaml")
INVALID = sorted((FIX / "invalid").glob("*.yaml"))
VALID = sorted((FIX / "valid").glob("*.yaml"))


@pytest.fixture(scope="module")
def key() -> keys.PrivateKey:
    return keys.generate_private_key()


def run(*paths: str | Path, platform: str = PLATFORM, **options: object) -> AdmitResult:
    return admit([str(p) for p in paths], platform, AdmitOptions(**options))  # type: ignore[arg-type]


def reasons(result: AdmitResult) -> list[str]:
    return [r.code for x in result.rejected for r in x.reasons]


def predicate(result: AdmitResult, name: str) -> dict:  # type: ignore[type-arg]
    return next(a.predicate for a in result.admitted if a.name == name)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_each_rejection_code_has_a_fixture_that_triggers_it(path: Path) -> None:
    result = run(path, seal=False)
    assert not any(d.is_error for d in result.diagnostics), result.diagnostics
    code = path.stem.split("-")[0]
    assert code in reasons(result)
    assert not result.ok


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_fixtures_are_admitted_and_sealed(path: Path, key: keys.PrivateKey) -> None:
    result = run(path, key=key)
    assert not result.rejected and result.ok
    for a in result.admitted:
        assert a.envelope is not None
        check = verify_manifest(a.envelope, [key.public_key()])
        assert check.ok, check.errors
        assert check.predicate == json.loads(json.dumps(a.predicate))


def test_strict_hrt_manifest_carries_the_exact_evidence() -> None:
    p = predicate(run(FIX / "valid" / "strict-hrt.yaml", seal=False), "stopper")
    assert p["resolved"]["models"] == [{"name": "tiny", "version": "1.0.0", "ref": "tiny", "placement": "edge", "node": "edge-a"}]
    assert p["resolved"]["placement"] == [{"node": "edge-a", "core": 0}]
    assert p["schedulability"] == {"scheduler": "RM", "node": "edge-a", "core": 0, "responseTimeMs": 1.5, "deadlineMs": 10,
                                   "utilization": 0.1, "utilizationExact": "1/10", "slackMs": 8.5}
    assert p["provenance"]["/binding/must/placement"] == "tenant"  # robotics requires edge; the contract agrees
    assert p["requested"]["reservation"]["task"] == {"wcet_ns": 1000000, "period_ns": 10000000,
                                                     "deadline_ns": 10000000, "jitter_ns": 500000, "blocking_ns": 0}


def test_smooth_records_previous_version_canary_and_rollback() -> None:
    p = predicate(run(FIX / "valid" / "smooth-srt.yaml", seal=False), "notes-assistant")
    assert p["resolved"]["models"][0]["version"] == "1.1.0"
    assert p["canary"] == {"percent": 10, "rollbackOn": {"latency_p95_ms": 800, "error_rate_pct": 2},
                           "previous": {"llm": "llm@1.0.0"}}


def test_flexible_minimises_cost_and_records_fallbacks_without_applying_them() -> None:
    result = run(FIX / "valid" / "flexible-srt.yaml", seal=False)
    p = predicate(result, "searcher")
    assert [m["name"] for m in p["resolved"]["models"]] == ["cheap"]
    assert p["fallbacks"] == [{"when": "cloud_down", "substitute": {
        "model": "llm@1.1.0", "modelPlacement": "on-prem", "node": "prem-a", "redact": False}}]
    latency = run(FIX / "valid" / "flexible-srt.yaml", seal=False, optimize="latency")
    assert latency.admitted[0].evidence["turn_ms"] <= result.admitted[0].evidence["turn_ms"]


def test_dt_reserves_and_enforces_its_token_rate() -> None:
    p = predicate(run(FIX / "valid" / "dt.yaml", seal=False), "indexer")
    assert p["budgets"]["tokens_per_minute"] == 10000  # 600000 tokens/hour
    assert p["provenance"]["/budgets/tokens_per_minute"] == "admission"
    assert p["requested"]["reservation"]["tokens_per_min"] == 10000


def test_workflow_manifest_carries_steps_consent_and_per_step_reservations() -> None:
    result = run(FIX / "valid" / "workflow.yaml", seal=False)
    p = predicate(result, "lookup")
    assert p["kind"] == "Workflow" and p["latencyClass"] is None
    assert p["workflow"]["steps"][2] == {"id": "approve", "agent": None, "capabilities": ["notes.write"],
                                         "consentFor": ["notes.write"], "timeoutS": 600,
                                         "escalateTo": "supervisor", "dependsOn": ["read"]}
    # each agent step keeps its own agent's ceiling, not the workflow's union
    assert [(s["id"], s["capabilities"], s["consentFor"]) for s in p["workflow"]["steps"][:2]] == [
        ("find", ["search"], []), ("read", ["notes.read"], [])]
    assert "notes.write" in p["consentFor"]
    assert set(p["requested"]["steps"]) == {"find", "read"}
    assert p["requested"]["steps"]["find"]["reservation"]["models"][0]["name"] == "cheap"


def test_each_step_keeps_its_own_ceiling_and_its_agents_consent() -> None:
    p = predicate(run(FIX / "valid" / "workflow-step-ceilings.yaml", seal=False), "tidy")
    # the override narrows tidy-cleaner and lists its own consent; the tenant's notes.delete stays in the step
    assert [(s["id"], s["capabilities"], s["consentFor"]) for s in p["workflow"]["steps"]] == [
        ("find", ["search"], []), ("clean", ["notes.read", "notes.delete"], ["notes.write", "notes.delete"])]
    assert p["capabilities"] == ["search", "notes.read", "notes.delete"] and p["consentFor"] == ["notes.write"]


def test_fallback_that_breaks_a_must_is_dropped_with_a_warning() -> None:
    result = run(ROOT / "contracts" / "speech-copilot.yaml", platform=str(ROOT / "contracts/platforms/city-edge.yaml"),
                 seal=False)
    p = predicate(result, "speech-copilot")
    assert [f["when"] for f in p["fallbacks"]] == ["bandwidth_low"]
    [warning] = [d for d in result.diagnostics if d.code == "AC530"]
    assert warning.message == ("speech-copilot: fallback `context_exceeds_local` is not recorded: model "
                               "`llm_cloud_70B@1.0.0 (cloud)` is cloud, outside must placement [on-prem, edge]")
    assert warning.line > 1 and warning.path == "/binding/allow_fallbacks/1"


def test_examples_are_all_admitted_and_verify(key: keys.PrivateKey) -> None:
    result = run(ROOT / "contracts", platform=str(ROOT / "contracts/platforms/city-edge.yaml"), key=key)
    assert not result.rejected
    assert {a.name for a in result.admitted} == {
        "browser-agent", "doc-rag-planner", "doc-rag-planner-hrt", "overnight-indexer", "planner",
        "safety-kill-switch", "speech-copilot", "city_permit_assistant"}
    for a in result.admitted:
        assert verify_manifest(a.envelope or b"", [key.public_key()]).ok


def test_no_solution_in_time_admits_only_what_a_greedy_placement_proves() -> None:
    # a time limit of 0 stops HiGHS before it has any solution (a trivial model may still be solved
    # outright in presolve: that optimum would be real, so these tests use the whole fixture set)
    result = run(FIX / "valid", seal=False, time_limit=0.0)
    assert result.solver["status"] == "unknown"
    # the fixtures fit easily: a greedy placement, re-checked exactly, admits every one of them
    assert {a.name for a in result.admitted} == {a.name for a in run(FIX / "valid", seal=False).admitted}
    assert any(d.code == "AC531" and "placed greedily" in d.message for d in result.diagnostics)


def test_what_greedy_placement_cannot_place_stays_unknown_with_the_reason() -> None:
    bound = FIX / "invalid" / "AC509-token-capacity.yaml"  # two batch agents; the second finds no tokens left
    exact = run(FIX / "valid", bound, seal=False)
    assert [r.verdict for r in exact.rejected] == ["rejected"]  # one of the two batch agents
    result = run(FIX / "valid", bound, seal=False, time_limit=0.0)
    assert result.solver["status"] == "unknown"
    assert len(result.admitted) == len(exact.admitted)
    assert [(r.name, r.verdict) for r in result.rejected] in ([("batch-first", "unknown")], [("batch-second", "unknown")])
    undecided = result.rejected
    assert all(x.code == "AC512" and "HiGHS stopped without a solution (time limit reached)" in x.message
               for r in undecided for x in r.reasons)


def test_same_inputs_and_key_give_identical_bytes(key: keys.PrivateKey) -> None:
    paths = [ROOT / "contracts"]
    platform = str(ROOT / "contracts/platforms/city-edge.yaml")
    one = run(*paths, platform=platform, key=key, issued_at="2025-01-01T00:00:00Z", sequence=3)
    two = run(*paths, platform=platform, key=key, issued_at="2025-01-01T00:00:00Z", sequence=3)
    assert [a.envelope for a in one.admitted] == [a.envelope for a in two.admitted]
    assert one.admitted[0].predicate["issuedAt"] == "2025-01-01T00:00:00Z"


def _bindings(result: AdmitResult) -> dict[str, tuple[str, ...]]:
    return {a.name: a.models for a in result.admitted}


@pytest.mark.parametrize("files", [VALID, [FIX / "invalid" / "AC509-token-capacity.yaml"]],
                         ids=["valid-fixtures", "capacity-bound"])
def test_one_by_one_with_reservations_agrees_with_all_at_once(tmp_path: Path, key: keys.PrivateKey,
                                                              files: list[Path]) -> None:
    together = run(*files, key=key)
    # one document at a time, each run counting the manifests written before it
    split = tmp_path / "split"
    split.mkdir()
    for i, f in enumerate(files):
        for j, doc in enumerate(f.read_text().split("\n---\n")):
            (split / f"{i:02d}-{j}.yaml").write_text(doc)
    out = tmp_path / "manifests"
    out.mkdir()
    admitted: dict[str, tuple[str, ...]] = {}
    rejected: set[str] = set()
    singles = [p for p in sorted(split.glob("*.yaml")) if "kind: Workflow" not in p.read_text()]
    flows = [p for p in sorted(split.glob("*.yaml")) if "kind: Workflow" in p.read_text()]
    for p in singles + flows:
        paths = [p] + (singles if p in flows else [])  # a workflow needs its agents' contracts to validate
        step = run(p, *[q for q in paths if q != p], key=key, existing=(str(out),), trusted_keys=(key.public_key(),))
        for a in step.admitted:
            if a.name in admitted:
                continue  # an agent contract passed along with its workflow: admitted in its own turn
            admitted[a.name] = a.models
            (out / f"{a.name}.manifest.json").write_bytes(a.envelope or b"")
        rejected |= {r.name for r in step.rejected if r.name not in admitted}
    assert admitted == _bindings(together)
    assert rejected == {r.name for r in together.rejected}


def test_platform_reservations_count_as_taken(tmp_path: Path, key: keys.PrivateKey) -> None:
    docs = (FIX / "invalid" / "AC509-token-capacity.yaml").read_text().split("\n---\n")
    (tmp_path / "first.yaml").write_text(docs[0])
    (tmp_path / "second.yaml").write_text(docs[1])
    first = run(tmp_path / "first.yaml", key=key)
    (tmp_path / "first.manifest.json").write_bytes(first.admitted[0].envelope or b"")
    plat = tmp_path / "platform.yaml"
    plat.write_text(Path(PLATFORM).read_text() + "reservations: [first.manifest.json]\n")
    second = run(tmp_path / "second.yaml", platform=str(plat), seal=False, trusted_keys=(key.public_key(),))
    assert [r.message for x in second.rejected for r in x.reasons] == [
        "batch-second: model `llm@1.1.0 (prem-a)`: needs 20000 tokens/min, 10000 free of 60000 (taken by `batch-first`)"]
    # re-admitting the holder itself replaces its reservation instead of counting it twice
    again = run(tmp_path / "first.yaml", platform=str(plat), seal=False, trusted_keys=(key.public_key(),))
    assert [a.name for a in again.admitted] == ["batch-first"]
    assert [d.code for d in again.diagnostics if d.code == "AC534"] == ["AC534"]


def test_untrusted_or_unsigned_reservations_stop_admission(tmp_path: Path, key: keys.PrivateKey) -> None:
    sealed = run(FIX / "valid" / "dt.yaml", key=None)
    (tmp_path / "m.manifest.json").write_bytes(sealed.admitted[0].envelope or b"")
    refused = run(FIX / "valid" / "smooth-srt.yaml", seal=False, existing=(str(tmp_path),))
    assert refused.admitted == [] and [d.code for d in refused.diagnostics if d.is_error] == ["AC518"]
    accepted = run(FIX / "valid" / "smooth-srt.yaml", seal=False, existing=(str(tmp_path),), existing_unsigned=True)
    assert [a.name for a in accepted.admitted] == ["notes-assistant"]


def test_invalid_input_stops_admission_before_binding(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: agentos/v0.2\nkind: AgentContract\nname: bad\nclass: {latency: HRT, slo: {period_ms: 10}}\n")
    result = run(bad, FIX / "valid" / "dt.yaml", seal=False)
    assert result.admitted == [] and result.rejected == []
    assert any(d.is_error and d.file == str(bad) and d.line > 1 for d in result.diagnostics)


def test_copied_contract_folder_admits_the_same(tmp_path: Path) -> None:
    copy = tmp_path / "c"
    shutil.copytree(FIX / "valid", copy)
    a = run(copy / "dt.yaml", seal=False)
    b = run(FIX / "valid" / "dt.yaml", seal=False)
    strip = lambda p: {k: v for k, v in p.items() if k != "policy"}  # noqa: E731
    assert strip(a.admitted[0].predicate) == strip(b.admitted[0].predicate)


def test_remembered_reservations_are_verified_again_once_their_bytes_change(tmp_path: Path) -> None:
    """Reservations are verified once per content: an edited manifest is read afresh and refused."""
    platform = str(ROOT / "contracts" / "platforms" / "city-edge.yaml")
    first = admit([str(ROOT / "contracts" / "planner.yaml")], platform, AdmitOptions(key=None))
    held = tmp_path / "planner.manifest.json"
    held.write_bytes(first.admitted[0].envelope or b"")
    options = AdmitOptions(seal=False, existing=(str(tmp_path),), existing_unsigned=True)
    again = [str(ROOT / "contracts" / "doc-rag-planner.yaml")]
    assert admit(again, platform, options).ok
    assert admit(again, platform, options).ok  # the second time from memory
    envelope = json.loads(held.read_bytes())
    envelope["payload"] = envelope["payload"][:-8] + "AAAAAAA="
    held.write_text(json.dumps(envelope))
    tampered = admit(again, platform, options)
    assert any(d.code == "AC518" for d in tampered.diagnostics) and not tampered.ok
