"""Policies (+ an optional contract) → the compiled document, canonical and byte-stable.

The compiled form holds what the runtime needs and nothing it must interpret: a
format version, the sources' digests, the contract ceiling, every rule as a plain
expression tree with its span (CONTAINS turned into IN, NOT IN into NOT of IN, types
attached to attribute reads), and an index by action. Implied rules from the
contract come first, with the ids ``contract:consent_for`` and
``contract:capabilities``.
"""

from __future__ import annotations

import gc
import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any, Mapping, Sequence

from agentos_contracts import diagnostics as dg
from agentos_contracts.diagnostics import Diagnostic, Span
from agentos_contracts.policy import ast, ir
from agentos_contracts.policy.analysis import rule_set_warnings
from agentos_contracts.policy.checker import check_files
from agentos_contracts.policy.evaluator import CompiledPolicy
from agentos_contracts.policy.tools import ToolTypes

CONSENT_ID = "contract:consent_for"
CEILING_ID = "contract:capabilities"


@dataclass(frozen=True, slots=True, kw_only=True)
class Ceiling:
    """The contract's part: capabilities and consent_for (targets), and its name."""

    name: str | None
    capabilities: tuple[str, ...]
    consent_for: tuple[str, ...]
    names_policies: bool = False  # the contract lists policy files: only their ALLOW rules grant

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.capabilities + self.consent_for))


def ceiling_of(contract: Mapping[str, Any] | None) -> Ceiling | None:
    """Stage-local reading of an AgentContract's data; malformed entries never widen the ceiling."""
    if contract is None:
        return None
    caps = contract.get("capabilities")
    security = contract.get("security")
    consent = security.get("consent_for") if isinstance(security, Mapping) else None
    name = contract.get("name")

    def targets(raw: Any) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for t in (raw if isinstance(raw, list) else []) if ir.is_target(t)))

    named = contract.get("policies")
    return Ceiling(name=name if isinstance(name, str) else None, capabilities=targets(caps),
                   consent_for=targets(consent), names_policies=bool(named))


@dataclass(slots=True)
class CompileResult:
    policy: CompiledPolicy
    diagnostics: list[Diagnostic]
    sources: dict[str, str] = field(default_factory=dict)  # file → text, for rendering diagnostics
    files: list[ast.PolicyFile] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def _target(text: str) -> ast.Target:
    if text == "*":
        return ast.Target(kind="all")
    if text.endswith(".*"):
        return ast.Target(kind="prefix", name=text[:-1])
    return ast.Target(kind="exact", name=text)


def read_policy(path: str) -> tuple[bytes | None, list[Diagnostic]]:
    try:
        data = FsPath(path).read_bytes() if path != "-" else sys.stdin.buffer.read()
    except OSError as exc:
        return None, [dg.make("AC001", Span.file_start(path), file=path, reason=exc.strerror or str(exc))]
    return data, []


def decode(name: str, data: bytes) -> tuple[str | None, list[Diagnostic]]:
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8", errors="replace")
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1
        return None, [dg.make("AC002", Span(name, line, col), byte=data[exc.start], offset=exc.start)]


def compile_sources(sources: Sequence[tuple[str, bytes]], contract: Mapping[str, Any] | None = None, *,
                    tool_schemas: Mapping[str, Any] | None = None, analyse: bool = True,
                    ceiling_warnings: bool = True) -> CompileResult:
    """Parse, check and compile named sources together into one policy.

    ``analyse`` adds the warnings of ``analysis``; ``ceiling_warnings`` the ones that
    depend on the contract (AC333), which only make sense when compiling for it.
    The cyclic garbage collector is paused meanwhile: a compile allocates millions of
    short-lived acyclic objects, and collecting them mid-way cost a third of the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _compile(sources, contract, tool_schemas, analyse, ceiling_warnings)
    finally:
        if enabled:
            gc.enable()


def _compile(sources: Sequence[tuple[str, bytes]], contract: Mapping[str, Any] | None,
             tool_schemas: Mapping[str, Any] | None, analyse: bool, ceiling_warnings: bool) -> CompileResult:
    from agentos_contracts.policy.parser import parse_policy  # the only path that loads lark

    diags: list[Diagnostic] = []
    files: list[ast.PolicyFile] = []
    texts: dict[str, str] = {}
    digests: list[dict[str, Any]] = []
    for name, data in sources:
        text, bad = decode(name, data)
        diags += bad
        if text is None:
            continue
        texts[name] = text
        parsed = parse_policy(text, name)
        diags += parsed.diagnostics
        assert parsed.value is not None
        files.append(parsed.value)
        header = parsed.value.header
        digests.append({"file": name, "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
                        "policy": header.name if header else None})
    ceiling = ceiling_of(contract)
    env, found = check_files(files, ToolTypes.from_schemas(tool_schemas or {}))
    diags += found
    rules = [r for f in files for r in f.rules]
    # the note: a contract that names no policy file allows each capability; one that names policies
    # grants only through their ALLOW rules, so compiling it without them grants nothing (fail closed)
    implied_allow = ceiling is not None and not sources and not ceiling.names_policies
    if analyse and not any(d.is_error for d in diags):  # warnings about a broken policy are noise
        diags += rule_set_warnings(rules, [_target(t) for t in ceiling.targets] if ceiling and ceiling_warnings else None,
                                   [_target(t) for t in ceiling.consent_for] if ceiling else [],
                                   implied_allow, env.rule_types, ceiling.name if ceiling else None)
        if not rules and not implied_allow and files:
            diags.append(dg.make("AC335", Span.file_start(files[0].file)))
    diags = dg.sort_diagnostics(diags)
    if any(d.is_error for d in diags):
        return CompileResult(CompiledPolicy(None, diags), diags, texts, files)
    doc = build_document(rules, env.rule_types, env.declared, ceiling, implied_allow, digests)
    raw = ir.dump(doc)
    compiled, bad = ir.load_document(doc, "<compiled>", trusted=True)
    return CompileResult(CompiledPolicy(compiled, diags + bad, raw), diags + bad, texts, files)


def build_document(rules: list[ast.Rule], rule_types: dict[int, dict[tuple[str, ...], str]],
                   declared: dict[tuple[str, ...], str], ceiling: Ceiling | None, implied_allow: bool,
                   sources: list[dict[str, Any]]) -> dict[str, Any]:
    out: list[dict[str, Any]] = []
    if ceiling is not None and ceiling.consent_for:
        out.append(_implied(CONSENT_ID, "consent", ceiling.consent_for))
    if implied_allow and ceiling is not None and ceiling.capabilities:
        out.append(_implied(CEILING_ID, "allow", ceiling.capabilities))
    for r in rules:
        types = rule_types.get(id(r), {})
        out.append({
            "id": r.id,
            "effect": r.effect.value,
            "targets": [t.text() for t in r.targets],
            "condition": _expr(r.condition, types) if r.condition is not None else None,
            "implied": False,
            "span": _span(r.span),
        })
    return {
        "apiVersion": ir.API_VERSION,
        "kind": ir.KIND,
        "formatVersion": ir.FORMAT_VERSION,
        "sources": sources,
        "ceiling": None if ceiling is None else {"contract": ceiling.name, "targets": list(ceiling.targets)},
        "declarations": {".".join(k): v for k, v in sorted(declared.items())},
        "rules": out,
        "index": ir.build_index(out),
    }


def _implied(rid: str, effect: str, targets: tuple[str, ...]) -> dict[str, Any]:
    return {"id": rid, "effect": effect, "targets": list(targets), "condition": None, "implied": True, "span": None}


def _span(s: Span) -> dict[str, Any]:
    return {"file": s.file, "line": s.line, "column": s.column, "end_line": s.end_line, "end_column": s.end_column}


def _expr(e: ast.Expr, types: dict[tuple[str, ...], str]) -> dict[str, Any]:
    if isinstance(e, (ast.And, ast.Or)):
        return {"op": "and" if isinstance(e, ast.And) else "or", "args": [_expr(i, types) for i in e.items]}
    if isinstance(e, ast.Not):
        return {"op": "not", "arg": _expr(e.operand, types)}
    if isinstance(e, ast.Compare):
        return {"op": e.op, "left": _operand(e.left, types), "right": _operand(e.right, types)}
    if isinstance(e, ast.Member):
        elem, cont = e.element_container()
        node = {"op": "in", "left": _operand(elem, types), "right": _operand(cont, types)}
        return {"op": "not", "arg": node} if e.op == "not in" else node
    if isinstance(e, ast.Matches):
        return {"op": "matches", "arg": _operand(e.subject, types), "glob": e.glob}
    if isinstance(e, ast.Has):
        return {"op": "has", "path": list(e.path.parts)}
    return {"op": "truth", "arg": _operand(e.operand, types)}


def _operand(o: ast.Operand, types: dict[tuple[str, ...], str]) -> dict[str, Any]:
    if isinstance(o, ast.Path):
        node: dict[str, Any] = {"op": "attr", "path": list(o.parts)}
        if o.parts in types:
            node["type"] = types[o.parts]
        return node
    if isinstance(o, ast.ActionRef):
        return {"op": "action"}
    if isinstance(o, ast.ListLit):
        return {"op": "list", "items": [i.value for i in o.items]}
    return {"op": "value", "value": o.value}


def compile_files(paths: Sequence[str], contract: Mapping[str, Any] | None = None, *,
                  tool_schemas: Mapping[str, Any] | None = None) -> CompiledPolicy:
    """The library entry point: a policy that decides (denying everything if there were errors)."""
    return compile_paths(paths, contract, tool_schemas=tool_schemas).policy


def compile_paths(paths: Sequence[str], contract: Mapping[str, Any] | None = None, *,
                  tool_schemas: Mapping[str, Any] | None = None, analyse: bool = True,
                  ceiling_warnings: bool = True) -> CompileResult:
    sources: list[tuple[str, bytes]] = []
    diags: list[Diagnostic] = []
    for p in paths:
        data, bad = read_policy(p)
        diags += bad
        if data is not None:
            sources.append((p, data))
    if diags:
        return CompileResult(CompiledPolicy(None, diags), diags)
    return compile_sources(sources, contract, tool_schemas=tool_schemas, analyse=analyse,
                           ceiling_warnings=ceiling_warnings)


def check_policy_files(paths: Sequence[str], contract: Mapping[str, Any] | None = None, *,
                       tool_schemas: Mapping[str, Any] | None = None) -> list[Diagnostic]:
    """Parse and check the policies a contract names (for `agentos validate`); no output is written.

    Policies are often shared by several agents (one workflow, one policy), so the
    warnings that depend on one contract's ceiling (AC333) are left to
    `agentos compile --contract`, where the user compiles for that contract."""
    return compile_paths(paths, contract, tool_schemas=tool_schemas, ceiling_warnings=False).diagnostics
