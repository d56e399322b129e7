"""What the paper writes and where the canonical form keeps it: tables and pure value rewrites.

The paper (Agent-OS, sections 3.4, 4.3, 4.4) writes contracts flat: ``agent:``,
``latency_class:``, SLO keys, ``must``/``prefer``/``allow_fallbacks`` at the top level,
``tokens: 50k``, refs like ``asr_local_v2..v3``. The canonical form nests them
(design/documents.md). Every rewrite here is exact or refused: a value that cannot be
carried over is reported by the caller, never guessed.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from agentos_contracts.documents.foreign import paper_kind  # noqa: F401  (re-exported: the one detector)

API_VERSION = "agentos/v0.2"

SLO_KEYS = ("wcet_ms", "period_ms", "deadline_ms", "jitter_ms", "blocking_ms",
            "onset_ms", "turn_ms", "jitter_p95_pct", "tokens_per_hour", "deadline_s")
BINDING_KEYS = ("must", "prefer", "allow_fallbacks", "canary")
# keys that only the paper's flat contract form has at the top level
PAPER_CONTRACT_KEYS = frozenset({"agent", "latency_class", "bind", *SLO_KEYS, *BINDING_KEYS})
CONTRACT_KEYS = frozenset({"apiVersion", "kind", "name", "version", "tenant", "role", "class",
                           "capabilities", "compute", "modelPolicy", "memory", "security",
                           "observability", "budgets", "policies", "binding"})
WORKFLOW_KEYS = frozenset({"apiVersion", "kind", "name", "deadline_ms", "inputs", "steps"})
BUDGET_KEYS = frozenset({"tokens", "tokens_per_minute", "calls", "calls_per_minute", "cost_per_day"})

_SHORTHAND = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgG])\s*$")
_MULTIPLIER = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}
_REF_RANGE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._/-]*?)_v(?P<lo>\d+)(?:\.\.v(?P<hi>\d+))?$")


def expand_shorthand(value: Any) -> int | None:
    """``50k`` → 50000, ``1.5M`` → 1500000; None when the text is not an exact whole shorthand."""
    if not isinstance(value, str):
        return None
    m = _SHORTHAND.match(value)
    if not m:
        return None
    try:
        exact = Decimal(m.group(1)) * _MULTIPLIER[m.group(2).lower()]
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return None
    return int(exact) if exact == exact.to_integral_value() else None


def canonical_ref(ref: Any) -> str | None:
    """The paper's ``name_vN`` / ``name_vA..vB`` as ``name@>=N.0.0,<N+1.0.0``; None if not that form.

    The loader reads both spellings alike (design/documents.md); migrate writes the explicit
    range so nobody has to know the shorthand.
    """
    if not isinstance(ref, str) or "@" in ref:
        return None
    m = _REF_RANGE.match(ref)
    if not m:
        return None
    lo = int(m.group("lo"))
    hi = int(m.group("hi")) if m.group("hi") is not None else lo
    if hi < lo:
        return None
    return f"{m.group('name')}@>={lo}.0.0,<{hi + 1}.0.0"


def canonical_placement(value: Any) -> list[str] | None:
    """The paper's ``edge-only`` is ``[edge]``; None when the value needs no rewrite."""
    if value == "edge-only":
        return ["edge"]
    return None


def policy_source(workflow: str, step: str, line: int, rules: Mapping[str, Any]) -> tuple[str, list[str]]:
    """A policy file for a step's inline ``policies: {allow: [...], deny: [...]}``, and what was left out.

    Inline allow/deny lists are action lists; each becomes one ALLOW or DENY rule. Anything
    else in the mapping is reported back, not translated.
    """
    lines = [f"# written by `agentos migrate` from the inline policies of step `{step}`",
             f"# of workflow `{workflow}` (line {line}); edit freely",
             f"policy {_policy_name(workflow, step)}", ""]
    left: list[str] = []
    for key, effect in (("allow", "ALLOW"), ("deny", "DENY")):
        actions = rules.get(key)
        if actions is None:
            continue
        items = [actions] if isinstance(actions, str) else actions
        if not isinstance(items, list) or not items or not all(isinstance(a, str) and a for a in items):
            left.append(key)
            continue
        lines.append(f"{effect} " + ", ".join(_target(a) for a in items))
    left.extend(str(k) for k in rules if k not in ("allow", "deny"))
    return "\n".join(lines) + "\n", left


_IDENT_TARGET = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(\.\*)?$")


def _target(action: str) -> str:
    return action if _IDENT_TARGET.match(action) else '"' + action.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _policy_name(workflow: str, step: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{workflow}_{step}")
