"""Policy text → AST, with located diagnostics; the only module that imports lark.

Two steps, as Cedar parses: Lark's basic lexer gives tokens (every input lexes: odd
characters become BADCHAR tokens), ``_Scan`` splits them into statements, and
the LALR parser builds a tree that ``_Build`` turns into ``ast`` nodes. The whole
file is parsed in one go; only when that fails is each statement parsed alone, so
one bad rule does not hide the errors in the others (rule-per-line recovery).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterator

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedInput, UnexpectedToken, VisitError
from lark.lexer import Lexer

from agentos_contracts import diagnostics as dg
from agentos_contracts.diagnostics import Diagnostic, Result, Span
from agentos_contracts.policy import ast
from agentos_contracts.policy.syntax import (
    COLLECTION_TYPES,
    SCALAR_TYPES,
    LexicalError,
    decode_string,
    header_checks,
    hint_for,
    is_action_name,
    parse_number,
    rule_id_base,
    syntax_error,
    type_hint,
)
from agentos_contracts.resources import grammar_text

from agentos_contracts.policy.depth import MAX_DEPTH, blank, find_deep
_OPEN = {"LPAR": ")", "LSQB": "]"}
_EFFECT_TOKENS = frozenset({"ALLOW", "DENY", "REQUIRE", "CONSENT", "FOR"})
_EFFECTS = {"ALLOW": ast.Effect.ALLOW, "DENY": ast.Effect.DENY}
# a line starting with one of these starts a new rule, even inside an unclosed bracket
# (`policy` and `attribute` are not here: inside a statement they are names)
_STARTERS = frozenset({"ALLOW", "DENY", "REQUIRE", "CONSENT", "AT"})
_IMPLIED_IDS = frozenset({"contract:capabilities", "contract:consent_for"})  # the contract's rules (compiler.py)


class _Feed(Lexer):
    """Hands the parser a token list we already lexed and split."""

    def __init__(self, conf: Any) -> None:
        pass

    def lex(self, data: Any) -> Iterator[Token]:  # type: ignore[override]
        return iter(data)


def _cache_file(kind: str) -> str | bool:
    """Where Lark may keep its analysed grammar: the user's own cache folder, never a shared /tmp.

    Building the LALR tables costs about 60 ms a run; a cached load about 5 ms. Lark
    names the file after a hash of the grammar, options and its version, so a changed
    grammar never loads stale tables. No writable cache folder: no cache.
    """
    import os
    from pathlib import Path

    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = Path(base) / "agentos-contracts"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if folder.stat().st_uid != os.getuid():
            return False
    except OSError:
        return False
    import hashlib

    digest = hashlib.sha256(grammar_text("policy.lark").encode()).hexdigest()[:16]
    return str(folder / f"policy-{kind}-{digest}.lark-cache")


@lru_cache(maxsize=1)
def _lexer() -> Lark:
    # parser=None keeps every terminal (comments, newlines) for our own splitting; Lark
    # caches LALR analyses only, so this one is built each run (about 35 ms)
    return Lark(grammar_text("policy.lark"), parser=None, lexer="basic")


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(grammar_text("policy.lark"), parser="lalr", lexer=_Feed,
                propagate_positions=True, start=["start", "statement"], cache=_cache_file("parser"))


def _span(file: str, tok: Token) -> Span:
    return Span(file, tok.line, tok.column, tok.end_line, tok.end_column)


class _Scan:
    """Splits the token stream into statements and keeps comments."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.diags: list[Diagnostic] = []
        self.comments: list[ast.Comment] = []
        self.statements: list[list[Token]] = []
        self.bad: set[int] = set()  # statements with a lexical error: reported, not parsed
        self.deep = False  # some statement may nest beyond MAX_DEPTH: check trees exactly

    def run(self, text: str) -> None:
        toks = list(_lexer().lex(text))  # blanks are %ignore'd; comments and newlines come through
        ahead = _next_code(toks)
        current: list[Token] = []
        stack: list[Token] = []
        depth = nots = 0
        line_has_code: set[int] = set()
        for i, tok in enumerate(toks):
            kind = tok.type
            if kind == "COMMENT":
                own = tok.line not in line_has_code
                self.comments.append(ast.Comment(text=tok.value.rstrip(), line=tok.line,
                                                 column=tok.column, own_line=own))
                continue
            if kind == "NEWLINE" and stack:
                nxt = toks[ahead[i]] if ahead[i] < len(toks) else None
                if nxt is None or nxt.type not in _STARTERS:
                    continue  # a rule continues inside brackets
            if kind in ("NEWLINE", "SEMI"):
                self._close(current, stack, tok)
                self.deep |= 4 * depth + nots + 8 > MAX_DEPTH  # a tree is at most this deep
                current, stack, depth, nots = [], [], 0, 0
                continue
            line_has_code.add(tok.line)
            if kind == "NOT":
                nots += 1
            if kind in ("POLICY", "ATTRIBUTE") and current:
                tok = Token.new_borrow_pos("NAME", tok.value, tok)  # keywords only at statement start
            elif kind in _OPEN:
                stack.append(tok)
                depth = max(depth, len(stack))
            elif kind in ("RPAR", "RSQB") and stack and _OPEN[stack[-1].type] == tok.value:
                stack.pop()
            elif kind == "UNTERMINATED":
                self._lexical(current, dg.make("AC301", _span(self.file, tok)))
            elif kind == "BADCHAR":
                self._lexical(current, dg.make("AC303", _span(self.file, tok), char=_show_char(tok.value),
                                               hint=hint_for(tok.value)))
            current.append(tok)
        self._close(current, stack, toks[-1] if toks else None)
        self.deep |= 4 * depth + nots + 8 > MAX_DEPTH

    def _lexical(self, current: list[Token], diag: Diagnostic) -> None:
        index = len(self.statements)
        if index not in self.bad:  # one lexical error per statement is enough
            self.diags.append(diag)
        self.bad.add(index)

    def _close(self, current: list[Token], stack: list[Token], at: Token | None) -> None:
        if not current:
            return
        for opener in stack:
            self.diags.append(dg.make("AC305", _span(self.file, opener), bracket=opener.value,
                                      closer=_OPEN[opener.type]))
        if stack:
            self.bad.add(len(self.statements))
        self.statements.append(current)


def _next_code(toks: list[Token]) -> list[int]:
    """For each token, the index of the next one that is not a line break or comment
    (``len(toks)`` when none): one backward pass, so looking ahead stays linear."""
    out = [len(toks)] * len(toks)
    nxt = len(toks)
    for i in range(len(toks) - 1, -1, -1):
        out[i] = nxt
        if toks[i].type not in ("NEWLINE", "COMMENT"):
            nxt = i
    return out


def _show_char(ch: str) -> str:
    return ch if ch.isprintable() and not ch.isspace() else f"U+{ord(ch):04X}"


def _sep(after: Token) -> Token:
    return Token.new_borrow_pos("_SEP", "", after)


def _tree_depth(tree: Tree) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((c, depth + 1) for c in node.children if isinstance(c, Tree))
    return deepest


def parse_policy(text: str, file: str) -> Result[ast.PolicyFile]:
    """Parse one policy file; errors are diagnostics, and the AST holds every statement that parsed."""
    deep = find_deep(text)  # refused before lexing: the cost of parsing grows with the depth
    scan = _Scan(file)
    scan.run(blank(text, deep))
    diags = list(scan.diags)
    for d in deep:
        word = re.match(r"[A-Za-z@]*", text[d.start:d.start + 16])
        width = len(word.group()) if word and word.group() else 1
        diags.append(dg.make("AC317", Span(file, d.line, d.column, d.line, d.column + width), limit=MAX_DEPTH))
    build = _Build(file, rule_id_base(file))
    statements: list[ast.Statement] = []
    good = [s for i, s in enumerate(scan.statements) if i not in scan.bad]
    tree = None
    if len(good) == len(scan.statements):
        stream = [tok for stmt in good for tok in (*stmt, _sep(stmt[-1]))]
        try:
            tree = _parser().parse(stream, start="start")
        except UnexpectedInput:
            tree = None
    if tree is not None and (not scan.deep or _tree_depth(tree) <= MAX_DEPTH + 2):
        statements = [_transform(build, child) for child in tree.children]
    else:
        for toks in good:
            stmt = _parse_statement(build, toks, diags)
            if stmt is not None:
                statements.append(stmt)
    diags.extend(build.diags)
    diags.extend(header_checks(statements))
    policy = ast.PolicyFile(file=file, statements=tuple(statements), comments=tuple(scan.comments))
    return Result(policy, dg.sort_diagnostics(diags))


def _parse_statement(build: _Build, toks: list[Token], diags: list[Diagnostic]) -> ast.Statement | None:
    try:
        tree = _parser().parse(toks, start="statement")
    except UnexpectedToken as exc:
        last = toks[-1]
        end = Span(build.file, last.end_line or last.line, last.end_column or last.column)
        diags.append(syntax_error(build.file, exc, end))
        return None
    except UnexpectedInput as exc:  # pragma: no cover - the token feeder never raises the others
        diags.append(dg.make("AC300", _span(build.file, toks[0]), found="input", expected=str(exc), hint=""))
        return None
    if _tree_depth(tree) > MAX_DEPTH:
        diags.append(dg.make("AC317", _span(build.file, toks[0]), limit=MAX_DEPTH))
        return None
    return _transform(build, tree)


def _transform(build: _Build, tree: Tree | Token) -> ast.Statement:
    try:
        return build.transform(tree) if isinstance(tree, Tree) else tree  # type: ignore[return-value]
    except VisitError as exc:  # a bug in _Build; keep the original exception visible
        raise exc.orig_exc from exc


_RULE_METHODS = ("header", "declaration", "type", "rule", "annotation", "or_", "and_", "not_", "group", "compare",
                 "in_", "not_in", "contains", "matches", "has", "truth", "literal_true", "literal_false", "list")


@v_args(meta=True)
class _Build(Transformer):  # type: ignore[type-arg]
    """Lark tree → AST, one method per grammar rule; semantic slips become diagnostics."""

    def __init__(self, file: str, base: str) -> None:
        super().__init__()
        self.file = file
        self.base = base
        self.diags: list[Diagnostic] = []
        for name in _RULE_METHODS:  # v_args wraps on every attribute access; wrap once per parse
            setattr(self, name, getattr(self, name))

    def _meta_span(self, meta: Any) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.file)
        return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok(self, tok: Token) -> Span:
        return _span(self.file, tok)

    # ---- statements
    def header(self, meta: Any, ch: list[Any]) -> ast.Header:
        return ast.Header(name=str(ch[1]), span=self._meta_span(meta))

    def declaration(self, meta: Any, ch: list[Any]) -> ast.Declaration:
        path = self._path(ch[1])
        return ast.Declaration(path=path, type=ch[3], span=self._meta_span(meta))

    def type(self, meta: Any, ch: list[Any]) -> ast.Type:
        span = self._meta_span(meta)
        name = str(ch[0])
        element = str(ch[2]) if len(ch) > 1 else None
        if element is None and name not in SCALAR_TYPES:
            self._bad_type(ch[0], name, SCALAR_TYPES + COLLECTION_TYPES)
        elif element is not None and name not in COLLECTION_TYPES:
            self._bad_type(ch[0], name, COLLECTION_TYPES)
        elif element is not None and element not in SCALAR_TYPES:
            self._bad_type(ch[2], element, SCALAR_TYPES)
        return ast.Type(name=name, element=element, span=span)

    def _bad_type(self, tok: Token, name: str, choices: tuple[str, ...]) -> None:
        self.diags.append(dg.make("AC309", self._tok(tok), type=name, hint=type_hint(name, choices)))

    # ---- rules
    def rule(self, meta: Any, ch: list[Any]) -> ast.Rule:
        explicit: str | None = None
        effect_tok: Token | None = None
        last_effect: Token | None = None
        targets: list[ast.Target] = []
        condition: ast.Expr | None = None
        i = 0
        while i < len(ch):
            c = ch[i]
            i += 1
            if isinstance(c, tuple):  # @id("...")
                if explicit is not None and c[1] is not None:
                    self.diags.append(dg.make("AC307", c[2], message="a rule has at most one `@id`",
                                              hint="remove one of them"))
                elif c[1] is not None:
                    explicit = c[1]
            elif not isinstance(c, Token):
                condition = c
            elif c.type in _EFFECT_TOKENS:
                effect_tok = effect_tok or c
                last_effect = c
            elif c.type == "NAME":
                star = ch[i] if i < len(ch) and isinstance(ch[i], Token) and ch[i].type == "DOTSTAR" else None
                i += star is not None
                targets.append(self._target(c, star))
            elif c.type in ("STRING", "STAR"):
                targets.append(self._target(c, None))
        assert effect_tok is not None and last_effect is not None
        kind = _EFFECTS.get(effect_tok.type, ast.Effect.CONSENT)
        if last_effect.type == "FOR" and not targets:
            self.diags.append(dg.make("AC321", self._tok(last_effect)))
        rid = explicit if explicit is not None else f"{self.base}:{effect_tok.line}"
        return ast.Rule(effect=kind, targets=tuple(targets), condition=condition, explicit_id=explicit, id=rid,
                        span=self._meta_span(meta), effect_span=self._tok(effect_tok))

    def annotation(self, meta: Any, ch: list[Any]) -> tuple[str, str | None, Span]:
        name, value = ch[1], self._string(ch[3])
        if str(name) != "id":
            self.diags.append(dg.make("AC307", self._tok(name), message=f"unknown annotation `@{name}`",
                                      hint='the only annotation is `@id("...")`'))
            return ("@other", None, self._tok(name))
        if not value:
            self.diags.append(dg.make("AC307", self._tok(ch[3]), message="`@id` must not be empty",
                                      hint='write `@id("some-name")`'))
            return ("@id", None, self._tok(name))
        if any(c < " " or c == "\x7f" for c in value):  # a decision's reason names the id on one line
            self.diags.append(dg.make("AC307", self._tok(ch[3]), message="`@id` must not hold control characters",
                                      hint='write the id on one line, e.g. `@id("no-guest-delete")`'))
            return ("@id", None, self._tok(name))
        if value in _IMPLIED_IDS:
            self.diags.append(dg.make("AC307", self._tok(ch[3]), message=f"`@id` `{value}` is reserved",
                                      hint="the ids `contract:capabilities` and `contract:consent_for` name the "
                                           "contract's implied rules; choose another id"))
            return ("@id", None, self._tok(name))
        return ("@id", value, self._tok(name))

    def _target(self, tok: Token, star: Token | None) -> ast.Target:
        span = self._tok(tok) if star is None else Span(self.file, tok.line, tok.column, star.end_line, star.end_column)
        if tok.type == "STAR":
            return ast.Target(kind="all", span=span)
        if tok.type == "NAME":
            name, quoted = str(tok), False
            if star is not None:
                if star.start_pos != tok.end_pos:
                    self.diags.append(dg.make("AC322", self._tok(star), name=name))
                name += ".*"
        else:
            name, quoted = self._string(tok) or "", True
        if name == "*":
            return ast.Target(kind="all", quoted=quoted, span=span)
        prefix = name.endswith(".*")
        bare = name[:-2] if prefix else name
        if not is_action_name(bare):
            self.diags.append(dg.make("AC306", span, name=name))
        if prefix:
            return ast.Target(kind="prefix", name=bare + ".", quoted=quoted, span=span)
        return ast.Target(kind="exact", name=bare, quoted=quoted, span=span)

    # ---- conditions
    def or_(self, meta: Any, ch: list[Any]) -> ast.Or:
        return ast.Or(items=self._flat(ch, ast.Or), span=self._meta_span(meta))

    def and_(self, meta: Any, ch: list[Any]) -> ast.And:
        return ast.And(items=self._flat(ch, ast.And), span=self._meta_span(meta))

    @staticmethod
    def _flat(ch: list[Any], kind: type) -> tuple[ast.Expr, ...]:
        out: list[ast.Expr] = []
        for c in ch:
            if isinstance(c, Token):
                continue
            out.extend(c.items if isinstance(c, kind) else (c,))
        return tuple(out)

    def not_(self, meta: Any, ch: list[Any]) -> ast.Not:
        return ast.Not(operand=ch[1], span=self._meta_span(meta))

    def group(self, meta: Any, ch: list[Any]) -> ast.Expr:
        return ch[1]  # type: ignore[no-any-return]

    def compare(self, meta: Any, ch: list[Any]) -> ast.Compare:
        return ast.Compare(op=str(ch[1]), left=self._operand(ch[0]), right=self._operand(ch[2]),
                           span=self._meta_span(meta))

    def in_(self, meta: Any, ch: list[Any]) -> ast.Member:
        return ast.Member(op="in", left=self._operand(ch[0]), right=self._operand(ch[2]), span=self._meta_span(meta))

    def not_in(self, meta: Any, ch: list[Any]) -> ast.Member:
        return ast.Member(op="not in", left=self._operand(ch[0]), right=self._operand(ch[3]),
                          span=self._meta_span(meta))

    def contains(self, meta: Any, ch: list[Any]) -> ast.Member:
        return ast.Member(op="contains", left=self._operand(ch[0]), right=self._operand(ch[2]),
                          span=self._meta_span(meta))

    def matches(self, meta: Any, ch: list[Any]) -> ast.Matches:
        glob = self._string(ch[2]) or ""
        return ast.Matches(subject=self._operand(ch[0]), glob=glob, span=self._meta_span(meta), glob_span=self._tok(ch[2]))

    def has(self, meta: Any, ch: list[Token]) -> ast.Has:
        return ast.Has(path=self._path(ch[1], allow_action=True), span=self._meta_span(meta))

    def truth(self, meta: Any, ch: list[Token]) -> ast.Truth:
        return ast.Truth(operand=self._operand(ch[0]), span=self._meta_span(meta))  # type: ignore[arg-type]

    literal_true = truth
    literal_false = truth

    # ---- operands
    def _operand(self, c: Any) -> ast.Operand:
        if not isinstance(c, Token):
            return c  # type: ignore[no-any-return]  # a list, already built
        if c.type == "NAME":
            if c == "action":
                return ast.ActionRef(span=self._tok(c))
            return self._path(c)
        return self._literal(c)

    def _path(self, tok: Token, allow_action: bool = False) -> ast.Path:
        parts = tuple(str(tok).split("."))
        if parts[0] == "action" and (len(parts) > 1 or not allow_action):
            self.diags.append(dg.make("AC320", self._tok(tok)))
        return ast.Path(parts=parts, span=self._tok(tok))

    def _literal(self, tok: Token) -> ast.Literal:
        span = self._tok(tok)
        if tok.type == "NUMBER":
            try:
                return ast.Literal(kind="number", value=parse_number(str(tok)), span=span)
            except (LexicalError, OverflowError):
                self.diags.append(dg.make("AC304", span, text=str(tok)))
                return ast.Literal(kind="number", value=0, span=span)
        if tok.type == "STRING":
            return ast.Literal(kind="string", value=self._string(tok) or "", span=span)
        return ast.Literal(kind="bool", value=tok.type == "TRUE", span=span)

    def list(self, meta: Any, ch: list[Any]) -> ast.ListLit:
        items = tuple(self._literal(c) for c in ch if c.type not in ("LSQB", "RSQB", "COMMA"))
        return ast.ListLit(items=items, span=self._meta_span(meta))

    def _string(self, tok: Token) -> str | None:
        try:
            return decode_string(str(tok))
        except LexicalError as exc:
            span = Span(self.file, tok.line, tok.column + exc.offset)
            self.diags.append(dg.make("AC302", span, escape=str(exc)))
            return None
