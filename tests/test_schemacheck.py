"""schemacheck decides exactly as jsonschema does, on random schemas and values."""

from __future__ import annotations

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.schemacheck import _compile_parts, _plain_object, _Refs, compile_schema, unique

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(-5, 5, allow_nan=False),
                    st.sampled_from([1.0, 0.0, 2.5]), st.text(max_size=4))
# near-duplicates for uniqueItems: true vs 1, 1 vs 1.0, deep lists and objects
LOOKALIKES = st.lists(st.sampled_from([0, 1, 1.0, True, False, "a", "1", [1], [True], [1.0], {"a": 1}, {"a": True},
                                       {"a": 1.0}, [[0]], [[False]]]), max_size=4)
VALUES = st.recursive(st.one_of(SCALARS, LOOKALIKES), lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "b", "c", "d", "ab", "A"]), inner, max_size=3)),
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
        "uniqueItems": st.booleans(),
    })


def _schemas(defs: list[str]) -> st.SearchStrategy[dict]:
    """Random schemas; ``$ref``s (alone or beside other keywords) point only at ``defs``."""
    leaf = _leaf()
    if defs:
        leaf = st.one_of(leaf, st.builds(lambda name, extra: {**extra, "$ref": f"#/$defs/{name}"},
                                         st.sampled_from(defs), st.one_of(st.just({}), _leaf())))
    return st.recursive(leaf, lambda inner: st.one_of(
        st.fixed_dictionaries({"type": st.just("object")}, optional={
            "properties": st.dictionaries(st.sampled_from(["a", "b", "c"]), st.one_of(inner, st.booleans()),
                                          max_size=3),
            "required": st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=3, unique=True),
            "additionalProperties": st.one_of(st.booleans(), inner),
            "propertyNames": st.one_of(st.booleans(), inner)}),
        st.fixed_dictionaries({"type": st.just("array")}, optional={
            "items": inner, "minItems": st.integers(0, 2), "uniqueItems": st.booleans()}),
        st.fixed_dictionaries({"anyOf": st.lists(inner, min_size=1, max_size=3)}),
    ), max_leaves=6)


@st.composite
def _rooted(draw: st.DrawFn) -> dict:
    # d1 may use d0 and the root both: refs form a DAG (cycles refuse to compile, tested below)
    if not draw(st.booleans()):
        return draw(_schemas([]))
    d0 = draw(_schemas([]))
    d1 = draw(_schemas(["d0"]))
    return {**draw(_schemas(["d0", "d1"])), "$defs": {"d0": d0, "d1": d1}}


SCHEMAS = _rooted()


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


def _agrees(schema: dict, value) -> None:
    failed = compile_schema(schema)(value)
    errors = {(tuple(e.absolute_path), e.validator) for e in jsonschema.Draft202012Validator(schema).iter_errors(value)}
    assert (failed is None) == (not errors)
    assert failed is None or failed in errors


# the random schemas above rarely meet a duplicate or a bad name: these two aim at them
@settings(max_examples=300, deadline=None)
@given(value=st.lists(st.one_of(LOOKALIKES, st.sampled_from([0, 1, 1.0, True, False, None, "a"])), max_size=5))
def test_unique_items_agree_with_jsonschema(value: list) -> None:
    _agrees({"$defs": {"set": {"type": "array", "uniqueItems": True}}, "$ref": "#/$defs/set"}, value)


@settings(max_examples=300, deadline=None)
@given(names=_leaf(), value=st.dictionaries(st.text("aAbx1", max_size=3), st.none(), max_size=4))
def test_property_names_agree_with_jsonschema(names: dict, value: dict) -> None:
    _agrees({"$defs": {"key": names}, "type": "object", "propertyNames": {"$ref": "#/$defs/key"}}, value)


@pytest.mark.parametrize("schema", [
    {"$ref": "https://example.com/x.json"},
    {"$ref": "#/$defs/missing", "$defs": {"x": {}}},
    {"$ref": "#anchor", "$defs": {"x": {"$anchor": "anchor"}}},
    {"$ref": "#/$defs/x/properties/a", "$defs": {"x": {"properties": {"a": {}}}}},
    {"$ref": "#/$defs/tree", "$defs": {"tree": {"type": "array", "items": {"$ref": "#/$defs/tree"}}}},
    {"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"items": {"$ref": "#/$defs/a"}}}},
    {"$ref": "#/$defs/x", "$defs": {"x": {"$id": "https://example.com/other", "$ref": "#/$defs/y"}}},
    {"type": "array", "uniqueItems": 1},
    {"type": "object", "propertyNames": {"oneOf": [{}]}},
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


def test_refs_resolve_in_the_root_and_keep_the_inner_keyword() -> None:
    root = {"$defs": {"name": {"type": "string", "pattern": "^[a-z]+$"},
                      "names": {"type": "array", "uniqueItems": True, "items": {"$ref": "#/$defs/name"}}},
            "type": "object", "propertyNames": {"$ref": "#/$defs/name"},
            "properties": {"tags": {"$ref": "#/$defs/names", "maxItems": 2}}}
    check = compile_schema(root)
    assert check is not None
    assert check({"tags": ["a", "b"]}) is None
    assert check({"tags": ["a", "B"]}) == (("tags", 1), "pattern")
    assert check({"tags": ["a", "a"]}) == (("tags",), "uniqueItems")
    assert check({"tags": ["a", "b", "c"]}) == (("tags",), "maxItems")
    assert check({"Tags": []}) == ((), "pattern")  # a bad name is reported at the object, as jsonschema does
    part = compile_schema(root["$defs"]["names"], root=root)  # a part, its refs resolved in the root
    assert part is not None and part(["x", "Y"]) == ((1,), "pattern")
    assert compile_schema(root["$defs"]["names"]) is None  # on its own, the part's ref points nowhere


def test_unique_items_uses_json_equality() -> None:
    assert not unique([1, 1.0]) and not unique([[1], [1.0]]) and not unique([{"a": 1}, {"a": 1.0}])
    assert unique([True, 1]) and unique([False, 0]) and unique([[True], [1]]) and unique([{"a": True}, {"a": 1}])
    assert unique(["1", 1]) and unique([]) and not unique([None, None])
    # jsonschema only compares sorted neighbours, and Python sorts [True] next to [1]: kept as it is
    assert unique([[1], [True], [1]]) == jsonschema.Draft202012Validator({"uniqueItems": True}).is_valid([[1], [True], [1]])


PLAIN_OBJECTS = st.fixed_dictionaries({"type": st.just("object")}, optional={
    "properties": st.dictionaries(st.sampled_from(["a", "b", "c"]), st.one_of(
        st.builds(lambda t: {"type": t}, st.sampled_from(TYPE_NAMES)), _leaf(), st.booleans()), max_size=3),
    "required": st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=3, unique=True),
    "additionalProperties": st.booleans(), "description": st.text(max_size=2)})


@settings(max_examples=400, deadline=None)
@given(schema=PLAIN_OBJECTS, value=VALUES)
def test_plain_object_check_fails_where_the_keyword_chain_fails(schema: dict, value) -> None:
    # the one-frame check for the usual tool inputSchema reports the very place and keyword
    # the keyword-by-keyword closures report, so a runtime reason never changes with it
    fused, parts = _plain_object(schema, _Refs(schema)), _compile_parts(schema, _Refs(schema))
    assert fused is not None and parts is not None
    assert fused(value) == parts(value)
