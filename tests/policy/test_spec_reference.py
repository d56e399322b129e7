"""An independent reference for the policy DSL, written from policy-dsl.md ("Meaning",
"Contracts and policies together", "Precise rules") and not from the evaluator.

Random policies — with and without `attribute` declarations, with MCP-typed `args`,
nested paths up to three segments, comments and blank lines (so derived ids move),
multi-line rules and `@id`s — are rendered to TEXT, compiled through the real parser and
compiler, and decided by ``CompiledPolicy.decide`` on random requests (wrong types,
`null`, NaN/Infinity, missing keys, lists, objects, args passed separately). The effect
and the deciding rule ids must equal the reference's. A pseudo-random generator with
fixed seeds keeps the run deterministic and fast.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from typing import Any

import pytest

from agentos_contracts.policy.compiler import compile_sources
from agentos_contracts.policy.evaluator import load_compiled_text

# ---- the reference interpreter (from the note) ------------------------------------------


class Err(Exception):
    """A condition that cannot be evaluated."""


ABSENT = object()


def lookup(ctx: Any, path: tuple[str, ...]) -> Any:
    """`a.b.c` is context["a"]["b"]["c"]; a missing key, a null, or a step into a non-object is absent."""
    v = ctx
    for seg in path:
        if not isinstance(v, dict):
            return ABSENT
        v = v.get(seg)
        if v is None:
            return ABSENT
    return v


def is_num(v: Any) -> bool:
    return type(v) in (int, float) and math.isfinite(v)


def json_ok(v: Any) -> bool:
    """NaN/Infinity are not numbers (nor any JSON value): reading one is an error."""
    if isinstance(v, float):
        return math.isfinite(v)
    if isinstance(v, list):
        return all(json_ok(x) for x in v)
    if isinstance(v, dict):
        return all(json_ok(x) for x in v.values())
    return True


def has_type(v: Any, typ: str) -> bool:
    scalar = {"number": is_num, "string": lambda x: type(x) is str, "bool": lambda x: type(x) is bool}
    if typ in scalar:
        return scalar[typ](v)
    inner = typ[typ.index("<") + 1:-1]
    return type(v) is list and all(scalar[inner](x) for x in v)


def eq(a: Any, b: Any, as_sets: bool = False) -> bool:
    """Values of different types are simply unequal; true is not 1; `set<...>` compares as sets."""
    if is_num(a) and is_num(b):
        return a == b
    if type(a) is not type(b):
        return False
    if type(a) is list:
        if as_sets:
            return all(any(eq(x, y) for y in b) for x in a) and all(any(eq(y, x) for x in a) for y in b)
        return len(a) == len(b) and all(eq(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        ka = {k for k, v in a.items() if v is not None}
        kb = {k for k, v in b.items() if v is not None}
        return ka == kb and all(eq(a[k], b[k]) for k in ka)
    return a == b


def glob_match(glob: str, s: str) -> bool:
    """Whole-string shell glob, by backtracking over the pattern (no regex)."""

    def cls(i: int) -> tuple[int, Any]:
        j = i + 1
        neg = j < len(glob) and glob[j] == "!"
        j += neg
        items: list[tuple[str, str]] = []
        first = True
        while glob[j] != "]" or first:
            c = glob[j]
            if c == "\\":
                j += 1
                c = glob[j]
            if j + 2 < len(glob) and glob[j + 1] == "-" and glob[j + 2] != "]":
                items.append((c, glob[j + 2]))
                j += 3
            else:
                items.append((c, c))
                j += 1
            first = False
        return j + 1, lambda ch: any(lo <= ch <= hi for lo, hi in items) != neg

    def m(gi: int, si: int) -> bool:
        if gi == len(glob):
            return si == len(s)
        c = glob[gi]
        if c == "*":
            return any(m(gi + 1, k) for k in range(si, len(s) + 1))
        if si == len(s):
            return False
        if c == "?":
            return m(gi + 1, si + 1)
        if c == "[":
            nxt, test = cls(gi)
            return test(s[si]) and m(nxt, si + 1)
        if c == "\\":
            gi += 1
            c = glob[gi]
        return s[si] == c and m(gi + 1, si + 1)

    return m(0, 0)


@dataclass
class Ref:
    """One attribute read: path and its type (declared, or from the tool schema)."""

    path: tuple[str, ...]
    typ: str | None = None


def value(node: Any, ctx: dict[str, Any], action: str) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "action":
        return action
    ref: Ref = node[1]
    v = lookup(ctx, ref.path)
    if v is ABSENT:
        raise Err("missing")
    if not json_ok(v):
        raise Err("not a number")
    if ref.typ is not None and not has_type(v, ref.typ):
        raise Err("wrong type")
    return v


def is_set(node: Any) -> bool:
    return node[0] == "attr" and (node[1].typ or "").startswith("set<")


def member(elem: Any, cont: Any) -> bool:
    if type(elem) is list:
        raise Err("list on the element side")
    if type(cont) is list:
        return any(eq(elem, x) for x in cont)
    if type(cont) is str:
        if type(elem) is not str:
            raise Err("substring needs strings")
        return elem in cont
    raise Err("IN needs a list or a string")


def ev(e: Any, ctx: dict[str, Any], action: str) -> bool:
    op = e[0]
    if op == "and":
        return all(ev(x, ctx, action) for x in e[1])  # all() stops at the first false, left to right
    if op == "or":
        return any(ev(x, ctx, action) for x in e[1])
    if op == "not":
        return not ev(e[1], ctx, action)
    if op == "has":
        return lookup(ctx, e[1]) is not ABSENT
    if op == "const":
        return e[1]
    if op == "truth":
        v = value(e[1], ctx, action)
        if type(v) is not bool:
            raise Err("not a boolean")
        return v
    if op in ("==", "!="):
        a, b = value(e[1], ctx, action), value(e[2], ctx, action)
        r = eq(a, b, is_set(e[1]) or is_set(e[2]))
        return r if op == "==" else not r
    if op in ("<", "<=", ">", ">="):
        a, b = value(e[1], ctx, action), value(e[2], ctx, action)
        if not (is_num(a) and is_num(b)):
            raise Err("numbers only")
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    if op in ("in", "not in"):
        r = member(value(e[1], ctx, action), value(e[2], ctx, action))
        return r if op == "in" else not r
    if op == "contains":  # `a CONTAINS b` is exactly `b IN a`
        return member(value(e[2], ctx, action), value(e[1], ctx, action))
    if op == "matches":
        v = value(e[1], ctx, action)
        if type(v) is not str:
            raise Err("MATCHES needs a string")
        return glob_match(e[2], v)
    raise AssertionError(op)


def target_matches(t: str, action: str) -> bool:
    if t == "*":
        return True
    if t.endswith(".*"):
        return action.startswith(t[:-1]) and len(action) > len(t) - 1
    return t == action


@dataclass
class Rule:
    id: str
    effect: str  # allow | deny | consent
    targets: list[str]
    cond: Any = None


def reference_decide(rules: list[Rule], action: str, ctx: dict[str, Any], args: Any,
                     ceiling: list[str] | None) -> tuple[str, list[str]]:
    """The decision order of the note: ceiling, DENY (and fail-closed), CONSENT, ALLOW, default deny."""
    if args is not None:
        ctx = {**ctx, "args": args}
    if ceiling is not None and not any(target_matches(t, action) for t in ceiling):
        return "deny", ["contract:capabilities"]
    hits: dict[str, list[str]] = {"deny": [], "consent": [], "allow": []}
    failed: list[str] = []
    for r in rules:
        if r.targets and not any(target_matches(t, action) for t in r.targets):
            continue
        try:
            ok = r.cond is None or ev(r.cond, ctx, action)
        except Err:
            if r.effect != "allow":
                failed.append(r.id)  # an erroring DENY/CONSENT decides deny
            continue
        if ok:
            hits[r.effect].append(r.id)
    if hits["deny"] or failed:
        order = [r.id for r in rules]
        return "deny", sorted(set(hits["deny"]) | set(failed), key=order.index)
    for eff in ("consent", "allow"):
        if hits[eff]:
            return eff, hits[eff]
    return "deny", []


# ---- random policies, rendered to text ------------------------------------------------------

PATHS = [("a",), ("b",), ("flag",), ("n", "x"), ("n", "y"), ("n", "m", "k"), ("u", "roles"),
         ("args", "host"), ("args", "amount"), ("args", "tags")]
TYPES = ["number", "string", "bool", "set<string>", "list<string>", "list<number>", "set<number>"]
ACTIONS = ["web.fetch", "pay.charge", "pay.refund", "pay", "fs.read", "mail.send", "policy.update", "x"]
TARGETS = ["web.fetch", "pay.charge", "pay.*", "pay", "fs.read", "*", "\"mail.send\"", "policy.update", "x"]
TOOL_SCHEMAS = {"pay.charge": {"type": "object", "properties": {
    "amount": {"type": "number"}, "host": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}}}}
SCHEMA_TYPES = {("args", "amount"): "number", ("args", "host"): "string", ("args", "tags"): "list<string>"}
STRINGS = ["a", "b", "ab", "", "city.gov", "a.b/c", "A", "é", "guest", "x*y"]
NUMBERS = [0, 1, -2, 0.5, 1e3, 2.0, 1000, 1001]
NUMBER_TEXT = {1000: ["1000", "1e3", "1E+3"], 0.5: ["0.5", ".5", "5e-1"], -2: ["-2", "-2.0"], 2.0: ["2.0", "2"]}
GLOBS = ["a*", "*", "?", "[ab]*", "*b", "a?b", "[!a]*", "*.gov", "a.b/*", "[a-c]", "x\\*y", "\\a*", "A*"]


def render_lit(v: Any) -> str:
    if type(v) is bool:
        return "true" if v else "false"
    if type(v) is str:
        return json.dumps(v)
    return random.choice(NUMBER_TEXT.get(v, [repr(v)]))


def render_operand(node: Any) -> str:
    if node[0] == "lit":
        v = node[1]
        return "[" + ", ".join(render_lit(x) for x in v) + "]" if type(v) is list else render_lit(v)
    if node[0] == "action":
        return "action"
    return ".".join(node[1].path)


def render(e: Any) -> str:
    op = e[0]
    if op in ("and", "or"):
        return "(" + f" {random.choice([op.upper(), op])} ".join(render(x) for x in e[1]) + ")"
    if op == "not":
        return f"NOT ({render(e[1])})"
    if op == "has":
        return f"has {'.'.join(e[1])}"
    if op == "const":
        return random.choice(["true", "TRUE", "True"] if e[1] else ["false", "FALSE"])
    if op == "truth":
        return render_operand(e[1])
    if op == "matches":
        return f"{render_operand(e[1])} MATCHES {json.dumps(e[2])}"
    word = {"in": "IN", "not in": "NOT IN", "contains": "CONTAINS"}.get(op, op)
    word = word.lower() if random.random() < 0.3 else word
    return f"{render_operand(e[1])} {word} {render_operand(e[2])}"


class Gen:
    """Random conditions that mostly respect the types in force (a compile error only skips)."""

    def __init__(self, rnd: random.Random, types: dict[tuple[str, ...], str] | None) -> None:
        self.r = rnd
        self.types = types  # None: no declarations
        self.paths = PATHS
        self.faithful = 0.97 if types else 0.8  # how often an atom respects the declared types

    def attr(self, want: tuple[str, ...] | None = None) -> Any:
        paths = self.paths
        if self.types is not None and want is not None and self.r.random() < self.faithful:
            fit = [p for p in paths if self.types.get(p) in want]
            paths = fit or paths
        p = self.r.choice(paths)
        return ("attr", Ref(p, self.types.get(p) if self.types else None))

    def lit(self, kind: str | None = None) -> Any:
        kind = kind or self.r.choice(["number", "string", "bool"])
        if kind == "number":
            return ("lit", self.r.choice(NUMBERS))
        if kind == "string":
            return ("lit", self.r.choice(STRINGS))
        return ("lit", self.r.choice([True, False]))

    def list_lit(self, kind: str | None = None) -> Any:
        items = [self.lit(kind)[1] for _ in range(self.r.randint(0, 3))]
        return ("lit", items)

    def atom(self) -> Any:
        r = self.r
        k = r.choice(["eq", "order", "in", "contains", "matches", "truth", "has", "action", "eq2", "set", "const"])
        if k == "const":
            if r.random() < 0.5:
                return ("const", r.random() < 0.5)
            # constants (and `action`) on both sides: type errors here fail closed at run time (AC319)
            left = r.choice([self.lit(), self.list_lit(), ("action",)])
            op = r.choice(["==", "!=", "<", ">=", "in", "not in", "contains", "matches"])
            if op == "matches":
                return ("matches", left, r.choice(GLOBS))
            return (op, left, r.choice([self.lit(), self.list_lit()]))
        if k == "eq":
            a = self.attr(("number", "string", "bool"))
            kind = {"number": "number", "string": "string", "bool": "bool"}.get(a[1].typ or "", None)
            return (r.choice(["==", "!="]), a, self.lit(kind) if r.random() < self.faithful else self.lit())
        if k == "eq2":
            a = self.attr()
            return (r.choice(["==", "!="]), a, self.attr((a[1].typ,) if a[1].typ else None))
        if k == "set":
            a = self.attr(("set<string>", "list<string>"))
            return (r.choice(["==", "!="]), a, self.list_lit("string"))
        if k == "order":
            a = self.attr(("number",))
            b = self.lit("number") if r.random() < 0.7 else self.attr(("number",))
            return (r.choice(["<", "<=", ">", ">="]), a, b) if r.random() < 0.8 else (r.choice(["<", ">="]), b, a)
        if k == "in":
            if r.random() < 0.5:
                a = self.attr(("number", "string"))
                kind = a[1].typ if a[1].typ in ("number", "string") else None
                return (r.choice(["in", "not in"]), a, self.list_lit(kind))
            return (r.choice(["in", "not in"]), self.lit("string"), self.attr(("string", "set<string>", "list<string>")))
        if k == "contains":
            cont = self.attr(("string", "set<string>", "list<string>"))
            return ("contains", cont, self.lit("string") if r.random() < 0.7 else self.attr(("string",)))
        if k == "matches":
            subj = self.attr(("string",)) if r.random() < 0.8 else ("action",)
            return ("matches", subj, r.choice(GLOBS))
        if k == "truth":
            return ("truth", self.attr(("bool",)))
        if k == "has":
            return ("has", r.choice(self.paths + [("n",), ("n", "m")] + [("args",)] * (("args", "host") in self.paths)))
        names = [("lit", a) for a in ACTIONS]
        if r.random() < 0.5:
            return (r.choice(["==", "!="]), ("action",), r.choice(names))
        return ("in", ("action",), ("lit", [a for a in ACTIONS if r.random() < 0.3]))

    def cond(self, depth: int = 0) -> Any:
        if depth >= 2 or self.r.random() < 0.45:
            return self.atom()
        k = self.r.choice(["and", "or", "not"])
        if k == "not":
            return ("not", self.cond(depth + 1))
        return (k, [self.cond(depth + 1) for _ in range(self.r.randint(2, 3))])


def random_policy(rnd: random.Random, name: str, typed: bool, tools: bool) -> tuple[str, list[Rule]]:
    kinds = TYPES + [rnd.choice(TYPES) for _ in range(len(PATHS) - len(TYPES))]
    rnd.shuffle(kinds)
    types = dict(zip(PATHS, kinds)) if typed else None
    if typed and tools:  # the declarations win over the tool schema; leave args to the schema
        for p in [p for p in PATHS if p[0] == "args"]:
            del types[p]
    lines: list[str] = [f"# {name}: generated"]
    if rnd.random() < 0.5:
        lines.append("policy generated")
    if types:
        for p, t in types.items():
            lines.append(f"attribute {'.'.join(p)}: {t}")
    gen = Gen(rnd, types)
    rules: list[Rule] = []
    for i in range(rnd.randint(1, 7)):
        while rnd.random() < 0.3:
            lines.append(rnd.choice(["", "# a comment", "   "]))
        effect = rnd.choice(["allow", "allow", "deny", "consent"])
        word = {"allow": rnd.choice(["ALLOW", "allow"]), "deny": rnd.choice(["DENY", "Deny"]),
                "consent": rnd.choice(["REQUIRE CONSENT FOR", "CONSENT", "require consent"])}[effect]
        if tools and rnd.random() < 0.5:
            targets = ["pay.charge"]
        else:
            targets = rnd.sample(TARGETS, rnd.randint(0, 2))
        if word == "REQUIRE CONSENT FOR" and not targets:
            word = "REQUIRE CONSENT"
        gen.paths = PATHS if not (typed and tools) or targets == ["pay.charge"] else \
            [p for p in PATHS if p[0] != "args"]
        gen.types = {**types, **SCHEMA_TYPES} if types is not None and targets == ["pay.charge"] and tools else types
        cond = gen.cond() if rnd.random() < 0.85 else None
        if cond is not None and tools and targets == ["pay.charge"]:
            cond = _retype(cond)
        explicit = f"r-{i}" if rnd.random() < 0.3 else None
        head = (f'@id("{explicit}") ' if explicit else "") + word
        text = head + (" " + ", ".join(targets) if targets else "")
        rid = explicit or f"{name}:{sum(x.count(chr(10)) + 1 for x in lines) + 1}"
        if cond is not None:
            body = render(cond)
            if rnd.random() < 0.2:  # continue inside parentheses on the next line
                text += " IF (\n    " + body + "\n)"
            else:
                text += " IF " + body
        lines.append(text)
        rules.append(Rule(rid, effect, [t.strip('"') for t in targets], cond))
    return "\n".join(lines) + "\n", rules


def _retype(e: Any) -> Any:
    """In a rule targeting the tool, `args.*` takes the tool schema's type."""
    schema = SCHEMA_TYPES
    if isinstance(e, tuple) and e and e[0] == "attr" and e[1].path in schema and e[1].typ is None:
        return ("attr", Ref(e[1].path, schema[e[1].path]))
    if isinstance(e, tuple):
        return tuple(_retype(x) for x in e)
    if isinstance(e, list):
        return [_retype(x) for x in e]
    return e


# ---- random requests -----------------------------------------------------------------------

SCALARS: list[Any] = [None, True, False, 0, 1, 1.0, -2, 0.5, 1000, 1001, 1e3, float("nan"), float("inf"),
                      "a", "b", "ab", "", "city.gov", "guest", "x*y", "A", "a.b/c"]


def random_value(rnd: random.Random, depth: int = 0) -> Any:
    k = rnd.random()
    if k < 0.6 or depth > 1:
        return rnd.choice(SCALARS)
    if k < 0.85:
        pool = rnd.choice([["a", "b", "guest", "ab"], [0, 1, 1000, 2.0], SCALARS])
        return [rnd.choice(pool) for _ in range(rnd.randint(0, 3))]
    return {key: random_value(rnd, depth + 1) for key in rnd.sample(["x", "y", "m", "k", "host"], 2)}


def random_context(rnd: random.Random) -> dict[str, Any]:
    ctx: dict[str, Any] = {}
    for key in ["a", "b", "flag"]:
        if rnd.random() < 0.75:
            ctx[key] = random_value(rnd)
    if rnd.random() < 0.85:
        n: Any = {k: random_value(rnd) for k in ["x", "y"] if rnd.random() < 0.8}
        if rnd.random() < 0.7:
            n["m"] = {"k": random_value(rnd)} if rnd.random() < 0.8 else random_value(rnd)
        ctx["n"] = n if rnd.random() < 0.9 else random_value(rnd)
    if rnd.random() < 0.7:
        ctx["u"] = {"roles": random_value(rnd)} if rnd.random() < 0.85 else random_value(rnd)
    return ctx


def random_args(rnd: random.Random) -> dict[str, Any]:
    return {k: random_value(rnd) for k in ["host", "amount", "tags"] if rnd.random() < 0.8}


# ---- the comparison ---------------------------------------------------------------------------


def run_seed(seed: int, typed: bool, tools: bool, contract: bool) -> int:
    rnd = random.Random(seed)
    random.seed(seed)  # the spelling of keywords and numbers in `render`
    files = [f"p{k}.policy" for k in range(rnd.randint(1, 2))]
    sources: list[tuple[str, bytes]] = []
    rules: list[Rule] = []
    for f in files:
        text, rs = random_policy(rnd, f, typed, tools)
        sources.append((f, text.encode()))
        rules += rs
    data: dict[str, Any] | None = None
    ceiling: list[str] | None = None
    implied: list[Rule] = []
    if contract:
        caps = rnd.sample(["web.fetch", "pay.*", "fs.read", "x", "policy.update"], rnd.randint(0, 3))
        consent = rnd.sample(["mail.send", "pay.charge", "fs.read"], rnd.randint(0, 2))
        data = {"name": "agent", "capabilities": caps, "security": {"consent_for": consent}}
        ceiling = caps + consent
        if consent:
            implied.append(Rule("contract:consent_for", "consent", consent))
        if rnd.random() < 0.25:  # no policy files: each capability is allowed
            sources, rules = [], []
            if caps:
                implied.append(Rule("contract:capabilities", "allow", caps))
    result = compile_sources(sources, data, tool_schemas=TOOL_SCHEMAS if tools else None, analyse=False)
    if not result.ok:
        return 0
    policy = result.policy
    assert policy.data is not None
    loaded = load_compiled_text(policy.data.decode(), "p.json")  # what the runtime reads
    for _ in range(40):
        action = rnd.choice(ACTIONS)
        ctx = random_context(rnd)
        args = random_args(rnd) if rnd.random() < 0.5 else None
        if args is None and rnd.random() < 0.6:
            ctx["args"] = random_args(rnd)
        want = reference_decide(implied + rules, action, ctx, args, ceiling)
        got = policy.decide(action, ctx, args)
        again = loaded.decide(action, ctx, args)
        assert (again.effect, again.rules) == (got.effect, got.rules)
        assert (got.effect, list(got.rules)) == want, (
            f"seed {seed}\n" + "\n".join(f"--- {n}\n{t.decode()}" for n, t in sources)
            + f"\ncontract {data}\naction {action} context {ctx!r} args {args!r}")
        assert not any(str(s) in got.reason for s in ("city.gov", "guest", "x*y", "a.b/c")
                       if s not in " ".join(r.summary for r in policy.document.rules)), got.reason
    return 1


@pytest.mark.parametrize("typed,tools,contract", [
    (False, False, False), (True, False, False), (True, True, False), (False, True, True), (True, False, True)])
def test_decisions_agree_with_the_reference(typed: bool, tools: bool, contract: bool) -> None:
    compiled = sum(run_seed(seed * 7 + typed * 3 + tools, typed, tools, contract) for seed in range(250))
    assert compiled >= 80, compiled  # most random policies compile; the rest only skip


# ---- the reference itself, on the note's own examples -----------------------------------------


@pytest.mark.parametrize("glob,text,want", [
    ("*.gov", "data.city.gov", True), ("a*", "A", False), ("*", "a/b.c", True), ("?", "", False),
    ("[!a]*", "ba", True), ("[!a]*", "ab", False), ("x\\*y", "x*y", True), ("x\\*y", "xay", False),
    ("[a-c]", "b", True), ("[]a]", "]", True),
])
def test_reference_globs(glob: str, text: str, want: bool) -> None:
    assert glob_match(glob, text) is want


def test_reference_targets() -> None:
    assert target_matches("pay.*", "pay.charge") and not target_matches("pay.*", "pay")
    assert target_matches("*", "x") and not target_matches("pay", "pay.charge")


# ---- regressions found by the comparison above -----------------------------------------------


def decide(text: str, action: str, ctx: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    result = compile_sources([("p.policy", text.encode())], analyse=False)
    assert result.ok, result.diagnostics
    d = result.policy.decide(action, ctx)
    return d.effect, d.rules


def test_null_inside_a_list_is_a_value_not_an_error() -> None:
    # was: `"é" IN [null]` raised "unsupported value", so the DENY failed closed (and the answer
    # depended on where the null sat: `"a" IN ["a", null]` held, `"a" IN [null, "a"]` errored)
    assert decide('DENY x IF n.m.k CONTAINS "a"\nALLOW x\n', "x", {"n": {"m": {"k": [None]}}}) == ("allow", ("p.policy:2",))
    assert decide('ALLOW x IF "a" IN k\n', "x", {"k": [None, "a"]}) == ("allow", ("p.policy:1",))
    assert decide('ALLOW x IF k == j\n', "x", {"k": [None, 1.0], "j": [None, 1]}) == ("allow", ("p.policy:1",))
    assert decide('ALLOW x IF k != j\n', "x", {"k": [None], "j": [1]}) == ("allow", ("p.policy:1",))


def test_an_object_on_the_element_side_is_a_member_test_not_a_type_error() -> None:
    # was: `b IN [false, "guest"]` with an object `b` raised; the note makes only a list (or set)
    # on the element side a type error
    assert decide('DENY x IF b IN [false, "guest"]\nALLOW x\n', "x", {"b": {"h": 1}}) == ("allow", ("p.policy:2",))
    assert decide('ALLOW x IF b IN c\n', "x", {"b": {"h": 1}, "c": [1, {"h": 1.0}]}) == ("allow", ("p.policy:1",))
    assert decide('DENY x IF b IN [1]\nALLOW x\n', "x", {"b": [1]}) == ("deny", ("p.policy:1",))
    assert decide('DENY x IF b IN "ab"\nALLOW x\n', "x", {"b": {"h": 1}}) == ("deny", ("p.policy:1",))


def test_constant_type_errors_compile_and_fail_closed() -> None:
    # was: `"a" < 3` (the note's example of a run-time type mismatch) was a compile error, so the
    # whole policy denied everything, `ALLOW y` included
    assert decide('DENY x IF "a" < 3\nALLOW x\nALLOW y\n', "y", {}) == ("allow", ("p.policy:3",))
    assert decide('DENY x IF "a" < 3\nALLOW x\nALLOW y\n', "x", {}) == ("deny", ("p.policy:1",))
    assert decide('ALLOW x IF true OR action < 3\n', "x", {}) == ("allow", ("p.policy:1",))
    assert decide('ALLOW x IF action < 3 OR true\n', "x", {}) == ("deny", ())


def test_a_case_with_null_args_runs_as_one_without_args() -> None:
    from agentos_contracts.diagnostics import Span
    from agentos_contracts.policy.cases import SuiteResult, run_cases

    policy = compile_sources([("p.policy", b"ALLOW x IF NOT (has args)\n")]).policy
    result = SuiteResult()
    run_cases([{"name": "n", "action": "x", "args": None, "expect": "allow"}], policy, "c.yaml",
              lambda where: Span("c.yaml", 1, 1), result)
    assert (result.passed, result.failed, result.diagnostics) == (1, 0, [])


@pytest.mark.parametrize("text,message", [
    ('@id("a\\nb") ALLOW x\n', "`@id` must not hold control characters"),  # the reason would span two lines
    ('@id("contract:consent_for") ALLOW x\n', "`@id` `contract:consent_for` is reserved"),
    ('@id("contract:capabilities") DENY x\n', "`@id` `contract:capabilities` is reserved"),
])
def test_ids_that_would_make_decisions_ambiguous_are_refused(text: str, message: str) -> None:
    # was: accepted, so `rules` could not tell the written rule from the contract's implied one
    result = compile_sources([("p.policy", text.encode())], {"capabilities": ["x"], "security": {"consent_for": ["x"]}})
    assert [(d.code, d.message, d.line, d.column) for d in result.diagnostics if d.is_error] == [("AC307", message, 1, 5)]


def test_a_contract_that_names_policies_grants_only_through_them() -> None:
    # was: compiling such a contract without its policy files allowed every capability, which the
    # note reserves for a contract that names no policy file (fail open)
    contract = {"capabilities": ["fs.read"], "security": {"consent_for": ["mail.send"]}}
    bare = compile_sources([], contract).policy
    assert (bare.decide("fs.read", {}).effect, bare.decide("fs.read", {}).rules) == ("allow", ("contract:capabilities",))
    named = compile_sources([], {**contract, "policies": ["agent.policy"]}).policy
    assert (named.decide("fs.read", {}).effect, named.decide("fs.read", {}).rules) == ("deny", ())
    assert named.decide("mail.send", {}).effect == "consent"  # consent_for stays allowed with consent


def test_eval_json_lines_args_placement_and_non_finite_literals(tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from agentos_contracts.cli import app

    (tmp_path / "p.policy").write_text("DENY pay IF args.amount > 10\nALLOW pay\nALLOW q IF x != 1\nALLOW r\n")
    lines = [
        {"action": "pay", "context": {"args": {"amount": 50}}},  # args inside the context
        {"action": "pay", "context": {"args": {"amount": 50}}, "args": {"amount": 5}},  # `args` replaces it
        {"action": "pay", "context": {"args": {"amount": 5}}, "args": None},  # null is absent
    ]
    text = "\n".join(json.dumps(x) for x in lines) + "\n"
    text += '{"action": "q", "context": {"x": NaN}}\n{"action": "r", "context": {"x": -Infinity}}\n[1]\nnull\n'
    (tmp_path / "r.jsonl").write_text(text)
    res = CliRunner().invoke(app, ["eval", str(tmp_path / "p.policy"), "--requests", str(tmp_path / "r.jsonl"),
                                   "--format", "json"])
    got = [(d["decision"], d["rules"]) for d in map(json.loads, res.stdout.splitlines())]
    assert res.exit_code == 1
    assert got == [("deny", ["p.policy:1"]), ("allow", ["p.policy:2"]), ("allow", ["p.policy:2"]),
                   ("deny", []),  # NaN is not a number: `x != 1` cannot be evaluated, the ALLOW does not apply
                   ("allow", ["p.policy:4"]),  # a NaN no rule reads changes nothing
                   ("deny", []), ("deny", [])]  # not objects: malformed lines
