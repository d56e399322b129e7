"""The nesting bound (AC317), applied to the raw text before the lexer and parser see it.

Lexing and parsing cost grows with every bracket: 50,000 nested parentheses took seconds
to parse only to be refused afterwards. This scan reads the text once with one regular
expression (strings and comments skipped) and finds each statement that nests deeper
than the limit, by brackets or by a chain of ``NOT``s (each is at least one level of the
tree). The parser blanks those statements out (keeping line breaks, so every other
position stays right) and reports AC317 at each one's first character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_DEPTH = 100  # nesting of a condition; deeper input is refused, never a RecursionError

_STARTER = re.compile(r"(?i)(?:allow|deny|require|consent)\b|@")
_NEXT_STATEMENT = re.compile(r"(?i)\n[ \t\f\r]*(?:(?:allow|deny|require|consent)\b|@)")
_SKIP = re.compile(r"(?:[ \t\f\r\n]|#[^\n]*)*")  # blanks, line breaks and comments
# strings (closed or not), comments, brackets, separators, words, the annotation sign
_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"?|#[^\n]*|[()\[\];\n@]|[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z_][A-Za-z0-9_\-]*)*')


@dataclass(frozen=True, slots=True)
class DeepStatement:
    start: int  # offset of the statement's first character
    end: int  # offset just past its last character
    line: int
    column: int


def find_deep(text: str, limit: int = MAX_DEPTH) -> list[DeepStatement]:
    """Statements nesting deeper than ``limit``; empty for every ordinary policy.

    Once a statement is known to be too deep the scan jumps to the next line that starts a
    statement, so the work stays proportional to the limit, not to the input.
    """
    if text.count("(") + text.count("[") <= limit and text.lower().count("not") <= limit:
        return []  # cannot nest that deep: no need to look closer
    found: list[DeepStatement] = []
    depth = run = 0
    start = -1  # first character of the current statement, -1 between statements
    pos = 0
    while True:
        m = _TOKEN.search(text, pos)
        if m is None:
            break
        tok, pos = m.group(), m.end()
        first = tok[0]
        if first == "#":
            continue
        if first == "\n" or first == ";":
            if depth and first == "\n":
                pos = _SKIP.match(text, pos).end()  # type: ignore[union-attr]
                if not _STARTER.match(text, pos):
                    continue  # a rule continues inside brackets
            depth = run = 0
            start = -1
            continue
        if start < 0:
            start = m.start()
        if first in "([":
            depth += 1
        elif first in ")]":
            depth = max(0, depth - 1)
        if first in "nN" and tok.lower() == "not":
            run += 1
        elif first != "(":
            run = 0
        if depth > limit or run > limit:
            nxt = _NEXT_STATEMENT.search(text, pos)
            end = nxt.start() if nxt else len(text)
            found.append(_statement(text, start, end))
            depth = run = 0
            start, pos = -1, end
    return found


def blank(text: str, deep: list[DeepStatement]) -> str:
    """``text`` with each deep statement replaced by spaces (line breaks kept)."""
    if not deep:
        return text
    parts: list[str] = []
    at = 0
    for d in deep:
        parts.append(text[at:d.start])
        parts.append("\n".join(" " * len(line) for line in text[d.start:d.end].split("\n")))
        at = d.end
    parts.append(text[at:])
    return "".join(parts)


def _statement(text: str, start: int, end: int) -> DeepStatement:
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return DeepStatement(start=start, end=end, line=line, column=column)
