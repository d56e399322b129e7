"""The parser: every construct of the design note, located errors, recovery, robustness."""

from __future__ import annotations

import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.policy import ast
from agentos_contracts.policy.parser import parse_policy

DESIGN_EXAMPLE = '''\
# doc-rag-planner.policy — comments start with '#'
policy doc_rag_planner                       # optional header

attribute risk_score: number                 # optional declarations; they turn on type checking
attribute unsafe_environment: bool
attribute args.host: string
attribute args.amount: number
attribute user.roles: set<string>

ALLOW web.fetch IF risk_score < 0.5 AND args.host IN ["city.gov", "data.city.gov"]
ALLOW fs.read, summarize
DENY IF unsafe_environment == true            # no target: applies to every action
DENY fs.write
DENY payment.* IF args.amount > 1000          # trailing '*' matches any suffix after the dot
REQUIRE CONSENT FOR payment.charge, email.send
@id("no-guest-delete") DENY files.delete IF "guest" IN user.roles OR NOT (has user.roles)
allow operation if risk_score < 0.5          # keywords are case-insensitive
'''


def parse(text: str, file: str = "p.policy") -> tuple[ast.PolicyFile, list]:
    r = parse_policy(text, file)
    assert r.value is not None
    return r.value, r.diagnostics


def one_rule(text: str) -> ast.Rule:
    policy, diags = parse(text)
    assert not diags, diags
    (rule,) = policy.rules
    return rule


def test_design_example_parses_cleanly() -> None:
    policy, diags = parse(DESIGN_EXAMPLE, "doc-rag.policy")
    assert diags == []
    assert policy.header is not None and policy.header.name == "doc_rag_planner"
    assert [d.path.dotted for d in policy.declarations] == [
        "risk_score", "unsafe_environment", "args.host", "args.amount", "user.roles"]
    assert policy.declarations[-1].type == ast.Type(name="set", element="string")
    ids = [r.id for r in policy.rules]
    assert ids == ["doc-rag.policy:10", "doc-rag.policy:11", "doc-rag.policy:12", "doc-rag.policy:13",
                   "doc-rag.policy:14", "doc-rag.policy:15", "no-guest-delete", "doc-rag.policy:17"]
    consent = policy.rules[5]
    assert consent.effect is ast.Effect.CONSENT
    assert [t.text() for t in consent.targets] == ["payment.charge", "email.send"]
    assert policy.rules[2].targets == () and policy.rules[2].applies_to_all
    assert policy.rules[4].targets[0] == ast.Target(kind="prefix", name="payment.")
    assert len(policy.comments) == 6


def test_precedence_or_and_not() -> None:
    r = one_rule("DENY x IF a == 1 OR b == 2 AND NOT c == 3")
    assert isinstance(r.condition, ast.Or)
    left, right = r.condition.items
    assert isinstance(left, ast.Compare)
    assert isinstance(right, ast.And)
    assert isinstance(right.items[1], ast.Not) and isinstance(right.items[1].operand, ast.Compare)


def test_parentheses_group_and_chains_flatten() -> None:
    r = one_rule("ALLOW x IF (a OR b) AND c AND (d AND e)")
    assert isinstance(r.condition, ast.And)
    assert len(r.condition.items) == 4  # (d AND e) flattens: AND is associative
    assert isinstance(r.condition.items[0], ast.Or)


def test_operators_and_operands() -> None:
    r = one_rule('ALLOW x IF a NOT IN [1, -2.5, 1e3, "s", true] AND b CONTAINS "q" AND c MATCHES "*.gov" '
                 'AND action == "x" AND has d.e AND f')
    items = r.condition.items  # type: ignore[union-attr]
    member = items[0]
    assert member.op == "not in"
    assert [(i.kind, i.value) for i in member.right.items] == [
        ("number", 1), ("number", -2.5), ("number", 1000.0), ("string", "s"), ("bool", True)]
    assert items[1] == ast.Member(op="contains", left=ast.Path(parts=("b",)), right=ast.Literal(kind="string", value="q"))
    assert items[2] == ast.Matches(subject=ast.Path(parts=("c",)), glob="*.gov")
    assert isinstance(items[3].left, ast.ActionRef)
    assert items[4] == ast.Has(path=ast.Path(parts=("d", "e")))
    assert items[5] == ast.Truth(operand=ast.Path(parts=("f",)))


def test_keywords_are_case_insensitive_and_reserved_only_as_bare_words() -> None:
    r = one_rule("Allow policy.update, allow.x iF Not has in.x")
    assert r.effect is ast.Effect.ALLOW
    assert [t.name for t in r.targets] == ["policy.update", "allow.x"]
    assert isinstance(r.condition, ast.Not)


def test_policy_and_attribute_are_names_after_the_start() -> None:
    r = one_rule("ALLOW x IF policy == attribute")
    assert r.condition == ast.Compare(op="==", left=ast.Path(parts=("policy",)), right=ast.Path(parts=("attribute",)))
    r = one_rule("ALLOW x IF (\n  attribute == 1 OR\n  policy\n)")
    assert isinstance(r.condition, ast.Or)


def test_quoted_targets_and_short_consent_forms() -> None:
    policy, diags = parse('CONSENT "mcp.github.create_issue", "payment.*"\nREQUIRE CONSENT\nCONSENT FOR *\nALLOW "allow"')
    assert not diags
    a, b, c, d = policy.rules
    assert [t.kind for t in a.targets] == ["exact", "prefix"] and a.effect is ast.Effect.CONSENT
    assert b.targets == () and b.effect is ast.Effect.CONSENT
    assert c.targets[0].kind == "all"
    assert d.targets[0].name == "allow"


def test_rule_continues_inside_brackets_and_semicolons_end_rules() -> None:
    policy, diags = parse('ALLOW x IF a IN [\n  "b",\n  "c",\n] AND (\n  d == 1\n)\nDENY y; DENY z')
    assert not diags
    assert [r.id for r in policy.rules][:1] == ["p.policy:1"]
    assert len(policy.rules) == 3
    assert policy.rules[0].span.end_line == 6


def test_string_escapes() -> None:
    r = one_rule(r'ALLOW x IF a == "q\"\\\/\n\t\u00e9\ud83d\ude00"')
    assert r.condition.right.value == 'q"\\/\n\té\U0001F600'  # type: ignore[union-attr]


def test_error_reports_line_column_found_and_expected_with_caret_span() -> None:
    from agentos_contracts.report.text import format_diagnostic

    text = "ALLOW a\nALLOW web.fetch IF risk < 0.5 AND\n"
    _, diags = parse(text)
    (d,) = diags
    assert (d.code, d.line, d.column) == ("AC300", 2, 34)  # just after `AND`
    assert d.message == "unexpected end of line, expected a condition"
    shown = format_diagnostic(d, text).splitlines()
    assert shown[0] == "p.policy:2:34: error[AC300]: unexpected end of line, expected a condition"
    assert shown[1].endswith("ALLOW web.fetch IF risk < 0.5 AND")
    assert shown[2].index("^") == shown[1].index("AND") + 3


def test_several_errors_are_reported_one_per_rule() -> None:
    text = "ALLOW a IF x = 1\nALLOW b\nDENY c IF (y == 1\nALLOW d IF \"open\nALLOW deny\nDENY e IF a == 1 == 2\n"
    policy, diags = parse(text)
    assert [(d.code, d.line) for d in diags] == [
        ("AC303", 1), ("AC305", 3), ("AC301", 4), ("AC300", 5), ("AC300", 6)]
    assert [r.id for r in policy.rules] == ["p.policy:2"]  # the good rule survives
    assert diags[0].hint == "compare with `==`"
    assert "keyword" in diags[3].message and '"deny"' in diags[3].hint
    assert "do not chain" in diags[4].hint


def test_semantic_slips_are_located() -> None:
    _, diags = parse('@foo("x") ALLOW q\nALLOW "bad name"\nattribute n: boolean\nALLOW m IF x < 1e999\n'
                     'REQUIRE CONSENT FOR IF x\nALLOW a IF action.y == 1\nALLOW payment .*\nALLOW b IF x == "\\q"\n'
                     'ALLOW c\npolicy late\n')
    got = {(d.code, d.line) for d in diags}
    assert got == {("AC307", 1), ("AC306", 2), ("AC309", 3), ("AC304", 4), ("AC321", 5), ("AC320", 6),
                   ("AC322", 7), ("AC302", 8), ("AC308", 10)}
    bad_type = next(d for d in diags if d.code == "AC309")
    assert "did you mean `bool`" in bad_type.hint


def test_too_deep_nesting_is_an_error_not_a_crash() -> None:
    depth = 400
    _, diags = parse("ALLOW x IF " + "(" * depth + "a" + ")" * depth)
    assert [d.code for d in diags] == ["AC317"]
    _, diags = parse("ALLOW x IF " + "NOT " * 5000 + "a")
    assert [d.code for d in diags] == ["AC317"]


def test_too_deep_statements_never_reach_the_lexer(monkeypatch) -> None:
    """AC317 is found on the raw text: 50,000 brackets are refused without being lexed or parsed."""
    from agentos_contracts.policy import parser

    seen: list[str] = []
    real = parser._lexer

    class Spy:
        def lex(self, text: str):  # type: ignore[no-untyped-def]
            seen.append(text)
            return real().lex(text)

    monkeypatch.setattr(parser, "_lexer", lambda: Spy())
    text = ("ALLOW a IF " + "(" * 50_000 + "x == 1" + ")" * 50_000 + "\n"
            'ALLOW b IF s == "((((" # ((((\n'
            "DENY c IF (\n" + "(\n" * 2_000 + "y" + ")" * 2_001 + "\n"
            "ALLOW d IF " + "NOT " * 50_000 + "z\n"
            "ALLOW e\n")
    policy, diags = parse(text)
    assert [(d.code, d.line, d.column) for d in diags] == [("AC317", 1, 1), ("AC317", 3, 1), ("AC317", 2005, 1)]
    assert [r.id for r in policy.rules] == ["p.policy:2", "p.policy:2006"]
    (lexed,) = seen
    assert "((((((" not in lexed.replace('"(((("', "").replace("# ((((", "") and "NOT NOT" not in lexed
    assert lexed.count("\n") == text.count("\n")  # positions of the other rules are kept


def test_empty_and_comment_only_files() -> None:
    for text in ("", "\n\n", "# only a comment\n", ";;;"):
        policy, diags = parse(text)
        assert policy.statements == () and diags == []


TOKENS = ["ALLOW", "DENY", "REQUIRE", "CONSENT", "FOR", "IF", "AND", "OR", "NOT", "IN", "CONTAINS", "MATCHES",
          "has", "true", "false", "policy", "attribute", "@id", "(", ")", "[", "]", ",", ";", "\n", "==", "!=",
          "<", "<=", ">", ">=", "*", ".*", ":", "a", "b.c", "action", '"s"', '"x.*"', "1", "-2.5", "1e3", "#c",
          '"', "\\", "=", "&", "set<string>", "é", "\t", "\r\n", "\x00"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_token_soup_never_raises(tokens: list[str]) -> None:
    r = parse_policy(" ".join(tokens), "soup.policy")
    assert r.value is not None
    for d in r.diagnostics:
        assert d.line >= 1 and d.column >= 1 and d.code.startswith("AC3")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_random_text_never_raises(text: str) -> None:
    r = parse_policy(text, "random.policy")
    assert r.value is not None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_raise(data: bytes) -> None:
    from agentos_contracts.policy.compiler import compile_sources

    result = compile_sources([("bytes.policy", data)])
    assert all(d.code.startswith("AC") for d in result.diagnostics)
    if not result.ok:
        assert result.policy.decide("x", {}).effect == "deny"


def test_parser_module_is_the_only_lark_user() -> None:
    import importlib
    import subprocess

    code = ("import sys; import agentos_contracts.policy as p; from agentos_contracts.policy import evaluator, ir; "
            "assert 'lark' not in sys.modules, 'lark loaded'")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert importlib.import_module("agentos_contracts.policy.parser")
