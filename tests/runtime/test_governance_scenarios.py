"""The four escapes of a governed agent, each shut: through `agentos admit`/`validate` and through `Runtime`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentos_contracts.cli import app
from agentos_contracts.runtime.logstore import iter_records, read_log
from agentos_contracts.runtime.engine import PolicyDenied, Runtime
from agentos_contracts.runtime.model_calls import ToolResultRejected

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "governance"
runner = CliRunner()


def _admit(tmp: Path, contract: str) -> tuple[int, dict[str, Any]]:
    for name in ("platform.yaml", "tenant.policy", "own.policy"):
        shutil.copy(FIX / name, tmp / name)
    (tmp / "agent.yaml").write_text(contract)
    result = runner.invoke(app, ["admit", str(tmp / "agent.yaml"), "--platform", str(tmp / "platform.yaml"),
                                 "--unsigned", "-o", str(tmp / "out"), "--format", "json"])
    text = result.stdout
    return result.exit_code, json.loads(text[text.index("{"):])


def _codes(doc: dict[str, Any]) -> set[str]:
    """Rejection reasons, and errors validation found first (it runs the same layering rules)."""
    return {r["code"] for rej in doc["rejected"] for r in rej["reasons"]} | {
        d["code"] for d in doc["diagnostics"] if d["severity"] == "error"}


@pytest.fixture()
def shopper(tmp_path: Path) -> Path:
    code, doc = _admit(tmp_path, (FIX / "agent.yaml").read_text())
    assert code == 0, doc
    assert [d["code"] for d in doc["diagnostics"]] == ["AC538"]  # the contract's 999 lost to the tenant's 30
    return Path(doc["admitted"][0]["manifest"])


def _records(log: Path) -> list[dict[str, Any]]:
    return list(iter_records(read_log(log)))


def test_tenant_deny_consent_and_budget_survive_the_contract(shopper: Path, tmp_path: Path) -> None:
    predicate = json.loads(__import__("base64").b64decode(json.loads(shopper.read_text())["payload"]))["predicate"]
    assert predicate["budgets"]["cost_per_day"] == 30
    assert predicate["consentFor"] == ["payment.charge"]
    assert predicate["provenance"]["/policies"] == ["tenant", "contract"]
    with Runtime.load(shopper, audit=tmp_path / "a.db", allow_unsigned=True) as rt:
        fetch = rt.authorize("web.fetch", None, {"url": "https://x"})
        assert fetch.effect == "deny"  # the tenant's DENY holds although the contract's policy allows it
        assert rt.authorize("payment.charge", None, {"amount": 999999}).effect == "consent"


def test_contract_cannot_grant_itself_a_capability_or_loosen_its_mode(tmp_path: Path) -> None:
    text = (FIX / "agent.yaml").read_text()
    code, doc = _admit(tmp_path, text.replace("notes.remember]", "notes.remember, fs.write]"))
    assert code == 1 and "AC536" in _codes(doc)
    assert any("`fs.write`, which the tenant layer does not allow" in d["message"] for d in doc["diagnostics"])
    code, doc = _admit(tmp_path, text.replace("binding: {mode: smooth}", "binding: {mode: flexible}"))
    assert code == 1 and "AC536" in _codes(doc)
    out = runner.invoke(app, ["validate", str(tmp_path / "agent.yaml"), str(tmp_path / "platform.yaml"),
                              "--format", "json"])
    assert "AC536" in {d["code"] for d in json.loads(out.stdout)["diagnostics"]}


def test_hrt_on_a_350ms_model_is_rejected_with_the_numbers(tmp_path: Path) -> None:
    code, doc = _admit(tmp_path, """apiVersion: agentos/v0.2
kind: AgentContract
name: fast
tenant: clinic
class: {latency: HRT, slo: {deadline_ms: 10, wcet_ms: 5}}
capabilities: [web.fetch]
modelPolicy: {allow: ["cloud/70B"]}
binding: {mode: strict, must: {model: "cloud/70B"}}
""")
    messages = [r["message"] for rej in doc["rejected"] for r in rej["reasons"]]
    assert code == 1 and any("wcet_ms 5 < onset_ms_p95 350 of cloud/70B@3.1.0" in m for m in messages), messages
    assert any("wcet_ms 5 < rtt_ms_p95 180 of web.fetch@1.0.0" in m for m in messages), messages


def test_uncatalogued_action_and_shared_namespace_are_rejected(tmp_path: Path) -> None:
    text = (FIX / "agent.yaml").read_text()
    code, doc = _admit(tmp_path, text.replace("tenant: shop\n", "tenant: clinic\n")
                       .replace("notes.remember]", "notes.remember, calendar.addEvent]"))
    assert code == 1 and "AC540" in _codes(doc)


def test_oversize_model_call_foreign_namespace_and_bad_result_are_denied_and_audited(shopper: Path,
                                                                                     tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    ran: list[str] = []
    with Runtime.load(shopper, audit=log, allow_unsigned=True) as rt:
        with pytest.raises(PolicyDenied, match="max_context_tokens 1000"):
            rt.call_model("small", 1001, 10, lambda: ran.append("model"))
        with pytest.raises(PolicyDenied, match="max_output_tokens 100"):
            rt.call_model("small", 10, 101, lambda: ran.append("model"))
        assert rt.call_model("small", 1000, 100, lambda: "ok") == "ok"
        with pytest.raises(PolicyDenied, match="another memory namespace"):
            rt.call("notes.remember", {"ns": "city-planning", "text": "t"}, lambda **a: ran.append("mem"))
        seen: list[dict[str, Any]] = []
        rt.call("notes.remember", {"text": "t"}, lambda **a: seen.append(a))
        assert seen == [{"text": "t", "ns": "shop-notes"}]  # the sealed namespace, forced
        rt.gate.approver = lambda request: True  # type: ignore[assignment]
    assert ran == []
    types = [r["type"] for r in _records(log)]
    assert types.count("model.denied") == 2 and "model.completed" in types
    assert any(r["type"] == "tool.denied" and r.get("stage") == "memory" for r in _records(log))


def test_bad_tool_result_is_withheld_and_audited(shopper: Path, tmp_path: Path) -> None:
    log = tmp_path / "b.db"
    with Runtime.load(shopper, audit=log, allow_unsigned=True, approver=lambda request: True) as rt:
        with pytest.raises(ToolResultRejected, match="outputSchema at `/` .`required`."):
            rt.call("payment.charge", {"amount": 5}, lambda **a: {"structuredContent": {"paid": True}})
        ok = rt.call("payment.charge", {"amount": 5}, lambda **a: {"structuredContent": {"receipt": "r1"}})
        assert ok["structuredContent"]["receipt"] == "r1"
    assert any(r.get("outcome") == "withheld" for r in _records(log))


def test_memory_namespace_belongs_to_one_tenant(tmp_path: Path) -> None:
    text = (FIX / "agent.yaml").read_text().replace("policies: [own.policy]\n", "memory: {namespace: shop-notes}\n")
    _admit(tmp_path, text)
    other = text.replace("name: shopper", "name: intruder").replace("tenant: shop\n", "tenant: clinic\n") \
        .replace("capabilities: [web.fetch, payment.charge, notes.remember]", "capabilities: [web.fetch]") \

    (tmp_path / "intruder.yaml").write_text(other)
    out = runner.invoke(app, ["validate", str(tmp_path / "agent.yaml"), str(tmp_path / "intruder.yaml"),
                              "--format", "json"])
    assert "AC151" in {d["code"] for d in json.loads(out.stdout)["diagnostics"]}


def test_audit_keeps_only_log_fields_as_values_and_prune_keeps_the_chain(shopper: Path, tmp_path: Path) -> None:
    log = tmp_path / "c.db"
    clock = iter(range(1_700_000_000_000_000_000, 1_800_000_000_000_000_000, 86_400_000_000_000))  # a day a tick
    with Runtime.load(shopper, audit=log, allow_unsigned=True, retain_args=True, clock=lambda: next(clock)) as rt:
        rt.call("notes.remember", {"text": "secret diagnosis"}, lambda **a: None)
    stored = read_log(log)
    kept = [json.loads(v) for v in stored.retained_args.values()]
    assert {"ns": "shop-notes", "text": {"sha256": kept[0]["text"]["sha256"]}} in kept
    assert "secret diagnosis" not in json.dumps(kept)
    early = runner.invoke(app, ["audit", "prune", str(log), "--before", "2000-01-01", "--format", "json"])
    assert json.loads(early.stdout)["pruned"] == 0 and read_log(log).retained_args  # newer values stay
    out = runner.invoke(app, ["audit", "prune", str(log), "--before", "2030-01-01", "--format", "json"])
    assert out.exit_code == 0 and json.loads(out.stdout)["pruned"] >= 1
    assert read_log(log).retained_args == {}
    verified = runner.invoke(app, ["audit", "verify", str(log), "--format", "json"])
    assert verified.exit_code == 0 and json.loads(verified.stdout)["ok"] is True
    bad = runner.invoke(app, ["audit", "prune", str(log), "--before", "someday", "--format", "json"])
    assert bad.exit_code == 2 and json.loads(bad.stdout)["diagnostics"][0]["code"] == "AC901"


def test_step_output_of_the_wrong_declared_type_fails_the_step(sealer: Any, tmp_path: Path) -> None:
    from agentos_contracts.model.manifest import WorkflowPlan, WorkflowStep
    from agentos_contracts.runtime.journal import Journal
    from agentos_contracts.runtime.workflow import run_workflow

    plan = WorkflowPlan(steps=(WorkflowStep(id="write", agent="writer", out={"path": "string", "tags": ["string"]}),))
    manifest = sealer.seal(file="wf", kind="Workflow", name="wf", workflow=plan)
    log = tmp_path / "wf.db"
    for returned, ok in (({"path": 5, "tags": []}, False), ({"path": "a", "tags": ["x", 1]}, False),
                         ({"tags": []}, False), ({"path": "a", "tags": ["x"], "extra": 1}, True)):
        with Runtime.load(manifest, sealer.pub, audit=log, tools=[]) as rt, Journal.open(tmp_path / "j.db") as j:
            report = run_workflow(rt, {"write": lambda inputs, ctx, r=returned: r}, {}, j)
        (tmp_path / "j.db").unlink()
        assert report.ok is ok, (returned, report)
    failures = [r for r in _records(log) if r["type"] == "step.failed"]
    assert len(failures) == 3 and "`path` that is not a string (string)" in failures[0]["reason"]


def test_workflow_model_calls_use_their_steps_limits_and_need_a_step(sealer: Any, tmp_path: Path) -> None:
    from agentos_contracts.model.manifest import WorkflowPlan, WorkflowStep

    plan = WorkflowPlan(steps=(
        WorkflowStep(id="a", agent="small-agent", model_policy={"maxContextTokens": 100, "maxOutputTokens": 10}),
        WorkflowStep(id="b", agent="big-agent", model_policy={"maxContextTokens": 5000, "maxOutputTokens": 10})))
    manifest = sealer.seal(file="wf2", kind="Workflow", name="wf2", workflow=plan)
    log = tmp_path / "m.db"
    with Runtime.load(manifest, sealer.pub, audit=log, tools=[]) as rt:
        assert rt.call_model("any", 4000, 10, lambda: "ok", step="b") == "ok"
        with pytest.raises(PolicyDenied, match="max_context_tokens 100"):
            rt.call_model("any", 4000, 10, lambda: "ran", step="a")
        with pytest.raises(PolicyDenied, match="must name its step"):
            rt.call_model("any", 1, 1, lambda: "ran")
    denied = [r for r in _records(log) if r["type"] == "model.denied"]
    assert [r.get("step") for r in denied] == ["a", None]


def test_a_namespace_admitted_before_for_another_tenant_is_rejected(shopper: Path, tmp_path: Path) -> None:
    intruder = (FIX / "agent.yaml").read_text().replace("name: shopper", "name: intruder") \
        .replace("tenant: shop\n", "tenant: clinic\n").replace("policies: [own.policy]\n", "") \
        .replace("capabilities: [web.fetch, payment.charge, notes.remember]", "capabilities: [web.fetch]") \
        .replace("budgets: {cost_per_day: 999}\n", "memory: {namespace: shop-notes}\n")
    (tmp_path / "intruder.yaml").write_text(intruder)
    out = runner.invoke(app, ["admit", str(tmp_path / "intruder.yaml"), "--platform", str(FIX / "platform.yaml"),
                              "--existing", str(shopper.parent), "--existing-unsigned", "--dry-run",
                              "--format", "json"])
    doc = json.loads(out.stdout[out.stdout.index("{"):])
    [reason] = [r for rej in doc["rejected"] for r in rej["reasons"]]
    assert out.exit_code == 1 and reason["code"] == "AC541"
    assert reason["message"] == ("intruder: memory namespace `shop-notes` is also used by `shopper (admitted before)` "
                                 "of tenant `shop`")


def test_a_decorated_memory_tool_must_name_the_sealed_namespace(shopper: Path, tmp_path: Path) -> None:
    with Runtime.load(shopper, audit=tmp_path / "d.db", allow_unsigned=True) as rt:
        @rt.tool("notes.remember")
        def remember(text: str, ns: str | None = None) -> str:
            return f"{ns}:{text}"

        with pytest.raises(PolicyDenied, match="must name the sealed namespace|another memory namespace"):
            remember("t")  # the decorator cannot rewrite arguments: ns=None is another namespace
        assert remember("t", ns="shop-notes") == "shop-notes:t"


def test_replay_re_decides_memory_denials(shopper: Path, tmp_path: Path) -> None:
    from agentos_contracts.runtime.manifest import load_manifest
    from agentos_contracts.runtime.replay import replay

    log = tmp_path / "r.db"
    with Runtime.load(shopper, audit=log, allow_unsigned=True, retain_args=True) as rt:
        with pytest.raises(PolicyDenied):
            rt.call("notes.remember", {"ns": "other"}, lambda **a: None)  # only log_fields: replayable
        rt.call("notes.remember", {}, lambda **a: None)
    report = replay(log, load_manifest(shopper, [], allow_unsigned=True))
    assert report.ok and report.replayed == 2 and report.same == 2, report


def test_the_routed_model_call_applies_the_sealed_limits_first(shopper: Path, tmp_path: Path) -> None:
    log = tmp_path / "routed.db"
    with Runtime.load(shopper, audit=log, allow_unsigned=True) as rt:
        with pytest.raises(PolicyDenied, match="max_context_tokens 1000"):
            with rt.model_call({"q": 1}, input_tokens=5000, max_output_tokens=10):
                pytest.fail("the call ran")
        with rt.model_call({"q": 2}, input_tokens=10, max_output_tokens=10) as m:
            assert m.model.startswith("small")
        assert rt.authorize_model(None, 10, 1000).effect == "deny"
    assert [r["type"] for r in _records(log) if r["type"].startswith("model.")] == [
        "model.denied", "model.allowed", "model.denied"]


def test_prune_never_runs_while_a_runtime_writes_the_log(shopper: Path, tmp_path: Path) -> None:
    log = tmp_path / "busy.db"
    with Runtime.load(shopper, audit=log, allow_unsigned=True, retain_args=True) as rt:
        rt.call("notes.remember", {}, lambda **a: None)
        out = runner.invoke(app, ["audit", "prune", str(log), "--before", "2999-01-01", "--format", "json"])
        assert out.exit_code == 2 and json.loads(out.stdout)["diagnostics"][0]["code"] == "AC716"
    assert read_log(log).retained_args  # nothing was dropped
