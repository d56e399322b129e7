"""Exact durations everywhere, not just in SLOs and task sets.

documents.md: durations are converted exactly from their decimal text and more than 6
decimals of a millisecond is an error. Every field named in ms (`*_ms`, `*_ms_p95`) or
in seconds (`*_s`) must therefore be a whole number of nanoseconds: a platform's
`onset_ms_p95: 0.00000001` or a workflow's `deadline_ms: 1.0000001` would otherwise be
accepted here and fail later in `admit`, far from the line that caused it.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterator

from agentos_contracts.diagnostics import Diagnostic
from agentos_contracts.documents import pointer as ptr
from agentos_contracts.documents.loader import Document
from agentos_contracts.model import units
from agentos_contracts.validate.contract import DURATIONS_MS

# free-form subtrees whose keys are not ours (MCP schemas, policy-test request data)
OPAQUE = frozenset({"inputSchema", "outputSchema", "annotations", "context", "args"})


def _converter(key: str) -> Callable[[object], int] | None:
    if key.endswith("_ms") or "_ms_" in key:
        return units.ms_to_ns
    if key.endswith("_s") and not key.endswith("_per_s"):  # `tokens_per_s` is a rate
        return units.s_to_ns
    return None


def _already_checked(kind: str | None, pointer: str) -> bool:
    """Pointers the contract and task-set checks cover themselves (no duplicate AC125)."""
    parts = pointer.split("/")
    if kind == "AgentContract":
        return parts[1:3] == ["class", "slo"] and len(parts) == 4 and parts[3] in DURATIONS_MS
    if kind == "TaskSet":
        return len(parts) == 4 and parts[1] == "tasks"
    return False


def _floats(value: Any) -> Iterator[tuple[tuple[str | int, ...], str, float]]:
    """(path, key, value) of every float under a duration-named key; whole numbers are always exact.

    An explicit stack and no pointer strings until something is found: this runs on every
    document of a CI run.
    """
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, cur = stack.pop()
        if isinstance(cur, dict):
            for key, item in cur.items():
                if item.__class__ is float:
                    if _converter(key) is not None:
                        yield (*path, key), key, item
                elif isinstance(item, (dict, list)) and key not in OPAQUE:
                    stack.append(((*path, key), item))
        elif isinstance(cur, list):
            for i, item in enumerate(cur):
                if isinstance(item, (dict, list)):
                    stack.append(((*path, i), item))


def check_durations(doc: Document) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for parts, key, value in _floats(doc.data):
        pointer = ptr.from_parts(parts)
        if _already_checked(doc.kind, pointer):
            continue
        try:
            _converter(key)(value)  # type: ignore[misc]
        except units.UnitError:
            message = None if math.isfinite(value) else f"`{key}` is not a finite number"
            found.append(doc.diag("AC125", pointer, field=key, message=message))
    return sorted(found, key=lambda d: (d.line, d.column))
