"""`--upstream` parsing: a prefix is one action segment; stdio commands are shell-split; URLs are HTTP."""

from __future__ import annotations

import pytest

from agentos_contracts.gateway.server import Listen, parse_listen
from agentos_contracts.gateway.upstream import UpstreamSpec, parse_upstream, strip_server_info


def test_stdio_command_is_shell_split() -> None:
    assert parse_upstream("web=npx -y '@mcp/fetch server' --x") == UpstreamSpec(
        prefix="web", command=("npx", "-y", "@mcp/fetch server", "--x"))


def test_http_url() -> None:
    assert parse_upstream("docs=http://127.0.0.1:9000/mcp") == UpstreamSpec(prefix="docs",
                                                                            url="http://127.0.0.1:9000/mcp")


@pytest.mark.parametrize("text", ["web", "=cmd", "web=", "web.x=cmd", "1web=cmd", "web=cmd 'unclosed"])
def test_malformed_upstreams_say_why(text: str) -> None:
    assert isinstance(parse_upstream(text), str)


def test_listen_is_stdio_or_loopback_http() -> None:
    assert parse_listen("stdio") == Listen()
    assert parse_listen("http://127.0.0.1:8765/mcp") == Listen(stdio=False, port=8765, path="/mcp")
    for bad in ("http://0.0.0.0:80/mcp", "http://localhost:80/mcp", "https://127.0.0.1:1/mcp", "http://127.0.0.1/mcp",
                "tcp"):
        assert isinstance(parse_listen(bad), str), bad


def test_upstream_identity_is_not_passed_on() -> None:
    result = {"content": [], "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "up"}, "trace": "t"}}
    assert strip_server_info(result) == {"content": [], "_meta": {"trace": "t"}}
    assert strip_server_info({"content": [], "_meta": {"io.modelcontextprotocol/serverInfo": {}}}) == {"content": []}
