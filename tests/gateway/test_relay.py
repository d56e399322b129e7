"""The relay in-process (no downstream server): OpenTelemetry spans follow the GenAI and MCP conventions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from agentos_contracts.gateway.context import ContextSource
from agentos_contracts.gateway.relay import runtime_approver
from agentos_contracts.gateway.server import build_relay
from agentos_contracts.gateway.upstream import parse_upstream
from agentos_contracts.runtime import Runtime
from agentos_contracts.runtime import telemetry as telemetry_


class NoOne:
    defers = False

    async def ask(self, request: Any) -> Any:
        return request.refuse("none", "no one here")


def test_spans_name_the_tool_the_method_the_session_and_the_error(admitted: Any, kit: Any, tmp_path: Path) -> None:
    pytest.importorskip("opentelemetry.sdk", reason="opentelemetry-sdk is not installed (it is optional)")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tel = telemetry_.Telemetry(provider.get_tracer("test"))
    record = tmp_path / "received.jsonl"
    spec = parse_upstream(f"web={kit.upstream_command(record)}")
    assert not isinstance(spec, str)
    rt = Runtime.load(admitted.agent, admitted.pub, audit=tmp_path / "a.db", approver=runtime_approver,
                      telemetry=tel)
    relay = build_relay(rt, [spec], ContextSource(static={"unsafe_environment": False}), monitor=False,
                        timeout_s=30, log=lambda message: None)

    async def main() -> list[Any]:
        async with anyio.create_task_group() as tg:
            tg.start_soon(relay.upstreams["web"].supervise)
            assert await relay.upstreams["web"].wait_ready(30) is not None
            out = [await relay.call_tool("web.fetch", {"host": "city.gov", "path": "/secret-path"}, NoOne(),
                                         {"mcp.session.id": "s-1"}),
                   await relay.call_tool("web.fetch", {"host": "evil.example"}, NoOne(), {"mcp.session.id": "s-1"})]
            tg.cancel_scope.cancel()
        return out

    try:
        allowed, denied = anyio.run(main)
    finally:
        rt.close()
    assert not allowed.get("isError") and denied["isError"]
    spans = [s for s in exporter.get_finished_spans() if s.name.startswith("execute_tool")]  # the runtime adds its own
    assert [s.name for s in spans] == ["execute_tool web.fetch", "execute_tool web.fetch"]
    ok, refused = (dict(s.attributes) for s in spans)
    assert ok["gen_ai.operation.name"] == "execute_tool" and ok["gen_ai.tool.name"] == "web.fetch"
    assert ok["mcp.method.name"] == "tools/call" and ok["mcp.session.id"] == "s-1"
    assert ok["agentos.decision"] == "allow" and "error.type" not in ok
    assert not any("secret-path" in str(v) for v in ok.values())  # arguments only as a digest
    assert refused["agentos.decision"] == "deny" and refused["error.type"] == "denied.policy"


def test_a_handed_over_decision_serves_only_its_own_request(admitted: Any, kit: Any, tmp_path: Path) -> None:
    """A consent decision kept for the SDK's loop is used once, for the same request id (an int is not a
    string), action and arguments; anything else is decided afresh."""
    spec = parse_upstream(f"web={kit.upstream_command(tmp_path / 'received.jsonl')}")
    assert not isinstance(spec, str)
    rt = Runtime.load(admitted.agent, admitted.pub, audit=tmp_path / "a.db", approver=runtime_approver)
    try:
        relay = build_relay(rt, [spec], ContextSource(static={"unsafe_environment": False}), monitor=False,
                            timeout_s=30, log=lambda message: None)
        args = {"to": "clerk@city.gov", "body": "hello"}
        decision = rt.authorize("mail.send", {"unsafe_environment": False}, args)  # what Relay.decide returns
        assert decision.effect == "consent"
        relay.hand_over(7, decision)
        assert relay.handed_over("7", "mail.send", args) is None
        relay.hand_over(7, decision)
        assert relay.handed_over(7, "mail.send", {**args, "body": "other"}) is None
        relay.hand_over(7, decision)
        assert relay.handed_over(7, "web.fetch", args) is None
        relay.hand_over(7, decision)
        assert relay.handed_over(7, "mail.send", args) is decision
        assert relay.handed_over(7, "mail.send", args) is None
    finally:
        rt.close()
