"""Static checks that need no solver: names, declarations and types.

Types come from ``attribute`` declarations (merged over all files of a compile) and,
for ``args.*`` of rules whose targets are tools with a known MCP ``inputSchema``,
from that schema. Once any attribute is declared, every attribute used must be
declared (or typed by a tool schema): a typo is an error with a "did you mean".
The warnings about rules that can never apply, are shadowed or sit outside the
contract ceiling are in ``analysis.py``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from agentos_contracts import diagnostics as dg
from agentos_contracts.diagnostics import Diagnostic
from agentos_contracts.policy import ast
from agentos_contracts.policy.fmt import format_operand
from agentos_contracts.policy.ir import GlobError, glob_regex
from agentos_contracts.policy.syntax import rule_id_base
from agentos_contracts.policy.tools import ToolTypes

Types = dict[tuple[str, ...], str]
_WORDS = {"number": "a number", "string": "a string", "bool": "a boolean"}


@dataclass(slots=True)
class Env:
    """What the checker learned that the compiler needs: the type of each path, per rule."""

    declared: Types = field(default_factory=dict)
    rule_types: dict[int, Types] = field(default_factory=dict)  # id(rule) → path → type


def _words(t: str) -> str:
    if t in _WORDS:
        return _WORDS[t]
    coll, elem = t[:-1].split("<") if "<" in t else (t, "")
    return f"a {coll} of {_WORDS[elem][2:]}s" if elem else f"a {t}"


def check_files(files: list[ast.PolicyFile], tools: ToolTypes) -> tuple[Env, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    diags += _file_names(files)
    env = Env()
    diags += _declarations(files, env)
    diags += _rule_ids(files)
    for f in files:
        for rule in f.rules:
            diags += _RuleCheck(rule, env, tools).run()
    return env, diags


def _file_names(files: list[ast.PolicyFile]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    seen: dict[str, str] = {}
    for f in files:
        base = rule_id_base(f.file)
        if base in seen and seen[base] != f.file:
            out.append(dg.make("AC315", dg.Span.file_start(f.file), base=base, first=seen[base], second=f.file))
        seen.setdefault(base, f.file)
    return out


def _declarations(files: list[ast.PolicyFile], env: Env) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    where: dict[tuple[str, ...], ast.Declaration] = {}
    for f in files:
        for d in f.declarations:
            path, text = d.path.parts, d.type.text()
            first = where.get(path)
            if first is None:
                where[path] = d
                env.declared[path] = text
            elif first.type.text() != text:
                out.append(dg.make("AC316", d.type.span, name=d.path.dotted, type=text, other=first.type.text(),
                                   first=f"{first.span.file}:{first.span.line}"))
            else:
                out.append(dg.make("AC336", d.span, name=d.path.dotted))
    return out


def _rule_ids(files: list[ast.PolicyFile]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    first: dict[str, ast.Rule] = {}
    for f in files:
        for r in f.rules:
            if r.id in first:
                other = first[r.id]
                hint = None if r.explicit_id else "two rules on one line share a derived id; give one an `@id` or put it on its own line"
                out.append(dg.make("AC314", r.effect_span, id=r.id, first=f"{other.span.file}:{other.span.line}",
                                   **({"hint": hint} if hint else {})))
            else:
                first[r.id] = r
    return out


class _RuleCheck:
    """Names and types inside one rule."""

    def __init__(self, rule: ast.Rule, env: Env, tools: ToolTypes) -> None:
        self.rule = rule
        self.env = env
        self.tools = tools
        self.types: Types = {}
        self.origin: dict[tuple[str, ...], str] = {}  # path → "declared" | tool name
        self.diags: list[Diagnostic] = []
        self.tool_names = [t.name for t in rule.targets if t.kind == "exact"]
        self.tool_args = tools.args_for(self.tool_names) if len(self.tool_names) == len(rule.targets) else None

    def run(self) -> list[Diagnostic]:
        if self.rule.condition is not None:
            for node in ast.walk(self.rule.condition):
                if isinstance(node, ast.Path):
                    self._resolve(node)
            self._check(self.rule.condition)
        self.env.rule_types[id(self.rule)] = dict(self.types)
        return self.diags

    # ---- names

    def _resolve(self, p: ast.Path) -> None:
        parts = p.parts
        if parts in self.types or parts in self.origin:
            return
        declared = self.env.declared
        if parts in declared:
            self.types[parts], self.origin[parts] = declared[parts], "declared"
            return
        if any(k[: len(parts)] == parts for k in declared):
            self.origin[parts] = "declared"  # a prefix of a declared path: an object
            return
        if parts[0] == "args" and len(parts) > 1 and self.tool_args is not None:
            typ, known = self.tool_args.get(parts[1:], (None, False))
            if known:
                if typ is not None:
                    self.types[parts], self.origin[parts] = typ, "tool"
                else:
                    self.origin[parts] = "tool"
                return
            if self.tool_args.has_properties:
                close = difflib.get_close_matches(".".join(parts[1:]), self.tool_args.names(), n=1)
                hint = f"did you mean `args.{close[0]}`?" if close else \
                    f"the tool's arguments are: {', '.join(sorted(self.tool_args.names())) or 'none'}"
                self.diags.append(dg.make("AC318", p.span, tool=", ".join(self.tool_names), name=".".join(parts[1:]),
                                          hint=hint))
                self.origin[parts] = "unknown"
                return
        if declared:
            names = sorted({".".join(k[:n]) for k in declared for n in range(1, len(k) + 1)})
            close = difflib.get_close_matches(p.dotted, names, n=1)
            hint = f"did you mean `{close[0]}`?" if close else f"declare it: `attribute {p.dotted}: TYPE`"
            self.diags.append(dg.make("AC310", p.span, name=p.dotted, hint=hint))
            self.origin[parts] = "unknown"

    # ---- types

    def _type(self, node: ast.Operand) -> str | None:
        if isinstance(node, ast.Literal):
            return node.kind
        if isinstance(node, ast.ActionRef):
            return "string"
        if isinstance(node, ast.ListLit):
            kinds = {i.kind for i in node.items}
            return f"list<{kinds.pop()}>" if len(kinds) == 1 else "list"
        return self.types.get(node.parts)

    def _name(self, node: ast.Operand) -> str:
        if isinstance(node, ast.Path):
            return f"`{node.dotted}`"
        if isinstance(node, ast.ActionRef):
            return "`action`"
        return f"`{format_operand(node)}`"

    def _is(self, node: ast.Operand) -> str:
        """`` `x` is declared number`` / `` `"a"` is a string``: for messages."""
        t = self._type(node)
        assert t is not None
        if isinstance(node, ast.Path):
            how = "declared" if self.origin.get(node.parts) == "declared" else "typed by the tool as"
            return f"{self._name(node)} is {how} {_words(t)}"
        return f"{self._name(node)} is {_words(t) if t != 'list' else 'a list'}"

    def _error(self, nodes: tuple[ast.Operand, ...], span: dg.Span, message: str, hint: str,
               outcome: str = "as written it cannot be evaluated and fails closed") -> None:
        """An error when a declaration or a tool schema is involved (the note's static errors); a
        warning (AC319) for constants and `action` alone: `"a" < 3` is the note's own example of a
        condition that compiles and fails closed at run time. ``outcome`` says what evaluation
        really does: `==`/`!=` across types and membership in a list of other values are not
        errors at run time (different types are simply unequal), so they do not fail closed."""
        typed = [n for n in nodes if isinstance(n, ast.Path) and n.parts in self.types]
        if not typed:
            self.diags.append(dg.make("AC319", span, message=message, hint=f"{hint}; {outcome}"))
            return
        from_tool = any(self.origin.get(n.parts) == "tool" for n in typed)
        self.diags.append(dg.make("AC312" if from_tool else "AC311", span, message=message, hint=hint))

    def _check(self, e: ast.Expr) -> None:
        if isinstance(e, (ast.And, ast.Or)):
            for i in e.items:
                self._check(i)
        elif isinstance(e, ast.Not):
            self._check(e.operand)
        elif isinstance(e, ast.Compare):
            self._compare(e)
        elif isinstance(e, ast.Member):
            self._member(e)
        elif isinstance(e, ast.Matches):
            t = self._type(e.subject)
            if t is not None and t != "string":
                self._error((e.subject,), e.span, f"`MATCHES` needs a string, but {self._is(e.subject)}",
                            "match a string attribute")
            try:
                glob_regex(e.glob)
            except GlobError as exc:
                self.diags.append(dg.make("AC313", e.glob_span, glob=e.glob, reason=str(exc)))
        elif isinstance(e, ast.Truth):
            t = self._type(e.operand)
            if t is not None and t != "bool":
                self._error((e.operand,), e.span, f"a bare condition must be a boolean, but {self._is(e.operand)}",
                            "compare it, e.g. `x == \"value\"`")

    def _compare(self, e: ast.Compare) -> None:
        lt, rt = self._type(e.left), self._type(e.right)
        if e.op in ("<", "<=", ">", ">="):
            for side, t in ((e.left, lt), (e.right, rt)):
                if t is not None and t != "number":
                    self._error((e.left, e.right), e.span, f"`{e.op}` needs numbers, but {self._is(side)}",
                                "order comparisons take numbers only; use `==` or `MATCHES` for strings")
                    return
            return
        if lt is not None and rt is not None and not _comparable(lt, rt):
            self._error((e.left, e.right), e.span,
                        f"{self._is(e.left)} but {self._is(e.right)}; they are never equal",
                        "values of different types are never equal; compare with a value of the declared type",
                        f"as written `{e.op}` is always {'false' if e.op == '==' else 'true'} (no run-time error)")

    def _member(self, e: ast.Member) -> None:
        elem, cont = e.element_container()
        et, ct = self._type(elem), self._type(cont)
        word = "CONTAINS" if e.op == "contains" else "IN"
        if et is not None and "<" in et or et == "list":
            self._error((elem, cont), e.span, f"the element side of `{word}` must be a single value, but {self._is(elem)}",
                        "test one value at a time: `\"a\" IN x AND \"b\" IN x`")
            return
        if ct is not None and ct in ("number", "bool"):
            self._error((elem, cont), e.span, f"`{word}` needs a list or a string, but {self._is(cont)}",
                        "use `==` to compare single values")
            return
        if et is None or ct is None or ct == "list":
            if et is not None and isinstance(cont, ast.ListLit) and cont.items and et not in {i.kind for i in cont.items}:
                self._error((elem,), e.span, f"{self._is(elem)} but the list holds no {_words(et)[2:]}s",
                            "list values of the attribute's type",
                            "as written the value is never in the list (no run-time error)")
            return
        want = ct[ct.index("<") + 1:-1] if "<" in ct else "string"
        if et != want:
            # in a list, membership is equality, simply false across types; in a string it is an error
            self._error((elem, cont), e.span, f"{self._is(elem)} but {self._is(cont)}",
                        f"test membership of {_words(want)}",
                        *(["as written the value is never in the list (no run-time error)"] if "<" in ct else []))


def _comparable(a: str, b: str) -> bool:
    if a == b:
        return True
    coll_a, coll_b = "<" in a or a == "list", "<" in b or b == "list"
    if coll_a and coll_b:
        ea = a[a.index("<") + 1:-1] if "<" in a else None
        eb = b[b.index("<") + 1:-1] if "<" in b else None
        return ea is None or eb is None or ea == eb
    return False
