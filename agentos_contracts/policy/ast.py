"""The policy AST: what a policy file means, with where each part was written.

Nodes are frozen dataclasses whose spans are left out of equality (as Cedar's
``Node`` ignores ``loc``), so two texts that mean the same thing compare equal;
that is what lets ``fmt`` be tested by re-parsing its output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Union

from agentos_contracts.diagnostics import Span

_NOWHERE = Span("<policy>")


class Effect(str, Enum):
    ALLOW = "allow"
    DENY = "deny"
    CONSENT = "consent"


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """An action target: ``exact`` name, ``prefix`` (``name.*``, stored as ``name.``) or ``all`` (``*``)."""

    kind: str
    name: str = ""
    quoted: bool = field(default=False, compare=False)
    span: Span = field(default=_NOWHERE, compare=False)

    def text(self) -> str:
        if self.kind == "all":
            return "*"
        return self.name + "*" if self.kind == "prefix" else self.name

    def matches(self, action: str) -> bool:
        if self.kind == "all":
            return True
        if self.kind == "prefix":
            return action.startswith(self.name)
        return action == self.name


# ---- expressions -------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Path:
    """A nested lookup ``a.b.c`` in the request context."""

    parts: tuple[str, ...]
    span: Span = field(default=_NOWHERE, compare=False)

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRef:
    """The name ``action``: the action being decided."""

    span: Span = field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Literal:
    """A number, string or boolean; ``kind`` keeps ``1`` and ``true`` apart (Python says 1 == True)."""

    kind: str  # "number" | "string" | "bool"
    value: int | float | str | bool
    span: Span = field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ListLit:
    items: tuple[Literal, ...]
    span: Span = field(default=_NOWHERE, compare=False)


Operand = Union[Path, ActionRef, Literal, ListLit]


@dataclass(frozen=True, slots=True, kw_only=True)
class Compare:
    op: str  # == != < <= > >=
    left: Operand
    right: Operand
    span: Span = field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    """``left IN right``, ``left NOT IN right`` or ``left CONTAINS right`` (as written)."""

    op: str  # "in" | "not in" | "contains"
    left: Operand
    right: Operand
    span: Span = field(default=_NOWHERE, compare=False)

    def element_container(self) -> tuple[Operand, Operand]:
        """``a CONTAINS b`` means exactly ``b IN a``."""
        return (self.right, self.left) if self.op == "contains" else (self.left, self.right)


@dataclass(frozen=True, slots=True, kw_only=True)
class Matches:
    subject: Operand
    glob: str
    span: Span = field(default=_NOWHERE, compare=False)
    glob_span: Span = field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Has:
    path: Path
    span: Span = field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Truth:
    """A bare path or literal used as a condition; it must hold a boolean."""

    operand: Path | ActionRef | Literal
    span: Span = field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Not:
    operand: Expr
    span: Span = field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class And:
    """Left-to-right, short-circuit; nested ANDs are flattened (AND is associative)."""

    items: tuple[Expr, ...]
    span: Span = field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Or:
    items: tuple[Expr, ...]
    span: Span = field(default=_NOWHERE, compare=False)


Expr = Union[Compare, Member, Matches, Has, Truth, Not, And, Or]


# ---- statements ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Type:
    """A declared type: number, string, bool, or set<T> / list<T> of a scalar T."""

    name: str
    element: str | None = None
    span: Span = field(default=_NOWHERE, compare=False)

    def text(self) -> str:
        return f"{self.name}<{self.element}>" if self.element else self.name


@dataclass(frozen=True, slots=True, kw_only=True)
class Header:
    name: str
    span: Span = field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Declaration:
    path: Path
    type: Type
    span: Span = field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """``[@id("...")] EFFECT [TARGETS] [IF CONDITION]``; no targets means every action.

    ``id`` is the explicit ``@id`` or ``<file base name>:<line>``; the derived form
    depends on layout, so only ``explicit_id`` takes part in equality.
    """

    effect: Effect
    targets: tuple[Target, ...]
    condition: Expr | None
    explicit_id: str | None = None
    id: str = field(default="", compare=False)
    span: Span = field(default=_NOWHERE, compare=False)
    effect_span: Span = field(default=_NOWHERE, compare=False)

    @property
    def applies_to_all(self) -> bool:
        return not self.targets or any(t.kind == "all" for t in self.targets)


Statement = Union[Header, Declaration, Rule]


@dataclass(frozen=True, slots=True, kw_only=True)
class Comment:
    text: str  # with the leading '#'
    line: int
    column: int
    own_line: bool  # nothing but blanks before it on its line


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyFile:
    """One parsed file: its statements in order (comments kept apart, for ``fmt``)."""

    file: str = field(compare=False)
    statements: tuple[Statement, ...]
    comments: tuple[Comment, ...] = field(default=(), compare=False)

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(s for s in self.statements if isinstance(s, Rule))

    @property
    def declarations(self) -> tuple[Declaration, ...]:
        return tuple(s for s in self.statements if isinstance(s, Declaration))

    @property
    def header(self) -> Header | None:
        return next((s for s in self.statements if isinstance(s, Header)), None)


def walk(expr: Expr | Operand) -> list[Expr | Operand]:
    """Every node of an expression, parents first (iterative: deep input must not recurse)."""
    out: list[Expr | Operand] = []
    stack: list[Expr | Operand] = [expr]
    while stack:
        node = stack.pop()
        out.append(node)
        if isinstance(node, (And, Or)):
            stack.extend(reversed(node.items))
        elif isinstance(node, Not):
            stack.append(node.operand)
        elif isinstance(node, (Compare, Member)):
            stack.extend((node.right, node.left))
        elif isinstance(node, Matches):
            stack.append(node.subject)
        elif isinstance(node, Has):
            stack.append(node.path)
        elif isinstance(node, Truth):
            stack.append(node.operand)
    return out
