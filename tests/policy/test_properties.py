"""Properties over random policies and requests (hypothesis).

- the evaluator agrees with a plain reference interpreter over the AST, written here
  without looking at the closures (the policy goes through fmt → parse → compile, so
  the formatter and the parser are exercised too);
- fmt output re-parses to the same AST;
- for conditions without `has`, removing an attribute never makes a decision less
  strict (deny never becomes consent or allow; consent never becomes allow).
"""

from __future__ import annotations

import fnmatch
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentos_contracts.policy import ast
from agentos_contracts.policy.compiler import compile_sources
from agentos_contracts.policy.fmt import format_policy
from agentos_contracts.policy.parser import parse_policy

PATHS = [("a",), ("b",), ("flag",), ("d", "e"), ("d", "f"), ("in", "x")]
ACTIONS = ["a.b", "a.c", "x", "a.b.c", "y", "policy.update"]
GLOBS = ["a*", "*", "?", "[ab]*", "*b", "a?b", "[!a]*"]
STRINGS = st.sampled_from(["a", "b", "ab", "", "a.b", "é", "q\"\\\n"])
NUMBERS = st.one_of(st.integers(-3, 3), st.sampled_from([0.5, -1.5, 2.0, 1e3, 1e-7]))
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---- random ASTs ---------------------------------------------------------------------------


def lit(kind: str, value: Any) -> ast.Literal:
    return ast.Literal(kind=kind, value=value)


literals = st.one_of(NUMBERS.map(lambda v: lit("number", v)), STRINGS.map(lambda v: lit("string", v)),
                     st.booleans().map(lambda v: lit("bool", v)))
paths = st.sampled_from(PATHS).map(lambda p: ast.Path(parts=p))
lists = st.lists(literals, max_size=4).map(lambda items: ast.ListLit(items=tuple(items)))


@st.composite
def atoms(draw: Any, with_has: bool) -> ast.Expr:
    kind = draw(st.sampled_from(["cmp", "order", "member", "contains", "matches", "truth", "action", "has"]
                                if with_has else ["cmp", "order", "member", "contains", "matches", "truth", "action"]))
    if kind == "cmp":
        return ast.Compare(op=draw(st.sampled_from(["==", "!="])), left=draw(paths),
                           right=draw(st.one_of(literals, paths, lists)))
    if kind == "order":
        right = draw(st.one_of(NUMBERS.map(lambda v: lit("number", v)), paths))
        return ast.Compare(op=draw(st.sampled_from(["<", "<=", ">", ">="])), left=draw(paths), right=right)
    if kind == "member":
        op = draw(st.sampled_from(["in", "not in"]))
        left, right = draw(st.sampled_from([("p", "list"), ("lit", "p"), ("p", "p")]))
        elem = draw(paths) if left == "p" else draw(literals)
        cont = draw(lists) if right == "list" else draw(paths)
        return ast.Member(op=op, left=elem, right=cont)
    if kind == "contains":
        return ast.Member(op="contains", left=draw(paths), right=draw(st.one_of(literals, paths)))
    if kind == "matches":
        return ast.Matches(subject=draw(st.one_of(paths, st.just(ast.ActionRef()))), glob=draw(st.sampled_from(GLOBS)))
    if kind == "truth":
        return ast.Truth(operand=draw(st.one_of(paths, st.booleans().map(lambda v: lit("bool", v)))))
    if kind == "action":
        names = st.sampled_from(ACTIONS).map(lambda v: lit("string", v))
        if draw(st.booleans()):
            return ast.Compare(op=draw(st.sampled_from(["==", "!="])), left=ast.ActionRef(), right=draw(names))
        return ast.Member(op="in", left=ast.ActionRef(), right=ast.ListLit(items=tuple(draw(st.lists(names, max_size=3)))))
    return ast.Has(path=draw(st.one_of(paths, st.just(ast.Path(parts=("d",))))))


@st.composite
def conditions(draw: Any, with_has: bool = True, depth: int = 0) -> ast.Expr:
    if depth >= 3 or draw(st.integers(0, 2)) == 0:
        return draw(atoms(with_has))
    kind = draw(st.sampled_from(["and", "or", "not"]))
    if kind == "not":
        return ast.Not(operand=draw(conditions(with_has, depth + 1)))
    items = draw(st.lists(conditions(with_has, depth + 1), min_size=2, max_size=3))
    cls = ast.And if kind == "and" else ast.Or
    flat: list[ast.Expr] = []
    for i in items:  # the parser flattens nested ANDs (ORs); build the same shape
        flat.extend(i.items if isinstance(i, cls) else (i,))
    return cls(items=tuple(flat))


targets = st.one_of(
    st.sampled_from(["a.b", "a.c", "x", "allow", "policy.update"]).map(lambda n: ast.Target(kind="exact", name=n)),
    st.just(ast.Target(kind="prefix", name="a.")), st.just(ast.Target(kind="all")))


@st.composite
def policies(draw: Any, with_has: bool = True) -> list[ast.Rule]:
    rules = []
    for i in range(draw(st.integers(0, 6))):
        cond = draw(st.one_of(st.none(), conditions(with_has)))
        explicit = f"r{i}" if draw(st.booleans()) else None
        rules.append(ast.Rule(effect=draw(st.sampled_from(list(ast.Effect))),
                              targets=tuple(draw(st.lists(targets, max_size=3, unique=True))),
                              condition=cond, explicit_id=explicit, id=explicit or f"p.policy:{i + 1}"))
    return rules


json_scalars = st.one_of(st.none(), NUMBERS, STRINGS, st.booleans(), st.just(float("nan")))
json_values = st.one_of(json_scalars, st.lists(st.one_of(NUMBERS, STRINGS, st.booleans()), max_size=3),
                        st.fixed_dictionaries({"e": json_scalars, "f": json_scalars, "x": json_scalars}))
contexts = st.dictionaries(st.sampled_from(["a", "b", "flag", "d", "in"]), json_values, max_size=5)


# ---- the reference interpreter ------------------------------------------------------------------


class Err(Exception):
    pass


MISSING = object()


def lookup(ctx: Any, parts: tuple[str, ...]) -> Any:
    v = ctx
    for p in parts:
        if not isinstance(v, dict) or v.get(p) is None:
            return MISSING
        v = v[p]
    return v


def finite(v: Any) -> bool:
    if isinstance(v, float):
        return math.isfinite(v)
    if isinstance(v, list):
        return all(finite(x) for x in v)
    if isinstance(v, dict):
        return all(finite(x) for x in v.values())
    return True


def value(o: ast.Operand, ctx: Any, action: str) -> Any:
    if isinstance(o, ast.Literal):
        return o.value
    if isinstance(o, ast.ListLit):
        return [i.value for i in o.items]
    if isinstance(o, ast.ActionRef):
        return action
    v = lookup(ctx, o.parts)
    if v is MISSING or not finite(v):
        raise Err
    return v


def norm(v: Any) -> Any:
    if v is None:
        return ("null",)
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, (int, float)):
        return ("number", v)
    if isinstance(v, str):
        return ("string", v)
    if isinstance(v, list):
        return ("list", tuple(norm(x) for x in v))
    return ("object", frozenset((k, norm(x)) for k, x in v.items() if x is not None))


def number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def holds(e: ast.Expr, ctx: Any, action: str) -> bool:
    if isinstance(e, ast.And):
        return all(holds(i, ctx, action) for i in e.items)  # all() stops at the first False
    if isinstance(e, ast.Or):
        return any(holds(i, ctx, action) for i in e.items)
    if isinstance(e, ast.Not):
        return not holds(e.operand, ctx, action)
    if isinstance(e, ast.Has):
        return e.path.parts == ("action",) or lookup(ctx, e.path.parts) is not MISSING
    if isinstance(e, ast.Truth):
        v = value(e.operand, ctx, action)
        if isinstance(v, bool):
            return v
        raise Err
    if isinstance(e, ast.Matches):
        v = value(e.subject, ctx, action)
        if not isinstance(v, str):
            raise Err
        return fnmatch.fnmatchcase(v, e.glob)
    if isinstance(e, ast.Compare):
        a, b = value(e.left, ctx, action), value(e.right, ctx, action)
        if e.op == "==":
            return norm(a) == norm(b)
        if e.op == "!=":
            return norm(a) != norm(b)
        if not (number(a) and number(b)):
            raise Err
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[e.op]
    assert isinstance(e, ast.Member)
    elem_node, cont_node = (e.right, e.left) if e.op == "contains" else (e.left, e.right)
    x, c = value(elem_node, ctx, action), value(cont_node, ctx, action)
    if isinstance(c, list):
        if isinstance(x, list):  # policy-dsl.md: a list or set on the element side is a type error
            raise Err
        found = any(norm(x) == norm(y) for y in c)
    elif isinstance(c, str):
        if not isinstance(x, str):
            raise Err
        found = x in c
    else:
        raise Err
    return not found if e.op == "not in" else found


def matches(t: ast.Target, action: str) -> bool:
    return t.kind == "all" or (t.kind == "prefix" and action.startswith(t.name)) or action == t.name


def reference(rules: list[ast.Rule], action: str, ctx: Any) -> tuple[str, tuple[str, ...]]:
    hit: dict[str, list[int]] = {"allow": [], "deny": [], "consent": []}
    failed: list[int] = []
    for i, r in enumerate(rules):
        if r.targets and not any(matches(t, action) for t in r.targets):
            continue
        try:
            applies = r.condition is None or holds(r.condition, ctx, action)
        except Err:
            if r.effect is not ast.Effect.ALLOW:
                failed.append(i)
            continue
        if applies:
            hit[r.effect.value].append(i)
    if hit["deny"] or failed:
        return "deny", tuple(rules[i].id for i in sorted(hit["deny"] + failed))
    for effect in ("consent", "allow"):
        if hit[effect]:
            return effect, tuple(rules[i].id for i in hit[effect])
    return "deny", ()


# ---- properties ----------------------------------------------------------------------------------


def source(rules: list[ast.Rule]) -> str:
    return format_policy(ast.PolicyFile(file="p.policy", statements=tuple(rules)), "")


@SETTINGS
@given(policies(), st.lists(st.tuples(st.sampled_from(ACTIONS), contexts), min_size=1, max_size=8))
def test_evaluator_agrees_with_the_reference_interpreter(rules: list[ast.Rule], requests: list[Any]) -> None:
    text = source(rules)
    result = compile_sources([("p.policy", text.encode())], analyse=False)
    assert result.ok, (text, result.diagnostics)
    for action, ctx in requests:
        d = result.policy.decide(action, ctx)
        assert (d.effect, d.rules) == reference(rules, action, ctx), (text, action, ctx)


@SETTINGS
@given(policies())
def test_fmt_output_reparses_to_the_same_ast(rules: list[ast.Rule]) -> None:
    text = source(rules)
    parsed = parse_policy(text, "p.policy")
    assert parsed.diagnostics == [], text
    assert parsed.value is not None and list(parsed.value.statements) == rules
    assert [r.id for r in parsed.value.rules] == [r.id for r in rules]
    assert format_policy(parsed.value, text) == text  # idempotent


RANK = {"allow": 0, "consent": 1, "deny": 2}


def removals(ctx: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for k, v in ctx.items():
        out.append({x: y for x, y in ctx.items() if x != k})
        out.append({**ctx, k: None})  # null is absent
        if isinstance(v, dict):
            for kk, inner in v.items():
                if isinstance(inner, float) and inner != inner:
                    # NaN makes the whole object unreadable (an error: fail closed); dropping it makes
                    # the object a JSON value again, which is repairing bad data, not omitting an attribute
                    continue
                out.append({**ctx, k: {x: y for x, y in v.items() if x != kk}})
    return out


@SETTINGS
@given(policies(with_has=False), st.sampled_from(ACTIONS), contexts)
def test_removing_an_attribute_never_loosens_a_decision(rules: list[ast.Rule], action: str, ctx: dict[str, Any]) -> None:
    result = compile_sources([("p.policy", source(rules).encode())], analyse=False)
    before = result.policy.decide(action, ctx).effect
    for smaller in removals(ctx):
        after = result.policy.decide(action, smaller).effect
        assert RANK[after] >= RANK[before], (source(rules), ctx, smaller)
