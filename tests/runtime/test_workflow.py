"""Workflows: DAG order, data flow, exactly-once across restarts, saga compensation, HITL gates."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agentos_contracts.model.manifest import Fallback, WorkflowPlan, WorkflowStep
from agentos_contracts.runtime import Runtime, audit
from agentos_contracts.runtime.journal import Journal
from agentos_contracts.runtime.logstore import iter_records, read_log
from agentos_contracts.runtime.workflow import StepImpl, StepsError, load_steps, order_steps, run_workflow

REPO = Path(__file__).resolve().parents[2]


def _plan(*steps: tuple) -> WorkflowPlan:
    out = []
    for sid, deps, *rest in steps:
        hitl = rest[0] if rest else None
        out.append(WorkflowStep(id=sid, agent=None if hitl else f"{sid}-agent", depends_on=tuple(deps),
                                consent_for=tuple(hitl.get("consent_for", ())) if hitl else (),
                                timeout_s=hitl.get("timeout_s") if hitl else None,
                                escalate_to=hitl.get("escalate_to") if hitl else None))
    return WorkflowPlan(steps=tuple(out))


def _manifest(sealer, plan: WorkflowPlan, **over) -> Path:
    return sealer.seal(file="wf", kind="Workflow", name="city_permit_assistant", workflow=plan, **over)


def _records(log: Path) -> list[dict]:
    return list(iter_records(read_log(log)))


def _run(sealer, tmp_path: Path, plan: WorkflowPlan, steps, inputs=None, approver=None, **over):
    log, jpath = tmp_path / "audit.db", tmp_path / "journal.db"
    with Runtime.load(_manifest(sealer, plan, **over), sealer.pub, audit=log, approver=approver, tools=[]) as rt:
        with Journal.open(jpath) as journal:
            return run_workflow(rt, steps, inputs or {"user_query": "deck permit"}, journal), log


def test_steps_run_in_dependency_order_with_upstream_data(sealer, tmp_path: Path) -> None:
    seen: list[tuple[str, dict]] = []

    def step(name: str, out: dict):
        def run(inputs, ctx):
            seen.append((name, dict(inputs)))
            return out
        return run

    # listed out of order on purpose: summarize needs browse, which needs plan
    plan = _plan(("summarize", ["browse"]), ("browse", ["plan"]), ("plan", []))
    steps = {"plan": step("plan", {"plan": ["a"]}), "browse": step("browse", {"pages": ["<p>"]}),
             "summarize": step("summarize", {"answer": "ok"})}
    report, log = _run(sealer, tmp_path, plan, steps)
    assert report.ok and [s.status for s in report.steps] == ["completed"] * 3
    assert [n for n, _ in seen] == ["plan", "browse", "summarize"]
    assert seen[2][1] == {"user_query": "deck permit", "plan": ["a"], "pages": ["<p>"]}
    assert report.outputs["answer"] == "ok"
    types = [r["type"] for r in _records(log)]
    assert types.count("step.started") == 3 and types[-1] == "agent.completed"
    assert audit.verify(log).ok


def test_order_rejects_cycles_and_unknown_dependencies() -> None:
    with pytest.raises(StepsError, match="cycle"):
        order_steps(_plan(("a", ["b"]), ("b", ["a"])))
    with pytest.raises(StepsError, match="unknown"):
        order_steps(_plan(("a", ["zz"])))


def test_missing_implementation_is_reported_before_anything_runs(sealer, tmp_path: Path) -> None:
    ran = []
    plan = _plan(("plan", []), ("browse", ["plan"]))
    with pytest.raises(StepsError, match="browse"):
        _run(sealer, tmp_path, plan, {"plan": lambda i, c: ran.append(1) or {}})
    assert ran == []


def test_failure_compensates_completed_steps_in_reverse_order(sealer, tmp_path: Path) -> None:
    events: list[str] = []

    def impl(name: str) -> StepImpl:
        def run(inputs, ctx):
            events.append(f"run {name}")
            if name == "d":
                raise RuntimeError("portal down")
            return {f"{name}_out": 1}

        def undo(inputs, outputs, ctx):
            events.append(f"undo {name} {sorted(outputs)}")

        return StepImpl(run, undo)

    plan = _plan(("a", []), ("b", ["a"]), ("c", ["a"]), ("d", ["b", "c"]), ("e", ["d"]))
    report, log = _run(sealer, tmp_path, plan, {k: impl(k) for k in "abcde"})
    assert not report.ok and "portal down" in report.error
    assert events == ["run a", "run b", "run c", "run d",
                      "undo c ['c_out']", "undo b ['b_out']", "undo a ['a_out']"]
    assert [(s.id, s.status) for s in report.steps] == [
        ("a", "compensated"), ("b", "compensated"), ("c", "compensated"), ("d", "failed"), ("e", "not_run")]
    recs = _records(log)
    assert [r["step"] for r in recs if r["type"] == "step.compensated"] == ["c", "b", "a"]
    assert recs[-1]["type"] == "agent.failed"
    assert audit.verify(log).ok


def test_a_failing_compensation_is_recorded_and_the_rest_still_run(sealer, tmp_path: Path) -> None:
    undone = []

    def boom(i, o, c):
        raise OSError("cannot undo")

    steps = {"a": StepImpl(lambda i, c: {}, lambda i, o, c: undone.append("a")),
             "b": StepImpl(lambda i, c: {}, boom),
             "c": lambda i, c: 1 / 0}
    report, log = _run(sealer, tmp_path, _plan(("a", []), ("b", ["a"]), ("c", ["b"])), steps)
    assert [s.status for s in report.steps] == ["compensated", "compensation_failed", "failed"]
    assert undone == ["a"]
    assert "step.compensation_failed" in [r["type"] for r in _records(log)]


def test_rerun_with_same_inputs_runs_nothing_twice(sealer, tmp_path: Path) -> None:
    calls: list[str] = []
    steps = {"a": lambda i, c: calls.append("a") or {"x": 1}, "b": lambda i, c: calls.append("b") or {"y": i["x"]}}
    plan = _plan(("a", []), ("b", ["a"]))
    first, _ = _run(sealer, tmp_path, plan, steps)
    second, log = _run(sealer, tmp_path, plan, steps)
    assert calls == ["a", "b"]
    assert [s.status for s in second.steps] == ["journaled", "journaled"] and second.outputs == {"x": 1, "y": 1}
    third, _ = _run(sealer, tmp_path, plan, steps, inputs={"user_query": "fence permit"})
    assert calls == ["a", "b", "a", "b"]  # other inputs, other key
    assert audit.verify(log).ok


def test_non_json_outputs_fail_the_step(sealer, tmp_path: Path) -> None:
    report, _ = _run(sealer, tmp_path, _plan(("a", [])), {"a": lambda i, c: {"when": object()}})
    assert not report.ok and report.steps[0].status == "failed"


_STEPS_MODULE = textwrap.dedent('''
    import os, signal
    from pathlib import Path
    MARKS = Path(os.environ["MARKS"])

    def _mark(name):
        with MARKS.open("a") as fh:
            fh.write(name + "\\n")

    def plan(inputs, ctx):
        _mark("plan")
        return {"plan": ["permits.html"]}

    def fetch(inputs, ctx):
        _mark(f"fetch attempt {ctx.attempt}")
        if os.environ.get("CRASH_IN") == "fetch":
            os.kill(os.getpid(), signal.SIGKILL)
        return {"pages": ["<p>deck</p>"]}

    def summarize(inputs, ctx):
        _mark("summarize")
        return {"answer": "deck permits need a site plan"}

    STEPS = {"plan": plan, "fetch": fetch, "summarize": summarize}
''')

_RUNNER = textwrap.dedent('''
    import sys
    from agentos_contracts.runtime import Runtime
    from agentos_contracts.runtime.journal import Journal
    from agentos_contracts.runtime.workflow import load_steps, run_workflow
    manifest, pub, log, journal = sys.argv[1:5]
    with Runtime.load(manifest, pub, audit=log) as rt, Journal.open(journal) as j:
        report = run_workflow(rt, load_steps("crash_steps:STEPS"), {"user_query": "deck"}, j)
    print(report.ok)
''')


def test_crash_between_steps_resumes_without_rerunning_completed_steps(sealer, tmp_path: Path) -> None:
    (tmp_path / "crash_steps.py").write_text(_STEPS_MODULE)
    marks = tmp_path / "marks.txt"
    plan = _plan(("plan", []), ("fetch", ["plan"]), ("summarize", ["fetch"]))
    manifest = _manifest(sealer, plan)
    log, journal = tmp_path / "audit.db", tmp_path / "journal.db"
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{REPO}", "MARKS": str(marks)}
    args = [sys.executable, "-c", _RUNNER, str(manifest), str(sealer.pub), str(log), str(journal)]
    crashed = subprocess.run(args, env={**env, "CRASH_IN": "fetch"}, capture_output=True, text=True, timeout=60)
    assert crashed.returncode == -signal.SIGKILL
    assert marks.read_text().split("\n")[:2] == ["plan", "fetch attempt 1"]
    assert audit.verify(log).ok  # the crash left a verifiable log
    resumed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert resumed.returncode == 0 and resumed.stdout.strip() == "True", resumed.stderr
    # plan ran once in all; fetch, interrupted inside, ran again (attempt 2, same idempotency key)
    assert marks.read_text().splitlines() == ["plan", "fetch attempt 1", "fetch attempt 2", "summarize"]
    types = [(r["type"], r.get("step")) for r in _records(log)]
    assert ("step.skipped", "plan") in types
    assert audit.verify(log).ok


def test_load_steps_reports_bad_references(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "good_steps.py").write_text("STEPS = {}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_steps("good_steps:STEPS") == {}
    for ref, match in (("nocolon", "module:object"), ("no_such_module_x:STEPS", "cannot import"),
                       ("good_steps:MISSING", "has no")):
        with pytest.raises(StepsError, match=match):
            load_steps(ref)


def test_hitl_step_waits_for_the_approver(sealer, tmp_path: Path) -> None:
    asked = []

    def approver(req):
        asked.append((req.action, req.step, req.escalated_to))
        return req.approve("clerk")

    plan = _plan(("summarize", []), ("approve_send", ["summarize"], {"consent_for": ["email.send"],
                                                                       "timeout_s": 5}))
    report, log = _run(sealer, tmp_path, plan, {"summarize": lambda i, c: {"answer": "ok"}}, approver=approver)
    assert report.ok and asked == [("email.send", "approve_send", None)]
    granted = [r for r in _records(log) if r["type"] == "consent.granted"]
    assert granted[0]["step"] == "approve_send" and granted[0]["approver"] == "clerk"


def test_hitl_timeout_escalates_and_refusal_compensates(sealer, tmp_path: Path) -> None:
    import threading

    never = threading.Event()
    asked = []

    def approver(req):
        asked.append(req.escalated_to)
        if req.escalated_to is None:
            never.wait(5)  # the first person never answers
        return req.refuse("supervisor", "not this one")

    undone = []
    plan = _plan(("summarize", []), ("approve_send", ["summarize"], {"consent_for": ["email.send"],
                                                                       "timeout_s": 0.05,
                                                                       "escalate_to": "supervisor"}))
    steps = {"summarize": StepImpl(lambda i, c: {"answer": "ok"}, lambda i, o, c: undone.append("summarize"))}
    report, log = _run(sealer, tmp_path, plan, steps, approver=approver)
    never.set()
    assert not report.ok and "not this one" in report.error
    assert asked == [None, "supervisor"] and undone == ["summarize"]
    types = [r["type"] for r in _records(log)]
    assert "consent.escalated" in types and "consent.denied" in types


def test_hitl_step_code_gets_consent_for_the_exact_call(sealer, tmp_path: Path, descriptors) -> None:
    approved = []
    sent = []

    def approver(req):
        approved.append(req.call_digest)
        return req.approve("clerk")

    def approve_send(inputs, ctx):
        return {"status": ctx.call("email.send", {"to": "clerk@city.gov", "body": inputs["answer"]},
                                   lambda to, body: sent.append((to, body)) or "sent")}

    plan = _plan(("summarize", []), ("approve_send", ["summarize"], {"consent_for": ["email.send"]}))
    log, jpath = tmp_path / "audit.db", tmp_path / "journal.db"
    with Runtime.load(_manifest(sealer, plan), sealer.pub, audit=log, approver=approver, tools=descriptors) as rt:
        with Journal.open(jpath) as journal:
            report = run_workflow(rt, {"summarize": lambda i, c: {"answer": "ok"}, "approve_send": approve_send},
                                  {}, journal)
    assert report.ok and sent == [("clerk@city.gov", "ok")] and len(approved) == 1
    recs = _records(log)
    assert [r["type"] for r in recs if r.get("step") == "approve_send"][:4] == [
        "step.started", "consent.required", "consent.requested", "consent.granted"]


def test_fallback_signal_from_a_step_is_audited(sealer, tmp_path: Path) -> None:
    seen = []

    def browse(inputs, ctx):
        ctx.report_signal("bandwidth_low")
        seen.append(ctx.substitutions())
        return {}

    fallbacks = (Fallback(when="bandwidth_low", substitute={"model": "asr_local", "redact": True}),)
    report, log = _run(sealer, tmp_path, _plan(("browse", [])), {"browse": browse}, fallbacks=fallbacks,
                       binding_mode="flexible")
    assert report.ok and seen == [{"model": "asr_local", "redact": True}]
    rec = [r for r in _records(log) if r["type"] == "fallback.activated"][0]
    assert rec["signal"] == "bandwidth_low" and json.dumps(rec["fallback"], sort_keys=True) == \
        '{"model": "asr_local", "redact": true}'


def test_a_contract_manifest_is_not_a_workflow(sealer, tmp_path: Path) -> None:
    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db") as rt:
        with Journal.open(tmp_path / "j.db") as journal:
            with pytest.raises(StepsError, match="not a workflow"):
                run_workflow(rt, {}, {}, journal)


def test_second_run_on_the_same_journal_is_refused(tmp_path: Path) -> None:
    from agentos_contracts.runtime.journal import JournalError

    with Journal.open(tmp_path / "j.db"):
        with pytest.raises(JournalError, match="already open"):
            Journal.open(tmp_path / "j.db")
