"""Static checks: declarations, MCP inputSchema types, unknown names, ids, globs."""

from __future__ import annotations

from typing import Any

import pytest

from agentos_contracts.policy.compiler import compile_sources

TOOLS = {
    "payment.charge": {"type": "object", "properties": {"amount": {"type": "number"}, "currency": {"type": "string"},
                                                        "meta": {"type": "object", "properties": {"tag": {"type": "string"}}}}},
    "web.fetch": {"type": "object", "properties": {"url": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}}},
    "email.send": {"type": "object", "properties": {"to": {"type": ["string", "null"]}}},
}


def diags(*texts: str, tools: dict[str, Any] | None = None, contract: dict[str, Any] | None = None) -> list[tuple[str, int]]:
    sources = [(f"f{i}.policy", t.encode()) for i, t in enumerate(texts)]
    result = compile_sources(sources, contract, tool_schemas=tools)
    return [(d.code, d.line) for d in result.diagnostics]


def messages(text: str, **kw: Any) -> list[Any]:
    return compile_sources([("f.policy", text.encode())], kw.get("contract"), tool_schemas=kw.get("tools")).diagnostics


def test_unknown_attribute_when_declarations_exist_with_did_you_mean() -> None:
    (d,) = messages("attribute risk_score: number\nALLOW x IF risk_scor < 1\n")
    assert (d.code, d.line, d.column) == ("AC310", 2, 12)
    assert d.message == "unknown attribute `risk_scor`"
    assert d.hint == "did you mean `risk_score`?"


def test_undeclared_attributes_are_fine_without_declarations() -> None:
    assert diags("ALLOW x IF anything < 1 AND other.thing == \"a\"") == []


def test_prefix_of_a_declared_path_is_known() -> None:
    assert diags("attribute user.roles: set<string>\nALLOW x IF has user AND \"a\" IN user.roles\n") == []


def test_type_mismatch_against_declaration() -> None:
    found = messages('attribute n: number\nattribute s: string\nattribute r: set<string>\nattribute b: bool\n'
                     'ALLOW a IF n == "1"\nALLOW b IF s < 3\nALLOW c IF 3 IN r\nALLOW d IF s\nALLOW e IF n MATCHES "x*"\n'
                     'ALLOW f IF r IN ["a"]\nALLOW g IF "a" IN n\nALLOW h IF b == true AND r == ["x"] AND s IN ["a"]\n')
    assert [(d.code, d.line) for d in found] == [("AC311", n) for n in (5, 6, 7, 8, 9, 10, 11)]
    assert found[0].message == "`n` is declared a number but `\"1\"` is a string; they are never equal"
    assert found[1].message == "`<` needs numbers, but `s` is declared a string"


def test_literal_type_errors_are_warnings_and_fail_closed_at_run_time() -> None:
    # the note's own example of a condition that "cannot be evaluated" is `"a" < 3`: it compiles
    # (AC319 warns) and fails closed; only a mismatch against a declaration or a tool schema is an error
    found = messages('ALLOW a IF "a" < 3\nALLOW b IF action < 3\nALLOW c IF action\nALLOW d IF 1 == "1"\n'
                     'ALLOW e IF true OR "a" < 3\nDENY f IF [1] IN ["a"]\nALLOW f\nALLOW g\n')
    assert [(d.code, d.line) for d in found if d.code != "AC330"] == [
        ("AC319", 1), ("AC319", 2), ("AC319", 3), ("AC319", 4), ("AC319", 5), ("AC319", 6)]
    assert not any(d.is_error for d in found)
    policy = compile_sources([("f.policy", b'ALLOW a IF true OR "a" < 3\nDENY f IF [1] IN ["a"]\n'
                                           b'ALLOW f\nALLOW g\nALLOW h IF "a" < 3 OR true\n')]).policy
    assert [policy.decide(a, {}).effect for a in "afgh"] == ["allow", "deny", "allow", "deny"]
    assert policy.decide("f", {}).rules == ("f.policy:2",)


def test_tool_input_schema_types_args() -> None:
    found = messages('ALLOW payment.charge IF args.amount > "10"\nALLOW web.fetch IF args.url == 3\n'
                     'ALLOW email.send IF args.to == "a" AND args.meta.tag == "x"\n', tools=TOOLS)
    assert [(d.code, d.line) for d in found] == [("AC312", 1), ("AC312", 2), ("AC318", 3)]
    assert found[0].message == "`>` needs numbers, but `\"10\"` is a string"
    assert found[1].message == "`args.url` is typed by the tool as a string but `3` is a number; they are never equal"


def test_unknown_tool_argument_with_did_you_mean() -> None:
    (d,) = messages("ALLOW payment.charge IF args.amout > 10\n", tools=TOOLS)
    assert (d.code, d.message, d.hint) == ("AC318", "tool `payment.charge` has no argument `amout`",
                                            "did you mean `args.amount`?")


def test_tool_schema_nested_and_array_types() -> None:
    assert diags('ALLOW payment.charge IF args.meta.tag == "x" AND has args.meta\n'
                 'ALLOW web.fetch IF "a" IN args.tags\n', tools=TOOLS) == []
    assert diags('ALLOW web.fetch IF 3 IN args.tags\n', tools=TOOLS) == [("AC312", 1)]


def test_tool_types_need_every_target_to_be_a_known_tool() -> None:
    # a prefix target could be any tool: args stay untyped
    assert diags('ALLOW payment.* IF args.amount == "10"\n', tools=TOOLS) == []
    assert diags('ALLOW payment.charge IF args.amount == "10"\n', tools=TOOLS) == [("AC312", 1)]


def test_duplicate_ids_and_file_names() -> None:
    assert diags('@id("a") ALLOW x\n@id("a") DENY y\n') == [("AC314", 2)]
    assert ("AC314", 1) in diags("DENY x; DENY y\n")
    result = compile_sources([("a/p.policy", b"ALLOW x"), ("b/p.policy", b"ALLOW y")])
    assert [d.code for d in result.diagnostics] == ["AC314", "AC315"]  # the derived ids collide too


def test_declarations_merge_across_files_and_conflicts_are_errors() -> None:
    assert diags("attribute n: number\n", "ALLOW x IF n > 1\n") == []
    assert diags("attribute n: number\n", "attribute n: string\nALLOW x\n") == [("AC316", 1)]
    assert diags("attribute n: number\nattribute n: number\nALLOW x IF n > 1\n") == [("AC336", 2)]


def test_malformed_glob_is_a_compile_error() -> None:
    (d,) = messages('ALLOW x IF h MATCHES "a[bc"\n')
    assert d.code == "AC313" and "never closed" in d.message and d.column == 22
    assert diags('ALLOW x IF h MATCHES "a\\\\"\n') == [("AC313", 1)]
    assert diags('ALLOW x IF h MATCHES "[z-a]"\n') == [("AC313", 1)]


@pytest.mark.parametrize("cond, outcome, effect", [
    # the design note: values of different types are simply unequal, so these evaluate normally
    ("9223372036854775808 != true", "always true (no run-time error)", "consent"),
    ('1 == "1"', "always false (no run-time error)", "allow"),
    ('1 IN ["a"]', "never in the list (no run-time error)", "allow"),
    ('"a" IN [1]', "never in the list (no run-time error)", "allow"),
    # these cannot be evaluated: a CONSENT that reaches them fails closed (deny)
    ('"a" < 3', "cannot be evaluated and fails closed", "deny"),
    ("[1] IN [1]", "cannot be evaluated and fails closed", "deny"),
    ('1 IN "abc"', "cannot be evaluated and fails closed", "deny"),
])
def test_ac319_says_what_evaluation_does(cond: str, outcome: str, effect: str) -> None:
    text = f"REQUIRE CONSENT * IF {cond}\nALLOW a\n"
    (warning,) = [d for d in messages(text) if d.code == "AC319"]
    assert warning.hint.endswith(outcome), warning.hint
    policy = compile_sources([("c.policy", text.encode())]).policy
    assert policy.decide("a", {}).effect == effect

