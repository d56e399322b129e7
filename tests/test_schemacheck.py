"""schemacheck decides exactly as jsonschema does, on random schemas and values."""

from __future__ import annotations

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.schemacheck import compile_schema

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(-5, 5, allow_nan=False),
                    st.sampled_from([1.0, 0.0, 2.5]), st.text(max_size=4))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), inner, max_size=3)),
    max_leaves=8)
TYPE_NAMES = ["object", "array", "string", "boolean", "null", "number", "integer"]
NUMBER = st.one_of(st.integers(-3, 3), st.floats(-3, 3, allow_nan=False, allow_infinity=False))


def _leaf() -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({}, optional={
        "type": st.one_of(st.sampled_from(TYPE_NAMES), st.lists(st.sampled_from(TYPE_NAMES), min_size=1,
                                                                 max_size=3, unique=True)),
        "minimum": NUMBER, "maximum": NUMBER, "exclusiveMinimum": NUMBER, "exclusiveMaximum": NUMBER,
        "minLength": st.integers(0, 3), "maxLength": st.integers(0, 3), "pattern": st.sampled_from(["^a", "b", "x$"]),
        "enum": st.lists(SCALARS, min_size=1, max_size=3), "const": SCALARS,
        "minItems": st.integers(0, 2), "maxItems": st.integers(0, 2), "description": st.text(max_size=3),
    })


SCHEMAS = st.recursive(_leaf(), lambda inner: st.one_of(
    st.fixed_dictionaries({"type": st.just("object")}, optional={
        "properties": st.dictionaries(st.sampled_from(["a", "b", "c"]), st.one_of(inner, st.booleans()), max_size=3),
        "required": st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=3, unique=True),
        "additionalProperties": st.one_of(st.booleans(), inner)}),
    st.fixed_dictionaries({"type": st.just("array")}, optional={"items": inner, "minItems": st.integers(0, 2)}),
    st.fixed_dictionaries({"anyOf": st.lists(inner, min_size=1, max_size=3)}),
), max_leaves=6)


@settings(max_examples=400, deadline=None)
@given(schema=SCHEMAS, value=VALUES)
def test_fast_check_agrees_with_jsonschema(schema: dict, value) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    fast = compile_schema(schema)
    assert fast is not None
    failed = fast(value)
    assert (failed is None) == jsonschema.Draft202012Validator(schema).is_valid(value)
    if failed is not None and failed[1] != "false":  # the place and keyword name a real error of jsonschema's
        path, keyword = failed
        errors = {(tuple(e.absolute_path), e.validator) for e in jsonschema.Draft202012Validator(schema).iter_errors(value)}
        assert (path, keyword) in errors


@pytest.mark.parametrize("schema", [
    {"$ref": "#/$defs/x", "$defs": {"x": {}}},
    {"oneOf": [{"type": "string"}]},
    {"type": "object", "patternProperties": {"^a": {}}},
    {"$schema": "http://json-schema.org/draft-04/schema#", "type": "number", "exclusiveMinimum": True},
    {"type": "object", "properties": {"a": {"oneOf": [{}]}}},
])
def test_unsupported_schemas_fall_back(schema: dict) -> None:
    assert compile_schema(schema) is None


def test_booleans_are_not_numbers_and_integers_may_be_floats() -> None:
    check = compile_schema({"type": "object", "properties": {"n": {"type": "integer", "minimum": 0}},
                            "required": ["n"]})
    assert check is not None
    assert check({"n": 3}) is None and check({"n": 3.0}) is None
    assert check({"n": True}) == (("n",), "type") and check({"n": -1}) == (("n",), "minimum")
    assert check({}) == ((), "required")
    assert compile_schema({"enum": [1]})(True) == ((), "enum")
