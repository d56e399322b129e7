"""YAML → plain values plus a position for every node.

We build values from libyaml's *event* stream ourselves instead of using PyYAML's
recursive constructor, for four reasons a validator cannot do without:
- positions: every value and every key keeps its line and column (``PositionMap``);
- YAML 1.2 core scalars (``1e3`` is a number, ``on`` is a string, ``010`` is 10);
- bounds: nesting depth and alias expansion are counted as we go, so a billion-laughs
  file or 10,000 nested lists end in a diagnostic, not a hang or a RecursionError;
- duplicate keys are errors, not silently last-wins.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from agentos_contracts import diagnostics as dg
from agentos_contracts.diagnostics import Diagnostic, Span
from agentos_contracts.documents import pointer as ptr
from agentos_contracts.documents.discover import Source

# libyaml is much faster; the pure-Python loader gives the same events
_Parser: Any = getattr(yaml, "CBaseLoader", yaml.BaseLoader)

API_VERSION = "agentos/v0.2"
KINDS = ("AgentContract", "Workflow", "Platform", "TaskSet", "PolicyTest")
MAX_DEPTH = 256
MAX_EXPANDED_NODES = 1_000_000

_INT = re.compile(r"[-+]?[0-9]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(nan|NaN|NAN)\Z")
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUES = frozenset({"true", "True", "TRUE"})
_FALSES = frozenset({"false", "False", "FALSE"})


Pos = tuple[int, int, int, int]  # line, column, end line, end column (from 1)


@dataclass(slots=True)
class PositionMap:
    """JSON Pointer → where that value (and, for mapping entries, its key) starts.

    Positions are kept as plain tuples and turned into ``Span``s only when a
    diagnostic needs one: most documents are valid and never ask.
    """

    file: str = ""
    values: dict[str, Pos] = field(default_factory=dict)
    keys: dict[str, Pos] = field(default_factory=dict)

    def value_span(self, pointer: str) -> Span:
        """The value's own span, else the nearest ancestor's (aliases have no inner positions)."""
        p = pointer
        while True:
            if p in self.values:
                return Span(self.file, *self.values[p])
            if not p:
                raise KeyError(pointer)
            p = ptr.parent(p)

    def key_span(self, pointer: str) -> Span:
        """The span of the key naming ``pointer``; the value's span for list items."""
        if pointer in self.keys:
            return Span(self.file, *self.keys[pointer])
        return self.value_span(pointer)


@dataclass(frozen=True, slots=True)
class ResourceForm:
    """Marks a document read from its Kubernetes custom-resource form (``documents/custom.py``)."""

    api_version: str
    tenant_from_namespace: bool = False


@dataclass(slots=True)
class Document:
    """One YAML document of a file, as plain values with positions."""

    file: str
    index: int
    data: Any
    positions: PositionMap
    source: Source | None = None
    resource: ResourceForm | None = None  # set when the file holds the custom-resource form

    @property
    def kind(self) -> str | None:
        k = self.data.get("kind") if isinstance(self.data, dict) else None
        return k if isinstance(k, str) else None

    @property
    def name(self) -> str | None:
        n = self.data.get("name") if isinstance(self.data, dict) else None
        return n if isinstance(n, str) else None

    def span(self, pointer: str) -> Span:
        return self.positions.value_span(pointer)

    def key_span(self, pointer: str) -> Span:
        return self.positions.key_span(pointer)

    def diag(self, code: str, pointer: str, *, at_key: bool = False, **kw: Any) -> Diagnostic:
        """A diagnostic located at ``pointer`` in this document (its key with ``at_key``)."""
        span = self.key_span(pointer) if at_key else self.span(pointer)
        return dg.make(code, span, path=pointer, **kw)


@dataclass(slots=True)
class LoadedFile:
    name: str
    text: str
    documents: list[Document]
    diagnostics: list[Diagnostic]


class _Abort(Exception):
    """Stops composing a file after a fatal diagnostic."""

    def __init__(self, diag: Diagnostic) -> None:
        self.diag = diag


def decode(source: Source) -> tuple[str | None, list[Diagnostic]]:
    """UTF-8 (with or without BOM); anything else is a located diagnostic."""
    data = source.data
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8", errors="replace")
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1
        span = Span(source.name, line, col)
        return None, [dg.make("AC002", span, byte=data[exc.start], offset=exc.start)]
    return text, []


def resolve_plain(text: str) -> Any:
    """YAML 1.2 core schema for a plain (unquoted) scalar."""
    if text in _NULLS:
        return None
    if text in _TRUES:
        return True
    if text in _FALSES:
        return False
    c = text[0]
    if c.isdigit() or c in "+-.":
        if _INT.match(text):
            return int(text, 10)
        if _FLOAT.match(text):
            return float(text)
        if _OCT.match(text):
            return int(text[2:], 8)
        if _HEX.match(text):
            return int(text[2:], 16)
        if _INF.match(text):
            return -math.inf if text[0] == "-" else math.inf
        if _NAN.match(text):
            return math.nan
    return text


_STD_TAGS = {
    "tag:yaml.org,2002:str": str,
    "tag:yaml.org,2002:int": int,
    "tag:yaml.org,2002:float": float,
    "tag:yaml.org,2002:bool": None,
    "tag:yaml.org,2002:null": None,
}


class _Frame:
    __slots__ = ("container", "pointer", "anchor", "size", "key", "key_pos", "key_lines", "start")

    def __init__(self, container: Any, pointer: str, anchor: str | None, start: Pos) -> None:
        self.container = container
        self.pointer = pointer
        self.anchor = anchor
        self.size = 1
        self.key: Any = _NO_KEY
        self.key_pos: Pos = (1, 1, 1, 1)
        self.key_lines: dict[str, int] = {}
        self.start = start


_NO_KEY = object()
_DUP = object()  # a duplicate key: its value is parsed (for positions of errors) but dropped


class _Composer:
    """Builds one file's documents from parser events, iteratively."""

    def __init__(self, name: str, diags: list[Diagnostic]) -> None:
        self.name = name
        self.diags = diags
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.expanded = 0

    def span(self, mark: Any, end: Any = None) -> Span:
        if end is None:
            return Span(self.name, mark.line + 1, mark.column + 1)
        return Span(self.name, mark.line + 1, mark.column + 1, end.line + 1, end.column + 1)

    @staticmethod
    def pos(ev: Any) -> Pos:
        m, e = ev.start_mark, ev.end_mark
        return (m.line + 1, m.column + 1, e.line + 1, e.column + 1)

    def scalar_value(self, ev: Any) -> Any:
        tag = ev.tag
        if tag is None or tag == "!":
            if not ev.style and ev.implicit[0]:
                return resolve_plain(ev.value)
            return ev.value
        if tag in _STD_TAGS:
            if tag.endswith(":str"):
                return ev.value
            val = resolve_plain(ev.value)
            if tag.endswith(":int") and isinstance(val, int) and not isinstance(val, bool):
                return val
            if tag.endswith(":float") and isinstance(val, (int, float)) and not isinstance(val, bool):
                return float(val)
            if tag.endswith(":bool") and isinstance(val, bool):
                return val
            if tag.endswith(":null") and val is None:
                return None
            raise _Abort(dg.make("AC016", self.span(ev.start_mark), what=f"`{ev.value}` is not a valid `{tag}`"))
        raise _Abort(dg.make("AC016", self.span(ev.start_mark), what=f"tag `{tag}`",
                             hint="remove the tag; only plain YAML is accepted"))

    def compose(self, events: Any, documents: list[Document], source: Source) -> None:
        stack: list[_Frame] = []
        doc_index = 0
        positions = PositionMap(self.name)
        root: Any = None
        have_root = False
        for ev in events:
            cls = type(ev)
            if cls is yaml.DocumentStartEvent:
                positions, root, have_root, stack = PositionMap(self.name), None, False, []
                self.anchors = {}
                continue
            if cls is yaml.DocumentEndEvent:
                if have_root and root is not None:
                    documents.append(Document(self.name, doc_index, root, positions, source))
                doc_index += 1
                continue
            if cls in (yaml.StreamStartEvent, yaml.StreamEndEvent):
                continue
            if cls is yaml.MappingEndEvent or cls is yaml.SequenceEndEvent:
                frame = stack.pop()
                if frame.anchor is not None:
                    self.anchors[frame.anchor] = (frame.container, frame.size)
                if stack:
                    stack[-1].size += frame.size
                continue

            # a node: scalar, alias, or the start of a collection
            parent = stack[-1] if stack else None
            if parent is not None and isinstance(parent.container, dict) and parent.key is _NO_KEY:
                self.take_key(ev, parent)
                continue
            dropped = parent is not None and parent.key is _DUP
            if parent is None or dropped:
                here = parent.pointer if parent is not None else ""
            elif isinstance(parent.container, list):
                here = ptr.join(parent.pointer, len(parent.container))
            else:
                here = ptr.join(parent.pointer, parent.key)
            start = self.pos(ev)
            size = 1
            if cls is yaml.ScalarEvent:
                value = self.scalar_value(ev)
                if ev.anchor is not None:
                    self.anchors[ev.anchor] = (value, 1)
            elif cls is yaml.AliasEvent:
                if ev.anchor not in self.anchors:
                    raise _Abort(dg.make("AC004", Span(self.name, *start), problem=f"unknown alias `*{ev.anchor}`"))
                value, size = self.anchors[ev.anchor]
                self.expanded += size
                if self.expanded > MAX_EXPANDED_NODES:
                    raise _Abort(dg.make("AC009", Span(self.name, *start), limit=MAX_EXPANDED_NODES))
            else:
                if ev.tag not in (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
                    raise _Abort(dg.make("AC016", Span(self.name, *start), what=f"tag `{ev.tag}`",
                                         hint="remove the tag; only plain YAML is accepted"))
                value = {} if cls is yaml.MappingStartEvent else []
                if len(stack) >= MAX_DEPTH:
                    raise _Abort(dg.make("AC008", Span(self.name, *start), limit=MAX_DEPTH))
            if parent is None:
                root, have_root = value, True
                positions.values[here] = start
            elif dropped:  # a duplicate key's value: parsed, then dropped
                parent.key = _NO_KEY
            elif isinstance(parent.container, list):
                parent.container.append(value)
                parent.size += size
                positions.values[here] = start
            else:
                parent.container[parent.key] = value
                parent.size += size
                positions.values[here] = start
                positions.keys[here] = parent.key_pos  # type: ignore[assignment]
                parent.key = _NO_KEY
            if cls is yaml.MappingStartEvent or cls is yaml.SequenceStartEvent:
                stack.append(_Frame(value, here, ev.anchor, start))

    def take_key(self, ev: Any, frame: _Frame) -> None:
        pos = self.pos(ev)
        span = Span(self.name, *pos)
        if type(ev) is not yaml.ScalarEvent:
            raise _Abort(dg.make("AC015", span, found="a collection or alias"))
        key = self.scalar_value(ev)
        if not isinstance(key, str):
            found = "null" if key is None else f"{type(key).__name__} `{ev.value}`"
            self.diags.append(dg.make("AC015", span, found=found))
            key = ev.value
        if key in frame.container:
            here = ptr.join(frame.pointer, key)
            self.diags.append(dg.make("AC006", span, path=here, key=key, first_line=frame.key_lines[key]))
            # keep the first value (YAML parsers differ on which one wins)
            frame.key = _DUP
            frame.key_pos = pos
            return
        frame.key_lines[key] = pos[0]
        frame.key = key
        frame.key_pos = pos


def _syntax_diag(name: str, text: str, exc: yaml.MarkedYAMLError) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    span = Span(name, mark.line + 1, mark.column + 1) if mark else Span.file_start(name)
    problem = exc.problem or exc.context or "syntax error"
    if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        return dg.make("AC005", span)
    if "nesting depth" in f"{exc.problem} {exc.context}":
        # libyaml 0.2.5+ stops at its own depth limit while scanning ahead of our count
        return dg.make("AC008", _too_deep_at(name, text) or span, limit=MAX_DEPTH)
    if exc.context and exc.problem and exc.context not in problem:
        problem = f"{problem} ({exc.context})"
    return dg.make("AC004", span, problem=problem)


def _too_deep_at(name: str, text: str) -> Span | None:
    """Where flow brackets first nest deeper than MAX_DEPTH (quotes and comments skipped)."""
    depth, quote, comment, line, col = 0, "", False, 1, 0
    for ch in text:
        col += 1
        if ch == "\n":
            line, col, comment = line + 1, 0, False
        elif comment:
            continue
        elif quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            comment = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return Span(name, line, col)
        elif ch in "]}":
            depth -= 1
    return None


def load_text(name: str, text: str, source: Source | None = None) -> LoadedFile:
    """All documents of one YAML text; parsing stops at the first fatal problem."""
    diags: list[Diagnostic] = []
    docs: list[Document] = []
    composer = _Composer(name, diags)
    parser = _Parser(text)
    try:
        composer.compose(_events(parser), docs, source or Source(name, b"", None))
    except _Abort as stop:
        diags.append(stop.diag)
    except yaml.MarkedYAMLError as exc:
        diags.append(_syntax_diag(name, text, exc))
    except yaml.YAMLError as exc:  # e.g. reader errors on control characters
        diags.append(dg.make("AC004", Span.file_start(name), problem=str(exc).splitlines()[0]))
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose:
            dispose()
    if not docs and not any(d.is_error for d in diags):
        diags.append(dg.make("AC003", Span.file_start(name)))
    return LoadedFile(name, text, docs, diags)


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line + 1)
    if line < len(lines) and column < len(lines[line]):
        return lines[line][column]
    return ""


def _events(parser: Any) -> Any:
    get = parser.get_event
    while True:
        ev = get()
        if ev is None:
            return
        yield ev
        if type(ev) is yaml.StreamEndEvent:
            return


def load_source(source: Source) -> LoadedFile:
    text, diags = decode(source)
    if text is None:
        return LoadedFile(source.name, "", [], diags)
    return load_text(source.name, text, source)
