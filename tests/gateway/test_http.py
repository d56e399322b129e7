"""The gateway over streamable HTTP on 127.0.0.1, in front of an upstream that also speaks HTTP."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types


def test_http_gateway_to_http_upstream(admitted: Any, kit: Any, tmp_path: Path) -> None:
    record, audit = tmp_path / "received.jsonl", tmp_path / "audit.db"
    up_port, gw_port = kit.free_port(), kit.free_port()
    upstream = [*kit.upstream_command(record, "--http", str(up_port)).split(" ")]
    url = f"http://127.0.0.1:{gw_port}/mcp"
    gateway = [sys.executable, *kit.gateway_args(admitted.agent, admitted.pub, audit,
                                                 [f"web=http://127.0.0.1:{up_port}/mcp",
                                                  f"mail=http://127.0.0.1:{up_port}/mcp"],
                                                 "--listen", url, "--context", '{"unsafe_environment": false}')]
    asked: list[str] = []

    async def elicit(ctx: Any, params: Any) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={})

    async def session() -> dict[str, Any]:
        from mcp import Client

        out: dict[str, Any] = {}
        async with Client(url, elicitation_callback=elicit) as client:
            out["tools"] = sorted(t.name for t in (await client.list_tools()).tools)
            out["allowed"] = await client.call_tool("web.fetch", {"host": "data.city.gov"})
            out["denied"] = await client.call_tool("web.fetch", {"host": "evil.example"})
            out["consent"] = await client.call_tool("mail.send", {"to": "a@city.gov", "body": "b"})
        async with Client(url, mode="legacy", elicitation_callback=elicit) as client:
            out["legacy"] = await client.call_tool("mail.send", {"to": "b@city.gov", "body": "c"})
        return out

    with kit.background(upstream, up_port), kit.background(gateway, gw_port) as proc:
        out = anyio.run(session)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    assert out["tools"] == ["mail.send", "web.bad", "web.crash", "web.fetch"]
    assert not out["allowed"].is_error and out["allowed"].structured_content["status"] == 200
    assert out["denied"].is_error
    assert not out["consent"].is_error and not out["legacy"].is_error
    assert len(asked) == 2
    assert [(r["tool"], r["arguments"].get("to") or r["arguments"].get("host")) for r in kit.received(record)] == [
        ("fetch", "data.city.gov"), ("send", "a@city.gov"), ("send", "b@city.gov")]
    assert kit.audit_verify(audit)["ok"]
