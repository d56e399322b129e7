"""The validate pre-check (schemacheck on the shipped schemas) agrees with jsonschema."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from agentos_contracts.documents.loader import load_text
from agentos_contracts.resources import schema
from agentos_contracts.schemacheck import compile_schema

ROOT = Path(__file__).resolve().parents[2]
KINDS = ["AgentContract", "Workflow", "Platform", "TaskSet"]
EXAMPLES = {k: [] for k in KINDS}  # type: dict[str, list[Any]]
for p in sorted((ROOT / "contracts").rglob("*.yaml")):
    for doc in load_text(str(p), p.read_text()).documents:
        if doc.kind in EXAMPLES:
            EXAMPLES[doc.kind].append(doc.data)

ODD_VALUES = [None, True, False, 0, -1, 1.5, "", "x", "HRT", "edge", [], [1], ["a"], {}, {"a": 1}, 10**20, "agentos/v0.2"]


def mutate(doc: Any, rnd: random.Random) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(rnd.randint(1, 3)):
        # pick a random container along a random path
        cur = doc
        for _ in range(rnd.randint(0, 4)):
            kids = list(cur.values()) if isinstance(cur, dict) else cur if isinstance(cur, list) else []
            kids = [k for k in kids if isinstance(k, (dict, list))]
            if not kids:
                break
            cur = rnd.choice(kids)
        if isinstance(cur, dict) and cur:
            key = rnd.choice(sorted(cur))
            op = rnd.random()
            if op < 0.4:
                cur[key] = rnd.choice(ODD_VALUES)
            elif op < 0.6:
                del cur[key]
            else:
                cur[key + rnd.choice(["s", "_", ""])] = rnd.choice(ODD_VALUES)
        elif isinstance(cur, list) and cur:
            cur[rnd.randrange(len(cur))] = rnd.choice(ODD_VALUES)
    return doc


@pytest.mark.parametrize("kind", KINDS)
def test_precheck_compiles_for_every_shipped_schema(kind: str) -> None:
    assert compile_schema(schema(f"{kind}.schema.json")) is not None


def test_unknown_keywords_refuse_to_compile() -> None:
    assert compile_schema({"type": "object", "patternProperties": {"^x": {}}}) is None


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(KINDS), st.integers(0, 2**32 - 1))
def test_precheck_agrees_with_jsonschema(kind: str, seed: int) -> None:
    rnd = random.Random(seed)
    if not EXAMPLES[kind]:
        return
    doc = mutate(rnd.choice(EXAMPLES[kind]), rnd)
    sch = schema(f"{kind}.schema.json")
    check = compile_schema(sch)
    assert check is not None
    fast = check(doc) is None
    slow = Draft202012Validator(sch).is_valid(doc)
    assert fast == slow, doc
