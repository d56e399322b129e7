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
