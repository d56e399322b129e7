"""The policy context comes from the operator: fixed, or a file re-read when it changes (fail closed when bad)."""

from __future__ import annotations

import os
from pathlib import Path

from agentos_contracts.gateway.context import ContextSource, parse_context


def test_static_context() -> None:
    assert ContextSource(static={"a": 1}).current() == {"a": 1}
    assert isinstance(parse_context("[1]", "`--context`"), str)
    assert isinstance(parse_context("{", "`--context`"), str)


def test_file_is_reread_on_change_and_a_broken_file_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "ctx.json"
    f.write_text('{"unsafe_environment": false}', encoding="utf-8")
    source = ContextSource(file=str(f))
    assert source.current() == {"unsafe_environment": False}
    f.write_text('{"unsafe_environment": true}', encoding="utf-8")
    os.utime(f, ns=(1, 1))  # a different stamp even within the file system's time resolution
    assert source.current() == {"unsafe_environment": True}
    f.write_text("nope", encoding="utf-8")
    assert isinstance(source.current(), str)
    f.unlink()
    assert "cannot be read" in str(source.current())
