"""Policy text → AST, with located diagnostics; the only module that imports lark.

Two steps, as Cedar parses: Lark's basic lexer gives tokens (every input lexes: odd
characters become BADCHAR tokens), ``_statements`` splits them into statements, and
the LALR parser builds a tree that ``_Build`` turns into ``ast`` nodes. The whole
file is parsed in one go; only when that fails is each statement parsed alone, so
one bad rule does not hide the errors in the others (rule-per-line recovery).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterator

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedInput, UnexpectedToken, VisitError
from lark.lexer import Lexer

from agentos_contracts import diagnostics as dg
from agentos_contracts.diagnostics import Diagnostic, Result, Span
from agentos_contracts.policy import ast
from agentos_contracts.policy.syntax import (
    KEYWORDS,
    decode_string,
    describe_expected,
    describe_found,
    hint_for,
    is_action_name,
    parse_number,
    rule_id_base,
)
from agentos_contracts.resources import grammar_text

MAX_DEPTH = 100  # nesting of a condition; deeper input is refused, never a RecursionError
_OPEN = {"LPAR": ")", "LSQB": "]"}
_STARTERS = frozenset({"ALLOW", "DENY", "REQUIRE", "CONSENT", "AT", "POLICY", "ATTRIBUTE"})


class _Feed(Lexer):
    """Hands the parser a token list we already lexed and split."""

    def __init__(self, conf: Any) -> None:
        pass

    def lex(self, lexer_state: Any, parser_state: Any) -> Iterator[Token]:
        return iter(lexer_state.text)


@lru_cache(maxsize=1)
def _lexer() -> Lark:
    return Lark(grammar_text("policy.lark"), parser=None, lexer="basic")


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(grammar_text("policy.lark"), parser="lalr", lexer=_Feed,
                propagate_positions=True, start=["start", "statement"])


def _span(file: str, tok: Token) -> Span:
    return Span(file, tok.line, tok.column, tok.end_line, tok.end_column)


def _end_span(file: str, tok: Token) -> Span:
    return Span(file, tok.end_line or tok.line, tok.end_column or tok.column)


class _Scan:
    """Splits the token stream into statements and keeps comments."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.diags: list[Diagnostic] = []
        self.comments: list[ast.Comment] = []
        self.statements: list[list[Token]] = []
        self.bad: set[int] = set()  # statements with a lexical error: reported, not parsed

    def run(self, text: str) -> None:
        toks = [t for t in _lexer().lex(text, dont_ignore=True) if t.type != "WS"]
        current: list[Token] = []
        stack: list[Token] = []
        line_has_code: set[int] = set()
        for i, tok in enumerate(toks):
            kind = tok.type
            if kind == "COMMENT":
                own = tok.line not in line_has_code
                self.comments.append(ast.Comment(text=tok.value.rstrip(), line=tok.line,
                                                 column=tok.column, own_line=own))
                continue
            if kind == "NEWLINE" and stack:
                nxt = next((t for t in toks[i + 1:] if t.type not in ("NEWLINE", "COMMENT")), None)
                if nxt is None or nxt.type not in _STARTERS:
                    continue  # a rule continues inside brackets
            if kind in ("NEWLINE", "SEMI"):
                self._close(current, stack, tok)
                current, stack = [], []
                continue
            line_has_code.add(tok.line)
            if kind in ("POLICY", "ATTRIBUTE") and current:
                tok = Token.new_borrow_pos("NAME", tok.value, tok)  # keywords only at statement start
            elif kind in _OPEN:
                stack.append(tok)
            elif kind in ("RPAR", "RSQB") and stack and _OPEN[stack[-1].type] == tok.value:
                stack.pop()
            elif kind == "UNTERMINATED":
                self._lexical(current, dg.make("AC301", _span(self.file, tok)))
            elif kind == "BADCHAR":
                self._lexical(current, dg.make("AC303", _span(self.file, tok), char=_show_char(tok.value),
                                               hint=hint_for(tok.value)))
            current.append(tok)
        self._close(current, stack, toks[-1] if toks else None)

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
    scan = _Scan(file)
    scan.run(text)
    diags = list(scan.diags)
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
    if tree is not None and _tree_depth(tree) <= MAX_DEPTH + 2:
        statements = [_transform(build, child) for child in tree.children]
    else:
        for toks in good:
            stmt = _parse_statement(build, toks, diags)
            if stmt is not None:
                statements.append(stmt)
    diags.extend(build.diags)
    diags.extend(_header_checks(file, statements))
    policy = ast.PolicyFile(file=file, statements=tuple(statements), comments=tuple(scan.comments))
    return Result(policy, dg.sort_diagnostics(diags))


def _parse_statement(build: _Build, toks: list[Token], diags: list[Diagnostic]) -> ast.Statement | None:
    try:
        tree = _parser().parse(toks, start="statement")
    except UnexpectedToken as exc:
        diags.append(_syntax_error(build.file, exc, toks))
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


def _syntax_error(file: str, exc: UnexpectedToken, toks: list[Token]) -> Diagnostic:
    tok = exc.token
    if tok.type == "$END":
        span = _end_span(file, toks[-1])
    else:
        span = _span(file, tok)
    try:
        expected = set(exc.accepts) if exc.accepts else set(exc.expected)
    except Exception:  # accepts replays the parser; fall back to the table's view
        expected = set(exc.expected)
    found = describe_found(tok.type, str(tok.value))
    hint = hint_for(str(tok.value)) if tok.type in KEYWORDS.values() and "NAME" in expected else ""
    if not hint and tok.type in KEYWORDS.values() and "NAME" in expected:
        hint = f"`{tok.value}` is a keyword; quote an action name that is a keyword, as in `\"{tok.value}\"`"
    if not hint:
        hint = hint_for(str(tok.value))
    return dg.make("AC300", span, found=found, expected=describe_expected(expected), hint=hint)


def _header_checks(file: str, statements: list[ast.Statement]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    headers = [(i, s) for i, s in enumerate(statements) if isinstance(s, ast.Header)]
    for n, (i, h) in enumerate(headers):
        if n > 0:
            out.append(dg.make("AC308", h.span, message="second `policy` header",
                               hint="a file has at most one `policy NAME` line"))
        elif i > 0:
            out.append(dg.make("AC308", h.span, message="`policy` header must come first",
                               hint="move `policy NAME` to the top of the file"))
    return out


from agentos_contracts.policy.build import Build as _BuildBase  # noqa: E402


@v_args(meta=True)
class _Build(_BuildBase, Transformer):  # type: ignore[misc]
    """Lark tree → AST; the per-rule methods live in ``build.py`` (plain Python, no lark)."""
