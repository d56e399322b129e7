"""A call's arguments as the runtime handles them: a private copy, the bound names, the usage a tool reports.

Split from ``engine`` so the engine holds only the sequence of a call (decide → consent
→ run → record); these helpers are pure and have no state of their own.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any, Callable, Mapping

from agentos_contracts.runtime.budgets import amount_of


class _Unreadable:
    """Arguments that could not be copied: they have no canonical form either, so they are denied."""


def snapshot(args: dict[str, Any]) -> Any:
    """A deep copy of the arguments, so a caller cannot change them between decision and call."""
    try:
        return copy.deepcopy(args)
    except Exception:  # (too deep, uncopyable): deny, never run on the live objects
        return _Unreadable()


def usage_report(usage: Callable[[Any], Mapping[str, Any]] | None, result: Any) -> tuple[dict[str, Any], str | None]:
    """``(amounts to charge, why the report was refused)``: a report that is not a mapping of
    non-negative finite numbers charges nothing and says so in the record, since the tool already ran."""
    if usage is None:
        return {}, None
    try:
        used = dict(usage(result))
        spent = {k: amount_of(used[k]) for k in ("tokens", "cost") if used.get(k)}
        if any(v < 0 for v in spent.values()):
            return {}, "usage report refused (negative amount)"
        return spent, None
    except Exception as exc:
        return {}, f"usage report refused ({type(exc).__name__})"


def arguments(bound: inspect.BoundArguments) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        kind = bound.signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            out.update(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            out[name] = list(value)
        else:
            out[name] = value
    return out
