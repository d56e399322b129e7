"""Drift: what differs between a sealed manifest and what admitting the same inputs gives now.

Subjects are compared by kind (contract, workflow, platform, policy) and digest, so
spelling a path differently is not drift; the clock fields come from flags, not from
the inputs, and are not compared. Pure: admission re-admits, this compares.
"""

from __future__ import annotations

import json
from typing import Any

CLOCK_KEYS = ("issuedAt", "expiresAt", "sequence")
LABELS = {"contract": "contract file", "workflow": "workflow file", "platform": "platform file",
          "policy": "compiled policy"}


def subject_changes(then: list[tuple[str, str]], now: list[tuple[str, str]]) -> list[str]:
    """One message per artifact kind whose digests differ (``(name, sha256 hex)`` pairs)."""
    a, b = _by_kind(then), _by_kind(now)
    return [f"{LABELS.get(k, k)} changed since admission ({_short(a.get(k))} → {_short(b.get(k))})"
            for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def predicate_changes(old: dict[str, Any], new: dict[str, Any], limit: int = 5) -> list[str]:
    """The first ``limit`` differing fields, as JSON Pointers with both values."""
    a = {k: v for k, v in old.items() if k not in CLOCK_KEYS}
    b = {k: v for k, v in new.items() if k not in CLOCK_KEYS}
    return [f"binding differs at `{p}`: manifest has {_show(x)}, re-admission gives {_show(y)}"
            for p, x, y in differences(a, b, "")[:limit]]


def differences(a: Any, b: Any, pointer: str) -> list[tuple[str, Any, Any]]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[tuple[str, Any, Any]] = []
        for k in sorted(set(a) | set(b)):
            here = f"{pointer}/{k.replace('~', '~0').replace('/', '~1')}"
            if k not in a or k not in b:
                out.append((here, a.get(k), b.get(k)))
            else:
                out += differences(a[k], b[k], here)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{pointer}/{i}")]
    same_number = isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) \
        and not isinstance(b, bool) and a == b
    return [] if same_number or (type(a) is type(b) and a == b) else [(pointer or "/", a, b)]


def _by_kind(pairs: list[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for name, digest in pairs:
        out.setdefault(name.split(":", 1)[0], []).append(digest)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _short(digests: tuple[str, ...] | None) -> str:
    if not digests:
        return "none"
    return ", ".join(f"sha256:{d[:12]}" for d in digests)


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return f"`{text if len(text) <= 60 else text[:57] + '...'}`"
