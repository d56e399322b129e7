"""JSON Pointer (RFC 6901) helpers: how diagnostics name a place inside a document."""

from __future__ import annotations

from typing import Any, Iterable


def escape(token: str | int) -> str:
    t = str(token)
    if "~" in t or "/" in t:
        return t.replace("~", "~0").replace("/", "~1")
    return t


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join(base: str, *tokens: str | int) -> str:
    """``join("/a", "b", 0)`` is ``"/a/b/0"``."""
    if len(tokens) == 1:
        return base + "/" + escape(tokens[0])
    return base + "".join("/" + escape(t) for t in tokens)


def from_parts(parts: Iterable[str | int]) -> str:
    return join("", *parts)


def split(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [unescape(t) for t in pointer[1:].split("/")]


def resolve(doc: Any, pointer: str) -> Any:
    """The value at ``pointer``; raises KeyError/IndexError when it is absent."""
    cur = doc
    for tok in split(pointer):
        if isinstance(cur, list):
            cur = cur[int(tok)]
        else:
            cur = cur[tok]
    return cur


def parent(pointer: str) -> str:
    return pointer.rsplit("/", 1)[0] if pointer else ""
