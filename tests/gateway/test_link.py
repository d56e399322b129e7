"""A stdio upstream's ``tools/call`` goes straight over its pipes, beside the SDK's session, and stays exact.

Each test runs one :class:`Upstream` in-process against the real SDK server of
tests/fixtures/gateway/upstream_server.py, often behind tests/fixtures/gateway/wire_tap.py,
which logs every line on the wire (and can answer a tool's calls with a malformed reply).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Awaitable, Callable

import anyio
import pytest

from agentos_contracts.gateway.upstream import Upstream, UpstreamError, parse_upstream

Body = Callable[[Upstream], Awaitable[Any]]


def _tap(kit: Any, log: Path, record: Path, *options: str, upstream: tuple[str, ...] = ()) -> str:
    tap = kit.root / "tests" / "fixtures" / "gateway" / "wire_tap.py"
    return " ".join([sys.executable, str(tap), "--log", str(log), *options, "--",
                     kit.upstream_command(record, *upstream)])


def _wire(log: Path, direction: str = "in") -> list[dict[str, Any]]:
    entries = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines() if x.strip()]
    return [e["message"] for e in entries if e["dir"] == direction and isinstance(e["message"], dict)]


def _run(command: str, body: Body, *, mode: str = "auto", direct: bool = True) -> Any:
    """``body(upstream)`` with one upstream started, ready, and stopped afterwards."""
    spec = parse_upstream(f"web={command}")
    assert not isinstance(spec, str)

    async def on_change(up: Upstream) -> None:
        return None

    async def main() -> Any:
        up = Upstream(spec, on_change=on_change, log=lambda message: None, mode=mode, direct=direct)
        async with anyio.create_task_group() as tg:
            tg.start_soon(up.supervise)
            assert await up.wait_ready(30) is not None
            with anyio.fail_after(90):  # a hang fails the test instead of stalling the suite
                out = await body(up)
            tg.cancel_scope.cancel()
        return out

    return anyio.run(main)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_a_direct_call_is_the_sessions_request_with_the_sessions_result(kit: Any, tmp_path: Path, mode: str) -> None:
    """In both protocol eras the request on the wire and the result returned are the ones the SDK's session
    gives, apart from the request id, which comes from a space the session never uses."""
    args = {"host": "city.gov", "path": "/zoning é", "n": [1.5, None, True]}
    requests, results = {}, {}
    for direct in (True, False):
        log = tmp_path / f"wire-{direct}.jsonl"

        async def call(up: Upstream) -> Any:
            return await up.call_tool("fetch", args, 30)

        results[direct] = _run(_tap(kit, log, tmp_path / "received.jsonl"), call, mode=mode, direct=direct)
        (requests[direct],) = [m for m in _wire(log) if m.get("method") == "tools/call"]
    assert results[True] == results[False]
    assert results[True]["structuredContent"] == {"status": 200, "body": "page city.gov/zoning é"}
    assert ("resultType" in results[True]) == (mode == "auto")  # each era's result shape, as negotiated
    assert isinstance(requests[True]["id"], str) and requests[True]["id"].startswith("agentos-gw-")
    assert isinstance(requests[False]["id"], int)
    same = ({k: v for k, v in r.items() if k != "id"} for r in (requests[True], requests[False]))
    assert next(same) == next(same)
    meta = requests[True]["params"].get("_meta")
    if mode == "legacy":
        assert meta is None
    else:  # the 2026-07-28 envelope the session stamps on every request
        assert meta["io.modelcontextprotocol/protocolVersion"] == "2026-07-28"
        assert "io.modelcontextprotocol/clientCapabilities" in meta


@pytest.mark.parametrize("kind", ["not-an-object", "bad-result", "no-version"])
def test_a_malformed_reply_fails_the_call_closed(kit: Any, tmp_path: Path, kind: str) -> None:
    """Nothing that is not a conforming JSON-RPC response becomes a result; the upstream is restarted."""
    log = tmp_path / "wire.jsonl"

    async def body(up: Upstream) -> tuple[str, Any, int]:
        with pytest.raises(UpstreamError) as failed:
            await up.call_tool("fetch", {"host": "city.gov"}, 30)
        after = await up.call_tool("send", {"to": "a", "body": "b"}, 30)
        return str(failed.value), after, up.restarts

    message, after, restarts = _run(_tap(kit, log, tmp_path / "r.jsonl", "--garble", "fetch", "--kind", kind), body)
    assert "upstream `web` failed during `tools/call fetch`" in message
    assert after["content"] == [{"type": "text", "text": "send done"}]
    assert restarts >= 1


def test_an_upstream_that_dies_mid_call_fails_the_call_and_is_restarted(kit: Any, tmp_path: Path) -> None:
    """The call fails when the process exits, not when its (long) time-out would run out."""
    record = tmp_path / "received.jsonl"

    async def body(up: Upstream) -> tuple[str, Any]:
        with pytest.raises(UpstreamError) as failed:
            await up.call_tool("crash", {}, 600)
        return str(failed.value), await up.call_tool("fetch", {"host": "city.gov"}, 30)

    message, after = _run(kit.upstream_command(record), body)
    assert "closed the connection during `tools/call crash` (crashed?)" in message
    assert after["structuredContent"] == {"status": 200, "body": "page city.gov/"}


def test_direct_and_session_requests_never_share_an_id(kit: Any, tmp_path: Path) -> None:
    """Twenty direct calls in flight while the session lists tools and resources: every call gets its own
    answer, and no id is used twice on the wire."""
    log = tmp_path / "wire.jsonl"

    async def body(up: Upstream) -> dict[int, Any]:
        results: dict[int, Any] = {}

        async def call(i: int) -> None:
            results[i] = await up.call_tool("fetch", {"host": f"h{i}.gov"}, 30)

        async def listings() -> None:
            for _ in range(5):
                await up.refresh()
                await up.listing("resources", 30)

        async with anyio.create_task_group() as tg:
            for i in range(20):
                tg.start_soon(call, i)
            tg.start_soon(listings)
        return results

    results = _run(_tap(kit, log, tmp_path / "received.jsonl"), body)
    assert {i: r["structuredContent"]["body"] for i, r in results.items()} == {i: f"page h{i}.gov/" for i in range(20)}
    sent = [m for m in _wire(log) if "id" in m and "method" in m]
    ids = [(type(m["id"]).__name__, m["id"]) for m in sent]
    assert len(ids) == len(set(ids))
    calls = [m for m in sent if m["method"] == "tools/call"]
    assert len(calls) == 20 and all(str(m["id"]).startswith("agentos-gw-") for m in calls)
    assert all(isinstance(m["id"], int) for m in sent if m["method"] != "tools/call")
    assert sum(1 for m in sent if m["method"] == "tools/list") >= 6


def test_a_direct_call_that_times_out_is_cancelled_upstream(kit: Any, tmp_path: Path) -> None:
    """Fails closed at its time-out, and the server is told to stop (as the SDK's session tells it)."""
    log = tmp_path / "wire.jsonl"

    async def body(up: Upstream) -> str:
        with pytest.raises(UpstreamError) as failed:
            await up.call_tool("fetch", {"host": "city.gov"}, 0.5)
        return str(failed.value)

    message = _run(_tap(kit, log, tmp_path / "received.jsonl", upstream=("--delay", "3")), body)
    assert "did not answer `tools/call fetch` within 0.5 s" in message
    (call,) = [m for m in _wire(log) if m.get("method") == "tools/call"]
    cancels = [m for m in _wire(log) if m.get("method") == "notifications/cancelled"]
    assert [c["params"]["requestId"] for c in cancels] == [call["id"]]
