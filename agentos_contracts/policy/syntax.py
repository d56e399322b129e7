"""The lexical facts of the language, shared by the parser, the checker and ``fmt``.

Kept apart from ``parser.py`` so that formatting and checking never load lark:
keywords, what an action name is, how strings and numbers are read and written,
and how tokens are named in error messages ("found `=`, expected a comparison").
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from typing import Any

from agentos_contracts import diagnostics as dg
from agentos_contracts.diagnostics import Diagnostic, Span

# bare word (lower case) → token type; case-insensitive, reserved only as bare words
KEYWORDS = {
    "policy": "POLICY", "attribute": "ATTRIBUTE", "allow": "ALLOW", "deny": "DENY",
    "require": "REQUIRE", "consent": "CONSENT", "for": "FOR", "if": "IF", "or": "OR",
    "and": "AND", "not": "NOT", "in": "IN", "contains": "CONTAINS", "matches": "MATCHES",
    "has": "HAS", "true": "TRUE", "false": "FALSE",
}
SCALAR_TYPES = ("number", "string", "bool")
COLLECTION_TYPES = ("set", "list")

_ACTION = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z][A-Za-z0-9_-]*)*\Z")
_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def is_action_name(name: str) -> bool:
    """Dot-separated segments, each a letter followed by letters, digits, `_` or `-`."""
    return bool(_ACTION.match(name))


def is_bare_word(name: str) -> bool:
    """Can this name be written unquoted (a NAME token that is not a keyword)?"""
    parts = name.split(".")
    if not all(_SEGMENT.match(p) for p in parts):
        return False
    return len(parts) > 1 or name.lower() not in KEYWORDS


def rule_id_base(file: str) -> str:
    """The base name used in derived rule ids (`doc-rag.policy:12`)."""
    return "stdin" if file == "-" else os.path.basename(file)


class LexicalError(ValueError):
    """A malformed literal; ``offset`` is the code-point offset inside the token."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.offset = offset


def decode_string(token: str) -> str:
    """The value of a double-quoted literal with JSON escapes; lone surrogates are refused."""
    body = token[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        esc = body[i + 1] if i + 1 < len(body) else ""
        if esc in _ESCAPES:
            out.append(_ESCAPES[esc])
            i += 2
            continue
        if esc == "u":
            code, used = _unicode_escape(body, i)
            out.append(chr(code))
            i += used
            continue
        raise LexicalError(f"\\{esc}", i + 1)
    return "".join(out)


def _unicode_escape(body: str, i: int) -> tuple[int, int]:
    hex4 = body[i + 2:i + 6]
    if not re.fullmatch(r"[0-9a-fA-F]{4}", hex4):
        raise LexicalError(body[i:i + 6], i + 1)
    code = int(hex4, 16)
    if 0xD800 <= code < 0xDC00:  # a high surrogate must be followed by a low one
        low = body[i + 6:i + 12]
        if re.fullmatch(r"\\u[dD][c-fC-F][0-9a-fA-F]{2}", low):
            return 0x10000 + ((code - 0xD800) << 10) + (int(low[2:], 16) - 0xDC00), 12
        raise LexicalError(body[i:i + 6], i + 1)
    if 0xDC00 <= code < 0xE000:
        raise LexicalError(body[i:i + 6], i + 1)
    return code, 6


def encode_string(value: str) -> str:
    """The canonical literal for a string (what `fmt` writes)."""
    return json.dumps(value, ensure_ascii=False)


def parse_number(text: str) -> int | float:
    """Integers stay exact; anything with a point or exponent is a float, and must be finite."""
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    value = float(text)
    if not math.isfinite(value):
        raise LexicalError(text)
    return value


def format_number(value: int | float) -> str:
    return repr(value)


# ---- naming tokens in messages ---------------------------------------------------

_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a string", "_SEP": "end of line",
    "$END": "end of line", "EQ": "`==`", "NE": "`!=`", "LT": "`<`", "LE": "`<=`", "GT": "`>`",
    "GE": "`>=`", "DOTSTAR": "`.*`", "STAR": "`*`", "COMMA": "`,`", "COLON": "`:`", "AT": "`@`",
    "LPAR": "`(`", "RPAR": "`)`", "LSQB": "`[`", "RSQB": "`]`",
}
_RANK = ["effect", "NAME", "STRING", "value", "condition", "comparison", "IF", "AND", "OR", "COMMA",
         "DOTSTAR", "COLON", "LT", "GT", "LPAR", "RPAR", "LSQB", "RSQB", "_SEP"]
_COMPARISONS = {"EQ", "NE", "LT", "LE", "GT", "GE", "IN", "NOT", "CONTAINS", "MATCHES"}
_VALUES = {"NUMBER", "STRING", "LSQB", "TRUE", "FALSE"}


def describe_expected(names: set[str]) -> str:
    """`a comparison`, `IF` or end of line — grouped so a message stays one readable line."""
    names = {"_SEP" if n == "$END" else n for n in names}
    words: list[tuple[int, str]] = []
    if {"ALLOW", "DENY", "CONSENT"} <= names:
        names -= {"ALLOW", "DENY", "CONSENT", "REQUIRE"}
        words.append((0, "`ALLOW`, `DENY` or `REQUIRE CONSENT`"))
    if {"EQ", "IN", "CONTAINS", "MATCHES"} <= names:
        names -= _COMPARISONS
        words.append((5, "a comparison (`==`, `<`, `IN`, ...)"))
    if {"LPAR", "HAS", "NOT", "NAME"} <= names:
        names -= {"LPAR", "HAS", "NOT", "NAME", "TRUE", "FALSE"} | _VALUES
        words.append((4, "a condition"))
    if _VALUES <= names:
        names -= _VALUES | ({"NAME"} if "NAME" in names else set())
        words.append((3, "a value or attribute"))
    for n in names:
        if n in _WORDS:
            word = _WORDS[n]
        elif n.lower() in KEYWORDS:
            word = f"`{n.lower()}`" if n in ("HAS", "TRUE", "FALSE") else f"`{n}`"
        else:
            word = n.lower()
        words.append((_RANK.index(n) if n in _RANK else len(_RANK), word))
    items = [w for _, w in sorted(set(words))]
    if not items:
        return "nothing more"
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


def describe_found(kind: str, value: str) -> str:
    if kind in ("$END", "_SEP"):
        return "end of line"
    if kind == "NAME":
        return f"name `{_clip(value)}`"
    if kind == "NUMBER":
        return f"number `{_clip(value)}`"
    if kind == "STRING":
        return f"string `{_clip(value)}`"
    if value.lower() in KEYWORDS:
        return f"keyword `{value}`"
    return f"`{_clip(value)}`"


def _clip(text: str, width: int = 24) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


_HINTS = {
    "=": "compare with `==`", "&": "write `AND`", "|": "write `OR`", "!": "write `NOT`, or `!=` to compare",
    "'": "strings are written in double quotes", "{": "lists are written `[...]`",
    "}": "lists are written `[...]`", "$": "attributes are written without `$`: `args.host`",
}


def hint_for(text: str) -> str:
    """A fix for a common slip (`=`, `&&`, single quotes, ...), else nothing."""
    return _HINTS.get(text[:1], "") if text else ""


_CMP_TOKENS = frozenset({"EQ", "NE", "LT", "LE", "GT", "GE", "IN", "CONTAINS", "MATCHES"})


def syntax_error(file: str, exc: Any, end: Span) -> Diagnostic:
    """AC300 from lark's UnexpectedToken (duck-typed: this module does not import lark)."""
    tok = exc.token
    if tok.type == "$END":
        span = end
    else:
        span = Span(file, tok.line, tok.column, tok.end_line, tok.end_column)
    try:
        expected = set(exc.accepts) if exc.accepts else set(exc.expected)
    except Exception:  # accepts replays the parser; fall back to the table's view
        expected = set(exc.expected)
    found = describe_found(tok.type, str(tok.value))
    if tok.type in KEYWORDS.values() and "NAME" in expected:
        hint = f"`{tok.value}` is a keyword; quote an action name that is a keyword, as in `\"{tok.value}\"`"
    elif tok.type in _CMP_TOKENS and "AND" in expected:
        hint = "comparisons do not chain; join them with `AND`, as in `a < b AND b < c`"
    else:
        hint = ""
    return dg.make("AC300", span, found=found, expected=describe_expected(expected), hint=hint)


def header_checks(statements: list[Any]) -> list[Diagnostic]:
    """At most one `policy NAME`, and first."""
    out: list[Diagnostic] = []
    headers = [(i, s) for i, s in enumerate(statements) if s.__class__.__name__ == "Header"]
    for n, (i, h) in enumerate(headers):
        if n > 0:
            out.append(dg.make("AC308", h.span, message="second `policy` header",
                               hint="a file has at most one `policy NAME` line"))
        elif i > 0:
            out.append(dg.make("AC308", h.span, message="`policy` header must come first",
                               hint="move `policy NAME` to the top of the file"))
    return out


_TYPE_ALIASES = {"boolean": "bool", "integer": "number", "int": "number", "float": "number", "str": "string"}


def type_hint(name: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name.lower(), choices, n=1)
    guess = _TYPE_ALIASES.get(name.lower()) or (close[0] if close else "")
    return (f"did you mean `{guess}`? " if guess else "") + \
        "use number, string, bool, set<T> or list<T> with T one of number, string, bool"
