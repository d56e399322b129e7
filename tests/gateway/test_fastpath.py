"""The stdio fast path answers exactly as the SDK's own server loop does, in both protocol eras.

The same JSON-RPC conversation is sent twice: once with standard output on a pipe (plain tool
calls are answered by the fast path) and once with standard output in a file (the gateway then
uses the SDK's stdio transport for everything). The replies must be the same JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

MODERN_META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
               "io.modelcontextprotocol/clientCapabilities": {},
               "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"}}
CALLS = [("web.fetch", {"host": "city.gov", "path": "/a"}), ("web.fetch", {"host": "evil.example"}),
         ("web.search", {}), ("web.fetch", {"host": "city.gov", "x": 1}), ("web.bad", {}),
         ("mail.send", {"to": "a", "body": "b"})]


def _conversation(era: str) -> list[dict[str, Any]]:
    meta = {"_meta": MODERN_META} if era == "modern" else {}
    head: list[dict[str, Any]] = [] if era == "modern" else [
        {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"}]
    calls = [{"jsonrpc": "2.0", "id": i + 1, "method": "tools/call", "params": {"name": name, "arguments": args, **meta}}
             for i, (name, args) in enumerate(CALLS)]
    # the other era's call on this connection: the SDK refuses it, so the fast path must leave it alone
    other = {} if era == "modern" else {"_meta": MODERN_META}
    stray = {"jsonrpc": "2.0", "id": 99, "method": "tools/call",
             "params": {"name": "web.fetch", "arguments": {"host": "city.gov"}, **other}}
    return head + calls + [stray]


def _replies(admitted: Any, kit: Any, tmp: Path, era: str, stdout_to_file: bool) -> dict[Any, Any]:
    record, out_file = tmp / "received.jsonl", tmp / "out.jsonl"
    args = kit.gateway_args(admitted.agent, admitted.pub, tmp / "audit.db", [
        f"web={kit.upstream_command(record)}", f"mail={kit.upstream_command(record)}"],
        "--context", '{"unsafe_environment": false}')
    sink = out_file.open("wb") if stdout_to_file else subprocess.PIPE
    proc = subprocess.Popen([sys.executable, *args], stdin=subprocess.PIPE, stdout=sink, stderr=subprocess.DEVNULL,
                            cwd=str(kit.root))
    messages = _conversation(era)
    expected = sum(1 for m in messages if "id" in m)
    assert proc.stdin is not None
    for m in messages:
        proc.stdin.write((json.dumps(m) + "\n").encode())
        proc.stdin.flush()
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while len(lines) < expected and time.monotonic() < deadline:
        if stdout_to_file:
            time.sleep(0.1)
            lines = [x for x in out_file.read_text(encoding="utf-8").splitlines() if x.strip()]
        else:
            assert proc.stdout is not None
            lines.append(proc.stdout.readline().decode())
    proc.stdin.close()
    proc.wait(timeout=30)
    if stdout_to_file:
        sink.close()  # type: ignore[union-attr]
    replies = {}
    for line in lines:
        reply = json.loads(line)
        replies[reply["id"]] = reply
    return replies


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_fast_path_replies_equal_the_sdk_loop(admitted: Any, kit: Any, tmp_path: Path, era: str) -> None:
    (tmp_path / "fast").mkdir()
    (tmp_path / "sdk").mkdir()
    fast = _replies(admitted, kit, tmp_path / "fast", era, stdout_to_file=False)
    sdk = _replies(admitted, kit, tmp_path / "sdk", era, stdout_to_file=True)
    assert fast == sdk
    assert len(fast) == len(CALLS) + (1 if era == "modern" else 2)
    assert "error" in fast[99]
    assert fast[1]["result"]["structuredContent"] == {"status": 200, "body": "page city.gov/a"}
    assert fast[2]["result"]["isError"] is True
