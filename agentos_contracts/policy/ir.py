"""The compiled policy: the one document the runtime reads (schemas/compiled-policy.schema.json).

Loading checks every node by hand (the runtime layer must not need jsonschema or
lark) and recomputes the index by action: a document whose index disagrees with
its rules is refused, so an edited index cannot hide a DENY. Dumping is canonical
(sorted keys, fixed separators), so the same sources give the same bytes.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from agentos_contracts import diagnostics as dg
from agentos_contracts.diagnostics import Diagnostic, Span

API_VERSION = "agentos/v0.2"
KIND = "CompiledPolicy"
FORMAT_VERSION = 1
MAX_DEPTH = 128
EFFECTS = ("allow", "deny", "consent")
CMP_OPS = ("==", "!=", "<", "<=", ">", ">=")
SCALAR_TYPES = ("number", "string", "bool")
TYPES = SCALAR_TYPES + tuple(f"{c}<{t}>" for c in ("set", "list") for t in SCALAR_TYPES)
_ACTION = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z][A-Za-z0-9_-]*)*\Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledRule:
    index: int
    id: str
    effect: str
    targets: tuple[str, ...]  # "web.fetch", "payment.*", "*"; () = every action
    condition: Mapping[str, Any] | None
    implied: bool = False
    span: Span | None = field(default=None, compare=False)

    @property
    def summary(self) -> str:
        """`DENY fs.write`: what a reason shows of a rule (no condition: it may be long)."""
        word = {"allow": "ALLOW", "deny": "DENY", "consent": "REQUIRE CONSENT FOR"}[self.effect]
        if not self.targets:
            return "REQUIRE CONSENT FOR *" if self.effect == "consent" else f"{word} *"
        return f"{word} {', '.join(self.targets)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledDocument:
    rules: tuple[CompiledRule, ...]
    ceiling: tuple[str, ...] | None  # None: no contract, no ceiling
    data: Mapping[str, Any] = field(compare=False)  # the plain document, as loaded or built


def target_matches(target: str, action: str) -> bool:
    if target == "*":
        return True
    if target.endswith(".*"):
        return action.startswith(target[:-1])
    return action == target


def is_target(text: Any) -> bool:
    if not isinstance(text, str):
        return False
    if text == "*":
        return True
    return bool(_ACTION.match(text[:-2] if text.endswith(".*") else text))


def build_index(rules: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Rule positions by target: exact names, prefixes (``payment.``) and rules for every action."""
    exact: dict[str, list[int]] = {}
    prefix: dict[str, list[int]] = {}
    every: list[int] = []
    for i, rule in enumerate(rules):
        targets = rule["targets"]
        if not targets or "*" in targets:
            every.append(i)
            continue
        for t in dict.fromkeys(targets):
            if t.endswith(".*"):
                prefix.setdefault(t[:-1], []).append(i)
            else:
                exact.setdefault(t, []).append(i)
    return {"exact": exact, "prefix": prefix, "all": every}


def dump(doc: Mapping[str, Any]) -> bytes:
    """Canonical bytes: sorted keys, no insignificant spaces, UTF-8, one final newline."""
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


# ---- globs (MATCHES) -----------------------------------------------------------------


class GlobError(ValueError):
    pass


def glob_regex(glob: str) -> str:
    """Whole-string shell glob → regex: `*` any run (with `.` and `/`), `?` one character,
    `[...]`/`[!...]` classes, `\\` escapes; case-sensitive. An unclosed `[` is an error."""
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        ch = glob[i]
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "\\":
            if i + 1 >= n:
                raise GlobError("trailing `\\` escapes nothing")
            i += 1
            out.append(re.escape(glob[i]))
        elif ch == "[":
            i, cls = _glob_class(glob, i)
            out.append(cls)
            continue
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


def _glob_class(glob: str, start: int) -> tuple[int, str]:
    i = start + 1
    negate = i < len(glob) and glob[i] == "!"
    if negate:
        i += 1
    items: list[str] = []
    first = True
    while True:
        if i >= len(glob):
            raise GlobError(f"`[` at position {start + 1} is never closed")
        ch = glob[i]
        if ch == "]" and not first:
            break
        if ch == "\\" and i + 1 < len(glob):
            i += 1
            ch = glob[i]
        if i + 2 < len(glob) and glob[i + 1] == "-" and glob[i + 2] != "]":
            hi = glob[i + 2]
            if hi == "\\" and i + 3 < len(glob):
                hi = glob[i + 3]
                i += 1
            if ord(hi) < ord(ch):
                raise GlobError(f"range `{ch}-{hi}` is reversed")
            items.append(f"{re.escape(ch)}-{re.escape(hi)}")
            i += 3
        else:
            items.append(re.escape(ch))
            i += 1
        first = False
    return i + 1, "[" + ("^" if negate else "") + "".join(items) + "]"


# ---- loading ---------------------------------------------------------------------------


class _Invalid(Exception):
    def __init__(self, where: str, reason: str) -> None:
        super().__init__(reason)
        self.where = where
        self.reason = reason


def load_text(text: str, file: str) -> tuple[CompiledDocument | None, list[Diagnostic]]:
    span = Span.file_start(file)
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        reason = "nesting too deep" if isinstance(exc, RecursionError) else f"not JSON ({exc})"
        return None, [dg.make("AC340", span, reason=reason)]
    return load_document(data, file)


def _no_constant(name: str) -> Any:
    raise ValueError(f"`{name}` is not a JSON number")


def load_document(data: Any, file: str, trusted: bool = False) -> tuple[CompiledDocument | None, list[Diagnostic]]:
    """Check a plain compiled document; refuse unknown versions and any malformed node.

    ``trusted`` is only for a document the compiler built in this process: it skips the
    node-by-node check (the compiler builds nothing else), never the index check."""
    span = Span.file_start(file)
    if not isinstance(data, dict) or data.get("kind") != KIND:
        return None, [dg.make("AC340", span, reason=f"not a `{KIND}` document")]
    version = data.get("formatVersion")
    if version != FORMAT_VERSION or isinstance(version, bool):
        return None, [dg.make("AC341", span, version=version, known=FORMAT_VERSION)]
    try:
        doc = _load(data, trusted)
    except _Invalid as exc:
        return None, [dg.make("AC342", span, where=exc.where, reason=exc.reason)]
    return doc, []


def _load(data: dict[str, Any], trusted: bool) -> CompiledDocument:
    rules_data = _get(data, "rules", list, "")
    ceiling_data = data.get("ceiling")
    ceiling: tuple[str, ...] | None = None
    if ceiling_data is not None:
        targets = _get(ceiling_data if isinstance(ceiling_data, dict) else {}, "targets", list, "/ceiling")
        if not all(is_target(t) for t in targets):
            raise _Invalid("/ceiling/targets", "not a list of action targets")
        ceiling = tuple(targets)
    rules: list[CompiledRule] = []
    seen: set[str] = set()
    for i, r in enumerate(rules_data):
        where = f"/rules/{i}"
        if not isinstance(r, dict):
            raise _Invalid(where, "not an object")
        rid = _get(r, "id", str, where)
        if rid in seen:
            raise _Invalid(where + "/id", f"duplicate rule id `{rid}`")
        seen.add(rid)
        effect = _get(r, "effect", str, where)
        if effect not in EFFECTS:
            raise _Invalid(where + "/effect", "unknown effect")
        targets = _get(r, "targets", list, where)
        if not all(is_target(t) for t in targets):
            raise _Invalid(where + "/targets", "not a list of action targets")
        cond = r.get("condition")
        if cond is not None and not trusted:
            _check_expr(cond, where + "/condition", 0, boolean=True)
        implied = r.get("implied", False)
        if not isinstance(implied, bool):
            raise _Invalid(where + "/implied", "not a boolean")
        rules.append(CompiledRule(index=i, id=rid, effect=effect, targets=tuple(targets), condition=cond,
                                  implied=implied, span=_span(r.get("span"))))
    if data.get("index") != build_index(rules_data):
        raise _Invalid("/index", "the index by action does not match the rules")
    return CompiledDocument(rules=tuple(rules), ceiling=ceiling, data=data)


def _span(raw: Any) -> Span | None:
    if not isinstance(raw, dict):
        return None
    try:
        return Span(str(raw["file"]), int(raw["line"]), int(raw["column"]),
                    raw.get("end_line"), raw.get("end_column"))
    except (KeyError, TypeError, ValueError):
        return None


def _get(obj: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in obj:
        raise _Invalid(where, f"missing `{key}`")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise _Invalid(f"{where}/{key}", f"expected {kind.__name__}")
    return value


def is_scalar_value(v: Any) -> bool:
    if isinstance(v, bool) or isinstance(v, str):
        return True
    if isinstance(v, int):
        return True
    return isinstance(v, float) and math.isfinite(v)


_BOOLEAN_OPS = frozenset({"and", "or", "not", "in", "matches", "has", "truth"} | set(CMP_OPS))


def _check_expr(node: Any, where: str, depth: int, boolean: bool) -> None:
    if depth > MAX_DEPTH:
        raise _Invalid(where, "nested too deeply")
    if not isinstance(node, dict) or not isinstance(node.get("op"), str):
        raise _Invalid(where, "not an expression node")
    op = node["op"]
    if boolean != (op in _BOOLEAN_OPS):
        raise _Invalid(where, f"`{op}` is not {'a condition' if boolean else 'an operand'}")
    d = depth + 1
    if op in ("and", "or"):
        args = _get(node, "args", list, where)
        if len(args) < 2:
            raise _Invalid(where + "/args", "needs at least two conditions")
        for i, a in enumerate(args):
            _check_expr(a, f"{where}/args/{i}", d, True)
    elif op == "not":
        _check_expr(node.get("arg"), where + "/arg", d, True)
    elif op in CMP_OPS or op == "in":
        _check_expr(node.get("left"), where + "/left", d, False)
        _check_expr(node.get("right"), where + "/right", d, False)
    elif op == "matches":
        _check_expr(node.get("arg"), where + "/arg", d, False)
        try:
            glob_regex(_get(node, "glob", str, where))
        except GlobError as exc:
            raise _Invalid(where + "/glob", str(exc)) from None
    elif op == "truth":
        _check_expr(node.get("arg"), where + "/arg", d, False)
    elif op in ("has", "attr"):
        path = _get(node, "path", list, where)
        if not path or not all(isinstance(p, str) and p for p in path):
            raise _Invalid(where + "/path", "not a list of names")
        if op == "attr" and node.get("type") is not None and node["type"] not in TYPES:
            raise _Invalid(where + "/type", "unknown type")
    elif op == "value":
        if "value" not in node or not is_scalar_value(node["value"]):
            raise _Invalid(where + "/value", "not a number, string or boolean")
    elif op == "list":
        items = _get(node, "items", list, where)
        if not all(is_scalar_value(v) for v in items):
            raise _Invalid(where + "/items", "not a list of numbers, strings or booleans")
    elif op != "action":
        raise _Invalid(where, f"unknown operation `{op}`")
