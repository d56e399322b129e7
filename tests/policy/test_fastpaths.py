"""The fused fast paths decide exactly as the general closures, types declared or not.

A fused closure that answered where the general one raises would turn a fail-closed
DENY into "does not apply" (found once: a two-segment path ignored its declared type).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.policy import compile_files
from agentos_contracts.policy.closures import _build, build_condition
from agentos_contracts.policy.values import EvalError

PATHS = ["a", "u.v"]
TYPES = [None, "number", "string", "bool", "set<string>"]
SHAPES = ['{p} IN [1, 2]', '{p} IN ["x", "y"]', '"x" IN {p}', '{p} == 1', '{p} == "x"', '{p} != "x"',
          '{p} == true', '{p} < 3', '{p} >= 1.5', '{p}']
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([1.0, 2.5, math.nan, math.inf]),
                   st.sampled_from(["x", "y", "xyz", ""]), st.lists(st.sampled_from(["x", "y", 1]), max_size=3),
                   st.dictionaries(st.sampled_from(["v", "w"]), st.integers(0, 2), max_size=2))


def outcome(fn: Any, ctx: dict[str, Any]) -> Any:
    try:
        return ("value", fn(ctx, "act"))
    except EvalError:
        return ("error",)


def condition(path: str, typ: str | None, shape: str) -> dict[str, Any] | None:
    text = (f"attribute {path}: {typ}\n" if typ else "") + f"DENY act IF {shape.format(p=path)}\n"
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "p.policy"
        f.write_text(text)
        cp = compile_files([str(f)])
    if not cp.ok:
        return None  # a type mismatch the checker already refuses at compile time
    return next(r.condition for r in cp.document.rules if r.effect == "deny")


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(PATHS), st.sampled_from(TYPES), st.sampled_from(SHAPES), VALUES, st.booleans())
def test_fused_agrees_with_general(path: str, typ: str | None, shape: str, value: Any, nested_ok: bool) -> None:
    node = condition(path, typ, shape)
    if node is None:
        return
    if "." in path:
        head, tail = path.split(".")
        ctx: dict[str, Any] = {head: {tail: value}} if nested_ok else {head: value}
    else:
        ctx = {path: value}
    assert outcome(build_condition(node), ctx) == outcome(_build(node), ctx)
