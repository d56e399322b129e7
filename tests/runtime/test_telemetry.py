"""Telemetry: GenAI-convention spans when OpenTelemetry is installed, cheap no-ops when it is not."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest

from agentos_contracts.runtime import PolicyDenied, Runtime
from agentos_contracts.runtime import telemetry as telemetry_


def test_without_opentelemetry_nothing_breaks(monkeypatch, sealer, tmp_path: Path) -> None:
    real_import = builtins.__import__

    def no_otel(name, *args, **kwargs):
        if name.startswith("opentelemetry"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_otel)
    monkeypatch.setattr("importlib.import_module", lambda name: no_otel(name))
    tel = telemetry_.Telemetry()
    assert not tel.active
    with tel.tool_span("web.fetch", {"a": 1}) as span:
        span.set_attribute("x", 1)
    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db", telemetry=tel) as rt:
        assert rt.call("summarize", {"text": "t"}, lambda text: "ok") == "ok"


def test_spans_follow_the_genai_conventions(sealer, tmp_path: Path, descriptors) -> None:
    pytest.importorskip("opentelemetry.sdk", reason="opentelemetry-sdk is not installed (it is optional)")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tel = telemetry_.Telemetry(provider.get_tracer("test"))
    assert tel.active
    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db", tools=descriptors, telemetry=tel) as rt:
        rt.call("web.fetch", {"host": "city.gov", "path": "/secret-path"}, lambda host, path: "<html/>")
        with pytest.raises(PolicyDenied):
            rt.call("fs.write", {"path": "/etc/passwd"}, lambda path: None)
    spans = {s.name: s for s in exporter.get_finished_spans()}
    fetch = spans["execute_tool web.fetch"]
    attrs = dict(fetch.attributes)
    assert attrs["gen_ai.operation.name"] == "execute_tool" and attrs["gen_ai.tool.name"] == "web.fetch"
    assert attrs["agentos.decision"] == "allow" and attrs["agentos.manifest.digest"] == rt.digest
    assert attrs["agentos.args.digest"].startswith("sha256:")
    assert not any("secret-path" in str(v) for v in attrs.values())  # arguments only as a digest
    denied = dict(spans["execute_tool fs.write"].attributes)
    assert denied["agentos.decision"] == "deny" and denied["agentos.rules"] == ("contract:capabilities",)


def test_workflow_steps_are_invoke_agent_spans(sealer, tmp_path: Path) -> None:
    pytest.importorskip("opentelemetry.sdk", reason="opentelemetry-sdk is not installed (it is optional)")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from agentos_contracts.model.manifest import WorkflowPlan, WorkflowStep
    from agentos_contracts.runtime.journal import Journal
    from agentos_contracts.runtime.workflow import run_workflow

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    plan = WorkflowPlan(steps=(WorkflowStep(id="plan", agent="planner", capabilities=("summarize",)),))
    manifest = sealer.seal(file="wf", kind="Workflow", name="wf", workflow=plan)
    with Runtime.load(manifest, sealer.pub, audit=tmp_path / "a.db",
                      telemetry=telemetry_.Telemetry(provider.get_tracer("t"))) as rt:
        with Journal.open(tmp_path / "j.db") as journal:
            steps = {"plan": lambda i, ctx: {"n": ctx.call("summarize", {"text": "x"}, lambda text: 1)}}
            assert run_workflow(rt, steps, {}, journal).ok
    spans = exporter.get_finished_spans()
    agent = next(s for s in spans if s.name == "invoke_agent planner")
    tool = next(s for s in spans if s.name == "execute_tool summarize")
    assert agent.attributes["agentos.step"] == "plan" and tool.parent.span_id == agent.context.span_id


def _records(path: Path) -> list[dict]:
    import json

    from agentos_contracts.runtime.logstore import read_log

    return [json.loads(r.body) for r in read_log(path).rows]


def _exporter():  # type: ignore[no-untyped-def]
    pytest.importorskip("opentelemetry.sdk", reason="opentelemetry-sdk is not installed (it is optional)")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter, telemetry_.Telemetry(provider.get_tracer("t"))


def test_every_record_carries_the_header_even_without_tracing(monkeypatch, sealer, tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    with Runtime.load(sealer.seal(tenant=None), sealer.pub, audit=log,
                      telemetry=telemetry_.Telemetry(enabled=False)) as rt:
        rt.call("summarize", {"text": "t"}, lambda text: "ok")
    records = _records(log)
    for record in records:
        assert {"schema_version", "tenant", "agent", "manifest", "event_id", "occurred_at", "trace_id",
                "span_id"} <= set(record)
        assert record["schema_version"] == 2 and record["tenant"] is None and record["trace_id"] == rt.trace_id
        assert len(record["trace_id"]) == 32 and len(record["span_id"]) == 16
    allowed, completed = (r for r in records if r["type"] in ("tool.allowed", "tool.completed"))
    started = records[0]
    assert allowed["span_id"] == completed["span_id"] != started["span_id"]  # one span per call, apart from the run


def test_spans_and_audit_records_share_trace_and_span_ids(sealer, tmp_path: Path, descriptors) -> None:
    exporter, tel = _exporter()
    log = tmp_path / "a.db"
    with Runtime.load(sealer.seal(), sealer.pub, audit=log, tools=descriptors, telemetry=tel) as rt:
        rt.call("web.fetch", {"host": "city.gov"}, lambda host, path=None: "<html/>")
        import threading

        worker = threading.Thread(target=lambda: rt.call("summarize", {"text": "t"}, lambda text: 1))
        worker.start()
        worker.join()
    spans = exporter.get_finished_spans()
    root = next(s for s in spans if s.name == "invoke_agent permit-helper")
    assert f"{root.context.trace_id:032x}" == rt.trace_id
    assert all(f"{s.context.trace_id:032x}" == rt.trace_id for s in spans)  # one trace, threads included
    by_span = {f"{s.context.span_id:016x}": s for s in spans}
    for record in _records(log):
        assert record["trace_id"] == rt.trace_id and record["span_id"] in by_span
    calls = [s for s in spans if s.name.startswith("execute_tool")]
    assert {s.parent.span_id for s in calls} == {root.context.span_id}
    fetch = next(s for s in calls if s.name == "execute_tool web.fetch")
    assert fetch.attributes["gen_ai.tool.type"] == "extension" and len(fetch.attributes["gen_ai.tool.call.id"]) == 32
    assert next(s for s in calls if s.name == "execute_tool summarize").attributes["gen_ai.tool.type"] == "function"


def test_a_given_trace_id_is_the_otel_trace(sealer, tmp_path: Path) -> None:
    exporter, tel = _exporter()
    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db", telemetry=tel,
                      trace_id="4bf92f3577b34da6a3ce929d0e0e4736") as rt:
        rt.call("summarize", {"text": "t"}, lambda text: 1)
    assert {f"{s.context.trace_id:032x}" for s in exporter.get_finished_spans()} == {"4bf92f3577b34da6a3ce929d0e0e4736"}


def test_failed_and_denied_calls_carry_error_type(sealer, tmp_path: Path) -> None:
    exporter, tel = _exporter()

    def broken(text: str) -> None:
        raise TimeoutError("upstream took too long")

    with Runtime.load(sealer.seal(), sealer.pub, audit=tmp_path / "a.db", telemetry=tel) as rt:
        with pytest.raises(TimeoutError):
            rt.call("summarize", {"text": "t"}, broken)
        with pytest.raises(PolicyDenied):
            rt.call("fs.write", {"path": "/x"}, lambda path: None)
        rt.call("summarize", {"text": "t"}, lambda text: 1)
    calls = [s for s in exporter.get_finished_spans() if s.name.startswith("execute_tool")]
    failed, denied, ok = calls
    assert failed.attributes["error.type"] == "TimeoutError" and failed.status.status_code.name == "ERROR"
    assert denied.attributes["error.type"] == "PolicyDenied" and denied.status.status_code.name == "ERROR"
    assert "error.type" not in ok.attributes and ok.status.status_code.name != "ERROR"


def test_authorize_alone_emits_a_span(sealer, tmp_path: Path) -> None:
    exporter, tel = _exporter()
    log = tmp_path / "a.db"
    with Runtime.load(sealer.seal(), sealer.pub, audit=log, telemetry=tel) as rt:
        assert rt.authorize("fs.write", {}, {"path": "/x"}).effect == "deny"
    span = next(s for s in exporter.get_finished_spans() if s.name == "authorize fs.write")
    assert span.attributes["agentos.decision"] == "deny" and span.attributes["gen_ai.tool.name"] == "fs.write"
    denied = next(r for r in _records(log) if r["type"] == "tool.denied")
    assert denied["span_id"] == f"{span.context.span_id:016x}"


def test_records_written_before_the_header_fields_still_verify(tmp_path: Path) -> None:
    from agentos_contracts.runtime.audit import AuditLog, verify

    log = tmp_path / "old.db"
    with AuditLog.open(log) as old:  # a record as the first schema wrote it: no schema_version, no span_id
        old.append({"type": "agent.started", "trace_id": "t", "agent": "a", "tenant": "x", "manifest": "sha256:0"})
    with Runtime.load(_seal_for(tmp_path), None, audit=log, allow_unsigned=True) as rt:
        rt.call("summarize", {"text": "t"}, lambda text: 1)
    report = verify(log)
    assert report.ok and report.records == 5
    first, *rest = _records(log)
    assert "schema_version" not in first and all(r["schema_version"] == 2 for r in rest)


def _seal_for(folder: Path) -> Path:
    from agentos_contracts.model.manifest import BindingManifest
    from agentos_contracts.seal.manifest import seal_manifest

    doc = BindingManifest(agentos_version="0.1.0", kind="AgentContract", name="a", capabilities=("summarize",))
    path = folder / "u.manifest.json"
    path.write_bytes(seal_manifest(doc, [("contract:x.yaml", b"x")], None))
    return path


def test_latency_histograms_and_breach_counters_are_otel_metrics(sealer, tmp_path: Path) -> None:
    pytest.importorskip("opentelemetry.sdk", reason="opentelemetry-sdk is not installed (it is optional)")
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from .watchkit import Clock, srt_manifest

    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("t")
    clock = Clock()
    tel = telemetry_.Telemetry(enabled=True, meter=meter)
    manifest = sealer.seal(**srt_manifest(breaker={"slow_call_ms": 100, "min_samples": 1, "failures": 100}))
    with Runtime.load(manifest, sealer.pub, audit=tmp_path / "a.db", clock=clock, telemetry=tel) as rt:
        rt.call("inventory.lookup", {"item": "a"}, lambda item: clock.advance(250))
    metrics = {m.name: m for rm in reader.get_metrics_data().resource_metrics for sm in rm.scope_metrics
               for m in sm.metrics}
    [duration] = metrics["agentos.runtime.duration"].data.data_points
    assert duration.sum == 250 and duration.count == 1 and duration.attributes["agentos.unit"] == "inventory.lookup"
    [breach] = metrics["agentos.runtime.slo.breaches"].data.data_points
    assert breach.value == 1 and breach.attributes["agentos.metric"] == "call"


def test_a_workflow_run_is_one_trace_with_steps_and_calls_as_children(sealer, tmp_path: Path) -> None:
    from agentos_contracts.model.manifest import WorkflowPlan, WorkflowStep
    from agentos_contracts.runtime.journal import Journal
    from agentos_contracts.runtime.workflow import run_workflow

    exporter, tel = _exporter()
    plan = WorkflowPlan(steps=(WorkflowStep(id="plan", agent="planner", capabilities=("summarize",)),
                               WorkflowStep(id="write", agent="writer", capabilities=("summarize",),
                                            depends_on=("plan",))), deadline_ms=60_000)
    log = tmp_path / "a.db"
    with Runtime.load(sealer.seal(file="wf", kind="Workflow", name="wf", workflow=plan, slo={"deadline_ms": 60_000}),
                      sealer.pub, audit=log, telemetry=tel) as rt:
        with Journal.open(tmp_path / "j.db") as journal:
            steps = {s: (lambda i, ctx: {f"n{ctx.step.id}": ctx.call("summarize", {"text": "x"}, lambda text: 1)})
                     for s in ("plan", "write")}
            assert run_workflow(rt, steps, {}, journal).ok
    spans = exporter.get_finished_spans()
    assert {f"{s.context.trace_id:032x}" for s in spans} == {rt.trace_id}
    root = next(s for s in spans if s.parent is None)
    step_spans = [s for s in spans if s.name.startswith("invoke_agent ") and s.parent is not None]
    assert {s.parent.span_id for s in step_spans} == {root.context.span_id} and len(step_spans) == 2
    calls = [s for s in spans if s.name == "execute_tool summarize"]
    assert {c.parent.span_id for c in calls} == {s.context.span_id for s in step_spans}
    completed = [r for r in _records(log) if r["type"] == "tool.completed"]
    assert {r["span_id"] for r in completed} == {f"{c.context.span_id:016x}" for c in calls}


def test_model_calls_are_chat_spans_with_the_model_actually_called(sealer, tmp_path: Path) -> None:
    from .watchkit import srt_manifest

    exporter, tel = _exporter()
    with Runtime.load(sealer.seal(**srt_manifest()), sealer.pub, audit=tmp_path / "a.db", telemetry=tel) as rt:
        with rt.model_call({"q": 1}):
            pass
        with pytest.raises(ValueError):
            with rt.model_call({"q": 2}):
                raise ValueError("bad answer")
    ok, failed = [s for s in exporter.get_finished_spans() if s.name.startswith("chat ")]
    assert ok.name == "chat llm@2.0.0" and ok.attributes["gen_ai.request.model"] == "llm@2.0.0"
    assert f"{ok.context.trace_id:032x}" == rt.trace_id and "error.type" not in ok.attributes
    assert failed.attributes["error.type"] == "ValueError" and failed.status.status_code.name == "ERROR"
