"""Lines offered where a pipe's bytes arrive: however the stream is cut into chunks, each complete line is
offered once, in order, and what is not taken reaches the reader unchanged."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.gateway.lines import Lines

LINE = st.binary(max_size=12).map(lambda b: b.replace(b"\n", b""))


@settings(max_examples=400, deadline=None)
@given(lines=st.lists(LINE, max_size=8), tail=LINE, cuts=st.lists(st.integers(0, 200), max_size=6),
       taken=st.sets(st.integers(0, 7)))
def test_every_complete_line_is_offered_once_and_the_rest_passes_in_order(
        lines: list[bytes], tail: bytes, cuts: list[int], taken: set[int]) -> None:
    stream = b"".join(x + b"\n" for x in lines) + tail
    offered: list[bytes] = []

    def take(line: bytes) -> bool:
        offered.append(line)
        return len(offered) - 1 in taken

    splitter = Lines(take, limit=1000)
    passed = b""
    start = 0
    for cut in sorted(c for c in cuts if c <= len(stream)) + [len(stream)]:
        passed += splitter.feed(stream[start:cut])
        start = cut
    passed += splitter.finish()
    assert offered == lines  # the unfinished tail is never offered
    assert passed == b"".join(x + b"\n" for i, x in enumerate(lines) if i not in taken) + tail


def test_an_overlong_line_is_passed_on_as_it_comes_with_everything_after_it() -> None:
    offered: list[bytes] = []
    splitter = Lines(lambda line: offered.append(line) is None, limit=4)
    assert splitter.feed(b"ok\n") == b""  # taken
    assert splitter.feed(b"too long line\nok\n") == b"too long line\nok\n"
    assert splitter.feed(b"abc") == b"abc"  # from now on nothing is held or taken
    assert offered == [b"ok"]
    held = Lines(lambda line: False, limit=4)
    assert held.feed(b"12") == b"" and held.feed(b"3456") == b"123456"  # an unfinished line past the limit
