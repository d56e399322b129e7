"""The code table: stable shape, Cedar-style messages, every code documented in docs/codes.md."""

from __future__ import annotations

import re
from pathlib import Path

from agentos_contracts.codes import CODES

DOC = (Path(__file__).resolve().parent.parent / "docs" / "codes.md").read_text(encoding="utf-8")


def test_codes_are_ac_and_three_digits() -> None:
    assert all(re.fullmatch(r"AC\d{3}", c) for c in CODES)


def test_every_code_is_documented() -> None:
    missing = [c for c in CODES if not re.search(rf"\b{c}\b", DOC)]
    assert not missing, f"codes missing from docs/codes.md: {missing}"


def test_messages_follow_the_style() -> None:
    """Lowercase first letter (placeholders and backticked input aside), no final period."""
    for code, entry in CODES.items():
        msg = entry.message
        assert not msg.endswith("."), code
        first = msg.lstrip("`{")[:1]
        assert not first.isupper() or msg.startswith(("`", "{", "HRT", "SRT", "DT", "HITL", "MCP", "JSON", "YAML", "RM", "EDF", "DSSE", "SARIF", "PEM", "UTF", "ALLOW", "DENY", "CONSENT")), (code, msg)
