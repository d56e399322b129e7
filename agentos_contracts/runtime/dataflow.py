"""A workflow step's outputs checked against the types its `out` declares (sealed in the manifest).

A step declaring ``out: {path: string}`` that returns ``5`` breaks the data contract the
next step was admitted against, so the run stops there (the step fails and completed
steps are compensated) instead of passing the wrong shape on. Types (documents.md,
"Workflow"): ``string``, ``markdown``, ``html``, ``uri`` (strings), ``number``, ``bool``,
``json`` (any JSON value), or a one-element list for "list of". Extra, undeclared
outputs pass unchecked; a declared output that is missing fails.
"""

from __future__ import annotations

from typing import Any, Mapping

STRINGS = frozenset({"string", "markdown", "html", "uri"})


def type_problem(kind: Any, value: Any) -> str | None:
    """None when ``value`` has type ``kind``, else what was expected (never the value itself)."""
    if isinstance(kind, list):
        if len(kind) != 1:
            return "a declared list type must have exactly one element type"
        if not isinstance(value, list):
            return f"a list of {kind[0]}"
        return next((f"a list of {kind[0]}" for item in value if type_problem(kind[0], item) is not None), None)
    if kind is None or kind == "json":
        return None
    if kind in STRINGS:
        return None if isinstance(value, str) else f"a {kind} (string)"
    if kind == "number":
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) else "a number"
    if kind == "bool":
        return None if isinstance(value, bool) else "a bool"
    return f"a value of the unknown type `{kind}`"


def output_problem(step: str, declared: Mapping[str, Any], outputs: Mapping[str, Any]) -> str | None:
    """The first declared output that is missing or of the wrong type, as a one-line reason."""
    for name, kind in declared.items():
        if name not in outputs:
            return f"step `{step}` did not return its declared output `{name}`"
        want = type_problem(kind, outputs[name])
        if want is not None:
            return f"step `{step}` returned `{name}` that is not {want}, as its `out` declares"
    return None
