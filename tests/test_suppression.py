"""Inline suppression comments: which codes a line silences, whatever the line holds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agentos_contracts.suppression import Suppressions, codes_on_line


def test_codes_on_a_line() -> None:
    text = "a: 1\nb: 2  # agentos: ignore[AC119, ac114]\nc: 3 # agentos:ignore[AC112]\n"
    assert codes_on_line(text, 1) == frozenset()
    assert codes_on_line(text, 2) == {"AC119", "AC114"}
    assert codes_on_line(text, 3) == {"AC112"}
    assert codes_on_line(text, 99) == frozenset()


def test_suppressions_read_files_once_and_never_for_pseudo_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "p.policy"
    f.write_text("ALLOW x  # agentos: ignore[AC334]\n", encoding="utf-8")
    s = Suppressions()
    assert s.is_suppressed(str(f), 1, "AC334") and not s.is_suppressed(str(f), 1, "AC332")
    assert not s.is_suppressed("<command line>", 1, "AC334") and not s.is_suppressed(str(f), 0, "AC334")


@given(st.text(max_size=300), st.integers(min_value=-2, max_value=20))
def test_never_raises(text: str, line: int) -> None:
    found = codes_on_line(text, line)
    assert all(code == code.upper() for code in found)
