"""Canonical layout of policy files (``agentos fmt``), and how the tools print conditions.

One statement per line; keywords upper case (``has``, ``true``, ``false``, ``policy``
and ``attribute`` lower case); single spaces; the fewest parentheses that keep the
meaning, plus parentheses around anything under ``NOT`` that is not a bare path
(``NOT (a == b)`` reads unambiguously). Comments are kept: a comment on its own line
stays above the statement that followed it, a comment at the end of a statement's
last line stays there, and comments inside a statement that spanned lines move
above it. Runs of blank lines become one. Formatting is idempotent, and the output
parses to the same AST (tested with hypothesis).
"""

from __future__ import annotations

from agentos_contracts import diagnostics as dg
from agentos_contracts.diagnostics import Diagnostic, Span
from agentos_contracts.policy import ast
from agentos_contracts.policy.syntax import encode_string, format_number, is_bare_word

_EFFECT = {ast.Effect.ALLOW: "ALLOW", ast.Effect.DENY: "DENY", ast.Effect.CONSENT: "REQUIRE CONSENT"}


def format_operand(node: ast.Operand) -> str:
    if isinstance(node, ast.Path):
        return node.dotted
    if isinstance(node, ast.ActionRef):
        return "action"
    if isinstance(node, ast.ListLit):
        return "[" + ", ".join(format_operand(i) for i in node.items) + "]"
    if node.kind == "string":
        return encode_string(str(node.value))
    if node.kind == "bool":
        return "true" if node.value else "false"
    return format_number(node.value)  # type: ignore[arg-type]


def _level(e: ast.Expr) -> int:
    return 0 if isinstance(e, ast.Or) else 1 if isinstance(e, ast.And) else 2 if isinstance(e, ast.Not) else 3


def format_expr(e: ast.Expr) -> str:
    """A condition as canonical text (parents get parentheses only where precedence needs them)."""
    if isinstance(e, (ast.Or, ast.And)):
        word = " OR " if isinstance(e, ast.Or) else " AND "
        mine = _level(e)
        return word.join(_wrap(i, _level(i) <= mine) for i in e.items)
    if isinstance(e, ast.Not):
        inner = e.operand
        bare = isinstance(inner, ast.Truth) or isinstance(inner, ast.Not)
        return "NOT " + _wrap(inner, not bare)
    if isinstance(e, ast.Compare):
        return f"{format_operand(e.left)} {e.op} {format_operand(e.right)}"
    if isinstance(e, ast.Member):
        op = {"in": "IN", "not in": "NOT IN", "contains": "CONTAINS"}[e.op]
        return f"{format_operand(e.left)} {op} {format_operand(e.right)}"
    if isinstance(e, ast.Matches):
        return f"{format_operand(e.subject)} MATCHES {encode_string(e.glob)}"
    if isinstance(e, ast.Has):
        return f"has {e.path.dotted}"
    return format_operand(e.operand)  # Truth


def _wrap(e: ast.Expr, paren: bool) -> str:
    text = format_expr(e)
    return f"({text})" if paren else text


def format_target(t: ast.Target) -> str:
    if t.kind == "all":
        return "*"
    name = t.name[:-1] if t.kind == "prefix" else t.name
    if is_bare_word(name) and "_" not in name[:1]:
        return name + ".*" if t.kind == "prefix" else name
    return encode_string(t.text())


def format_rule(r: ast.Rule) -> str:
    parts: list[str] = []
    if r.explicit_id is not None:
        parts.append(f"@id({encode_string(r.explicit_id)})")
    effect = _EFFECT[r.effect]
    if r.effect is ast.Effect.CONSENT and r.targets:
        effect += " FOR"
    parts.append(effect)
    if r.targets:
        parts.append(", ".join(format_target(t) for t in r.targets))
    if r.condition is not None:
        parts.append("IF " + format_expr(r.condition))
    return " ".join(parts)


def format_statement(s: ast.Statement) -> str:
    if isinstance(s, ast.Header):
        return f"policy {s.name}"
    if isinstance(s, ast.Declaration):
        return f"attribute {s.path.dotted}: {s.type.text()}"
    return format_rule(s)


def format_policy(policy: ast.PolicyFile, text: str) -> str:
    """The canonical text of a parsed file; ``text`` supplies the blank lines to keep."""
    blank = {i + 1 for i, line in enumerate(text.split("\n")) if not line.strip()}
    spans = [(s.span.line, s.span.end_line or s.span.line) for s in policy.statements]
    # (line to sort by, order, first source line, last source line, text)
    items: list[tuple[int, int, int, int, str]] = []
    trailing: dict[int, list[str]] = {}
    for c in sorted(policy.comments, key=lambda c: (c.line, c.column)):
        owner = max((k for k, (a, b) in enumerate(spans) if a <= c.line <= b), default=None)
        if owner is None:
            items.append((c.line, 0, c.line, c.line, c.text))
        elif not c.own_line and c.line == spans[owner][1]:
            trailing.setdefault(owner, []).append(c.text)
        else:
            items.append((spans[owner][0], 0, spans[owner][0], spans[owner][0], c.text))
    for k, stmt in enumerate(policy.statements):
        body = format_statement(stmt)
        if k in trailing:
            body += "  " + " ".join(trailing[k])
        items.append((spans[k][0], 1, spans[k][0], spans[k][1], body))
    items.sort(key=lambda it: (it[0], it[1]))
    out: list[str] = []
    last = 0
    for _, _, first, end, body in items:
        if out and any(n in blank for n in range(last + 1, first)):
            out.append("")
        out.append(body)
        last = max(last, end)
    return "\n".join(out) + "\n" if out else ""


def format_text(text: str, file: str) -> tuple[str | None, list[Diagnostic]]:
    """Parse and format one file; None (with the parse errors) when it does not parse.

    The result is re-parsed and compared with the original AST: a formatter that
    changed meaning would be a bug, so it refuses (AC902) instead of writing.
    """
    from agentos_contracts.policy.parser import parse_policy

    parsed = parse_policy(text, file)
    errors = [d for d in parsed.diagnostics if d.is_error]
    if errors or parsed.value is None:
        return None, errors
    out = format_policy(parsed.value, text)
    again = parse_policy(out, file)
    if again.value != parsed.value or any(d.is_error for d in again.diagnostics):
        return None, [dg.make("AC902", Span.file_start(file), message="formatting would change the policy's meaning")]
    return out, []
