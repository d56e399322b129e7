"""ADMIT: validate → layer → bind (one MILP, exact re-checks) → policy → manifest → seal.

``admit(paths, platform)`` admits every AgentContract and Workflow in ``paths``
together against the platform catalog, counting what earlier manifests hold
(platform ``reservations``, ``--existing``), and returns the decision per contract or
workflow with sealed manifest bytes. Nothing is written here; the CLI writes files.
Invalid inputs stop everything before binding: admission never guesses around them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

from agentos_contracts import __version__
from agentos_contracts import diagnostics as dg
from agentos_contracts.binding.candidates import build_candidates
from agentos_contracts.binding.layering import Layered, layers_for
from agentos_contracts.binding.ledger import Ledger, held_from_predicate
from agentos_contracts.binding.options import Candidates, Reason, Unit, reason
from agentos_contracts.binding.predicate import Bound
from agentos_contracts.diagnostics import Diagnostic, Span
from agentos_contracts.documents.loader import Document
from agentos_contracts.model.contract import AgentContract
from agentos_contracts.model.platform import Platform
from agentos_contracts.model.workflow import Workflow

MANIFEST_PATTERNS = ("*.manifest.json",)


@dataclass(frozen=True, slots=True, kw_only=True)
class AdmitOptions:
    optimize: str = "cost"  # or "latency"
    time_limit: float = 60.0  # seconds for the whole solve → re-check loop
    solver: str = "auto"  # auto (HiGHS, else CBC) | highs | cbc
    existing: tuple[str, ...] = ()  # manifests (files or folders) already admitted
    trusted_keys: tuple[Any, ...] = ()  # public keys that signed them
    existing_unsigned: bool = False  # accept unsigned existing manifests
    seal: bool = True  # False: decide only (--dry-run); no manifest bytes
    key: Any = None  # Ed25519 private key; None seals unsigned
    issued_at: str | None = None
    expires_at: str | None = None
    sequence: int | None = None
    now: datetime | None = None  # for the expiry of existing manifests


@dataclass(frozen=True, slots=True, kw_only=True)
class Admitted:
    name: str
    kind: str
    file: str
    predicate: dict[str, Any] = field(hash=False)
    envelope: bytes | None
    models: tuple[str, ...]
    placement: tuple[tuple[str, int | None], ...]
    evidence: dict[str, Any] = field(default_factory=dict, hash=False)
    subjects: tuple[tuple[str, str], ...] = ()  # (name, sha256 hex) of the artifacts the manifest is about


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejected:
    name: str
    kind: str
    file: str
    verdict: str  # rejected | unknown
    reasons: tuple[Reason, ...]


@dataclass(slots=True)
class AdmitResult:
    admitted: list[Admitted] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    solver: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.rejected and not any(d.is_error for d in self.diagnostics)


@dataclass(slots=True)
class _Group:
    kind: str
    name: str
    doc: Document
    units: list[tuple[Unit, Layered]] = field(default_factory=list)
    early: list[Reason] = field(default_factory=list)  # reasons found before candidates
    workflow: Workflow | None = None
    agents: dict[str, AgentContract] = field(default_factory=dict)  # step agents' own contracts, un-overridden


def admit(paths: Sequence[str], platform_path: str, options: AdmitOptions = AdmitOptions()) -> AdmitResult:
    from agentos_contracts.validate import validate_paths

    out = AdmitResult()
    files, found = _files(list(paths), platform_path)
    out.diagnostics += found
    if any(d.is_error for d in found):
        return out
    named = set(paths) | {platform_path}
    report = validate_paths(files, check_policies=True, scanned={f for f in files if f not in named})
    out.diagnostics += report.diagnostics
    out.sources = report.sources
    if not report.ok:  # decided together, so nothing is decided: say so, never drop units silently
        count = len({d.file for d in report.diagnostics if d.is_error})
        out.diagnostics.append(dg.make("AC903", Span("<command line>"), count=count))
        return out
    pdoc = next((d for d in report.valid_documents("Platform") if _same(d.file, platform_path)), None)
    if pdoc is None:
        out.diagnostics.append(dg.make("AC500", Span.file_start(platform_path), file=platform_path))
        return out
    from agentos_contracts.validate.build import build_platform

    platform = build_platform(pdoc.data, pdoc.file)
    groups = _groups(report.valid_documents(), platform)
    if not groups:
        out.diagnostics.append(Diagnostic(Span("<command line>"), dg.Severity.ERROR, "AC901",
                                          "no AgentContract or Workflow documents in the given paths",
                                          "", "pass contract and workflow files or folders"))
        return out
    keys = {(g.kind, g.name) for g in groups}
    ledger, found = _reservations(platform, options, keys)
    out.diagnostics += found
    if any(d.is_error for d in found):
        return out
    _decide(out, groups, platform, pdoc, ledger, options)
    out.diagnostics = dg.sort_diagnostics(out.diagnostics)
    return out


def _files(paths: list[str], platform_path: str) -> tuple[list[str], list[Diagnostic]]:
    """The inputs plus the platform file, each once (a folder of contracts may hold the platform)."""
    from agentos_contracts.documents.discover import find_files

    found, diags = find_files(paths + [platform_path])
    seen: set[str] = set()
    out = []
    for f in found:
        key = f if f == "-" else os.path.realpath(f)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out, diags


def _same(a: str, b: str) -> bool:
    return a == b or (a != "-" and b != "-" and os.path.realpath(a) == os.path.realpath(b))


# --- units: layering per contract and per workflow step -----------------------------------------


def _unit(group: _Group, key: str, label: str, order: int, data: dict[str, Any], file: str, platform: Platform,
          request: dict[str, Any] | None = None) -> None:
    from agentos_contracts.validate.build import build_contract

    layered = layers_for(platform, data, request)
    for conflict in layered.conflicts:
        group.early.append(reason("AC501", f"/binding/must/{conflict.key}", name=label, key=conflict.key,
                                  detail=conflict.detail))
    try:
        contract = build_contract(layered.data, file)
    except (KeyError, TypeError, ValueError) as exc:
        group.early.append(reason("AC520", name=label, reason=str(exc) or type(exc).__name__))
        return
    group.units.append((Unit(key=key, label=label, group=f"{group.kind}:{group.name}", order=order, contract=contract),
                        layered))


def _agent(group: _Group, name: str, doc: Document, platform: Platform) -> None:
    """A step agent's own contract: its consent list stays in the step's even where an override replaced it."""
    from agentos_contracts.validate.build import build_contract

    try:
        group.agents[name] = build_contract(layers_for(platform, doc.data).data, doc.file)
    except (KeyError, TypeError, ValueError):
        return  # the step's own unit fails to build too and reports it (AC520)


def _groups(docs: list[Document], platform: Platform) -> list[_Group]:
    from agentos_contracts.validate.build import build_workflow

    contracts = {d.name: d for d in docs if d.kind == "AgentContract" and d.name}
    groups: list[_Group] = []
    for order, doc in enumerate(d for d in docs if d.kind in ("AgentContract", "Workflow") and d.name):
        assert doc.name is not None
        group = _Group(kind=doc.kind or "", name=doc.name, doc=doc)
        groups.append(group)
        if doc.kind == "AgentContract":
            _unit(group, doc.name, doc.name, order, doc.data, doc.file, platform)
            continue
        group.workflow = build_workflow(doc.data, {n: d.data for n, d in contracts.items()}, doc.file)
        for step in group.workflow.steps:
            if step.is_hitl or step.agent not in contracts:
                continue
            agent = contracts[step.agent]
            if step.agent not in group.agents:
                _agent(group, step.agent, agent, platform)
            request: dict[str, Any] = dict(step.override)
            if step.bind:
                request["binding"] = {**(request.get("binding") or {}), "mode": step.bind}
            _unit(group, f"{doc.name}/{step.id}", f"{doc.name} step `{step.id}` ({step.agent})", order,
                  agent.data, agent.file, platform, request)
    return groups


# --- reservations ---------------------------------------------------------------------------------


def _reservations(platform: Platform, options: AdmitOptions, admitting: set[tuple[str, str]]) -> tuple[Ledger, list[Diagnostic]]:
    """Count what admitted manifests hold; a manifest that cannot be trusted stops admission."""
    from agentos_contracts.documents.discover import find_files, read_source
    ledger = Ledger(platform=platform)
    diags: list[Diagnostic] = []
    paths = list(platform.reservations)
    if options.existing:
        more, missing = find_files(list(options.existing), MANIFEST_PATTERNS)
        paths += more
        diags += missing
    seen: set[str] = set()
    for path in paths:
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        source, bad = read_source(path)
        diags += bad
        if source is None:
            continue
        result = _verified(source.data, options)
        span = Span.file_start(path)
        if not result.ok:
            if {p.code for p in result.problems} == {"AC612"} and result.predicate is not None:
                diags.append(dg.make("AC534", span, file=path, what=str(result.predicate.get("name")),
                                     reason=result.problems[0].message))
                continue
            diags.append(dg.make("AC518", span, file=path, reason="; ".join(result.errors)))
            continue
        assert result.predicate is not None
        try:
            held = held_from_predicate(result.predicate, path)
        except (KeyError, TypeError, ValueError) as exc:
            diags.append(dg.make("AC518", span, file=path, reason=str(exc)))
            continue
        for h in held:
            if h.owner in admitting:
                diags.append(dg.make("AC534", span, file=path, what=h.label, severity=dg.Severity.NOTE,
                                     reason=f"{h.owner[0]} `{h.owner[1]}` is being admitted again now"))
                continue
            for problem in ledger.add_held(h):
                diags.append(dg.make("AC534", span, file=path, what=h.label, reason=problem))
    return ledger, diags


_VERIFIED: dict[tuple[str, tuple[str, ...], bool], Any] = {}  # verified manifests without expiry, by content
_VERIFIED_MAX = 4096


def _verified(data: bytes, options: AdmitOptions) -> Any:
    """``verify_manifest``, remembered by content digest for manifests that never expire.

    Admitting again and again against the same reservations (the Kubernetes webhook does,
    once per review) then verifies each manifest once; a changed file has another digest,
    and a manifest with ``expiresAt`` is checked afresh every time, since its verdict
    depends on the clock.
    """
    import hashlib

    from agentos_contracts.seal.keys import keyid
    from agentos_contracts.seal.manifest import verify_manifest

    key = (hashlib.sha256(data).hexdigest(), tuple(sorted(keyid(k) for k in options.trusted_keys)),
           options.existing_unsigned)
    hit = _VERIFIED.get(key)
    if hit is not None:
        return hit
    result = verify_manifest(data, list(options.trusted_keys), now=options.now, allow_unsigned=options.existing_unsigned)
    if result.ok and result.predicate is not None and "expiresAt" not in result.predicate:
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[key] = result
    return result


# --- decide, then build and seal the manifests ------------------------------------------------


def _decide(out: AdmitResult, groups: list[_Group], platform: Platform, pdoc: Document, ledger: Ledger,
            options: AdmitOptions) -> None:
    from agentos_contracts.binding.milp import SolverUnavailable
    from agentos_contracts.binding.resolve import resolve

    cands: list[Candidates] = []
    hrt_nodes = _hrt_nodes(pdoc.data)
    for g in groups:
        for unit, _ in g.units:
            c = _on_hrt_nodes(build_candidates(unit, platform), hrt_nodes)
            if g.early:
                c = Candidates(unit=unit, reasons=tuple(g.early) + c.reasons, warnings=c.warnings)
            cands.append(c)
    try:
        resolution = resolve(cands, ledger, optimize=options.optimize, time_limit=options.time_limit,
                             solver=options.solver)
    except SolverUnavailable as exc:
        out.diagnostics.append(dg.make("AC513", Span("<command line>"), reason=str(exc)))
        for g in groups:
            out.rejected.append(Rejected(name=g.name, kind=g.kind, file=g.doc.file, verdict="unknown",
                                         reasons=(reason("AC512", name=g.name, reason=str(exc)),)))
        return
    out.solver = {"name": resolution.solver, "status": resolution.status, "rounds": resolution.rounds,
                  "cuts": resolution.cuts}
    for w in resolution.warnings:
        out.diagnostics.append(Diagnostic(Span("<command line>"), dg.Severity.WARNING, w.code, w.message, "",
                                          _hint(w.code)))
    by_key = {o.unit.key: o for o in resolution.outcomes}  # per key, not a scan per unit
    docs = {g.name: g.doc for g in groups if g.kind == "AgentContract"}
    for g in groups:
        outcomes = [by_key[u.key] for u, _ in g.units]
        if g.early or not g.units or any(o.verdict != "admitted" for o in outcomes):
            out.rejected.append(_rejection(g, outcomes))
            continue
        bounds = {}
        for (unit, layered), o in zip(g.units, outcomes):
            assert o.choice is not None
            bounds[unit.key] = _bound(o.candidates, o.choice, layered, platform, resolution.ledger, out, docs)
        entry = _seal(g, bounds, platform, pdoc, options, out)
        if isinstance(entry, Admitted):
            out.admitted.append(entry)
        else:
            out.rejected.append(Rejected(name=g.name, kind=g.kind, file=g.doc.file, verdict="rejected", reasons=entry))


def _hrt_nodes(data: dict[str, Any]) -> frozenset[str] | None:
    """The nodes that host HRT work: those declaring a `scheduler` when any does, else all (None).

    A platform that names a scheduler on some nodes says which nodes run real-time work;
    assuming EDF (the default) on the others would admit task sets an RM node refuses
    onto, say, a cloud node that never promised a scheduler.
    """
    nodes = data.get("nodes") if isinstance(data.get("nodes"), list) else []
    declared = frozenset(str(n["name"]) for n in nodes if isinstance(n, dict) and n.get("scheduler") is not None
                         and "name" in n)
    return declared or None


def _on_hrt_nodes(c: Candidates, nodes: frozenset[str] | None) -> Candidates:
    if nodes is None or not c.cores:
        return c
    kept = tuple(o for o in c.cores if o.node.name in nodes)
    if len(kept) == len(c.cores):
        return c
    reasons = c.reasons
    if not kept:
        reasons += (reason("AC511", "/class/slo", name=c.unit.label,
                           detail="no eligible node declares a `scheduler` (only nodes that declare one host HRT work "
                                  "when any does)"),)
    return replace(c, cores=kept, reasons=reasons)


def _rejection(g: _Group, outcomes: list[Any]) -> Rejected:
    reasons: list[Reason] = list(g.early)
    for o in outcomes:
        if o.verdict == "admitted" or any(r.code == "AC519" and "another step" in r.message for r in o.reasons):
            continue
        if g.kind == "Workflow":
            step = o.unit.key.split("/", 1)[1]
            reasons.append(reason("AC515", name=g.name, step=step, agent=o.unit.contract.name))
        reasons += [r for r in o.reasons if r not in reasons]
    verdict = "unknown" if any(o.verdict == "unknown" for o in outcomes) else "rejected"
    return Rejected(name=g.name, kind=g.kind, file=g.doc.file, verdict=verdict, reasons=tuple(reasons))


def _hint(code: str) -> str:
    from agentos_contracts.codes import CODES

    return CODES[code].hint


def _warn(out: AdmitResult, docs: dict[str, Document], file: str, name: str, r: Reason) -> None:
    doc = docs.get(name)
    span = doc.span(r.pointer) if doc is not None else Span.file_start(file)
    out.diagnostics.append(Diagnostic(span, dg.Severity.WARNING, r.code, r.message, r.pointer, _hint(r.code)))


def _bound(c: Candidates, choice: Any, layered: Layered, platform: Platform, ledger: Ledger, out: AdmitResult,
           docs: dict[str, Document]) -> Bound:
    from agentos_contracts.binding.predicate import bind

    bound, warnings = bind(c, choice, layered, platform, ledger)
    for w in warnings:
        _warn(out, docs, c.unit.contract.file, c.unit.contract.name, w)
    return bound


def _seal(g: _Group, bounds: dict[str, Bound], platform: Platform, pdoc: Document, options: AdmitOptions,
          out: AdmitResult) -> Admitted | tuple[Reason, ...]:
    """Policy, manifest and seal for one admitted group; reasons if it cannot be completed."""
    from agentos_contracts.binding import flow, predicate
    from agentos_contracts.seal.canonical import canonical_digest

    clock = {"issued_at": options.issued_at, "expires_at": options.expires_at, "sequence": options.sequence}
    subjects: list[tuple[str, bytes | str]] = [(f"platform:{pdoc.file}", _bytes(pdoc))]
    if g.kind == "Workflow":
        assert g.workflow is not None
        steps = {key.split("/", 1)[1]: b for key, b in bounds.items()}
        problems = flow.critical_path(g.workflow, steps)
        if problems:
            return problems
        policy, problems = _policy(g.name, g.name, list(bounds.values()), flow.ceiling(g.workflow, steps))
        if problems:
            return problems
        manifest = predicate.workflow_manifest(g.workflow, steps, agentos_version=__version__, policy=policy,
                                               digest=canonical_digest, clock=clock, agents=g.agents)
        subjects.append((f"workflow:{g.doc.file}", _bytes(g.doc)))
        for b in bounds.values():
            f = b.candidates.unit.contract.file
            name = f"contract:{f}"
            if all(s[0] != name for s in subjects):
                subjects.append((name, Path(f).read_bytes()))
    else:
        b = next(iter(bounds.values()))
        policy, problems = _policy(g.name, g.name, [b], b.data)
        if problems:
            return problems
        manifest = predicate.contract_manifest(b, agentos_version=__version__, policy=policy, digest=canonical_digest,
                                               clock=clock)
        subjects.append((f"contract:{g.doc.file}", _bytes(g.doc)))
    if policy is not None:
        subjects.append(("policy:compiled", policy.digest))
    doc = manifest.to_json()
    from agentos_contracts.seal.statement import make_subject

    digests = tuple(sorted((n, make_subject(n, content).sha256) for n, content in subjects))
    envelope = None
    if options.seal:
        from agentos_contracts.seal.manifest import SealError, seal_manifest

        try:
            envelope = seal_manifest(doc, subjects, options.key)
        except SealError as exc:
            out.diagnostics.append(dg.make("AC622", Span.file_start(g.doc.file), reason=str(exc)))
            return (reason("AC622", reason=str(exc)),)
    return Admitted(name=g.name, kind=g.kind, file=g.doc.file, predicate=doc, envelope=envelope,
                    models=tuple(f"{m.name}@{m.version}" for m in manifest.resolved.models),
                    placement=tuple((p.node, p.core) for p in manifest.resolved.placement),
                    evidence=_evidence(bounds, platform), subjects=digests)


def _bytes(doc: Document) -> bytes:
    return doc.source.data if doc.source is not None else Path(doc.file).read_bytes()


def _policy(name: str, label: str, bounds: list[Bound], ceiling: dict[str, Any]) -> tuple[Any, tuple[Reason, ...]]:
    """Compile the policies against the bound tools' inputSchemas; None when none is named."""
    from agentos_contracts import policy as policy_
    from agentos_contracts.model.manifest import PolicyRef
    from agentos_contracts.seal.canonical import sha256_digest

    files = list(dict.fromkeys(p for b in bounds for p in b.candidates.unit.contract.policies))
    if not files:
        return None, ()
    schemas = {o.tool.name: o.tool.descriptor["inputSchema"] for b in bounds for o in b.choice.tools
               if isinstance(o.tool.descriptor.get("inputSchema"), dict)}
    compiled = policy_.compile_files(files, contract=ceiling, tool_schemas=schemas)
    if not compiled.ok or compiled.data is None:
        errors = [f"{d.file}:{d.line}:{d.column}: {d.message}" for d in compiled.diagnostics if d.is_error]
        return None, (reason("AC517", "/policies", name=label, detail="; ".join(errors[:3]) or "no compiled output"),)
    return PolicyRef(digest=sha256_digest(compiled.data), document=json.loads(compiled.data)), ()


def _evidence(bounds: dict[str, Bound], platform: Platform) -> dict[str, Any]:
    from agentos_contracts.binding.explain import evidence_json

    out = {key: evidence_json(b, platform.orchestration_overhead_ns) for key, b in bounds.items()}
    return next(iter(out.values())) if len(out) == 1 and "/" not in next(iter(out)) else out


# --- drift: does re-admitting give the same manifest? ----------------------------------------------


def drift(statement: dict[str, Any], result: AdmitResult, limit: int = 5) -> list[str]:
    """Differences between a sealed statement and ``result``, the re-admission of the same inputs."""
    from agentos_contracts.binding.drift import predicate_changes, subject_changes
    from agentos_contracts.seal.canonical import canonicalize
    from agentos_contracts.seal.manifest import parse_json

    predicate = statement.get("predicate") or {}
    kind, name = predicate.get("kind"), predicate.get("name")
    entry = next((a for a in result.admitted if a.kind == kind and a.name == name), None)
    if entry is None:
        rejected = next((r for r in result.rejected if r.kind == kind and r.name == name), None)
        if rejected is not None:
            why = "; ".join(f"{r.code} {r.message}" for r in rejected.reasons[:3])
            return [f"re-admitting {kind} `{name}` now rejects it: {why}"]
        errors = [d for d in result.diagnostics if d.is_error]
        if errors:
            return [f"re-admission failed: {errors[0].file}:{errors[0].line}: {errors[0].message}"]
        return [f"{kind} `{name}` is not among the given contracts and workflows"]
    then = [(s.get("name", ""), (s.get("digest") or {}).get("sha256", "")) for s in statement.get("subject") or []]
    now = parse_json(canonicalize(entry.predicate))[0]  # numbers as the sealed JSON spells them
    return subject_changes(then, list(entry.subjects)) + predicate_changes(predicate, now, limit)
