"""Incremental admission: one platform and its reservations loaded once, then one document at a time.

A Kubernetes admission webhook (or any long-running service) sees one contract per
``kubectl apply`` while thousands are already admitted. ``agentos admit --existing``
re-reads and re-verifies every manifest on each call; ``Admission`` verifies them once,
keeps what they hold in a ledger, and decides each new document against it: only the
new units are variables, everything reserved is fixed capacity. The decision is the
same one ``admit`` makes for that document with those manifests as ``--existing``
(same checks, same exact re-checks, same manifest bytes for the same options).

    session = Admission("platform.yaml", AdmitOptions(existing=("manifests/",), trusted_keys=(pub,)))
    result = session.admit(["new-agent.yaml"])   # an AdmitResult, as ``admit`` returns
    if result.ok:
        session.commit(result)                   # its reservations count for the next call

``commit`` is explicit so a caller can decide first and record only what it applied.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentos_contracts import admit as batch
from agentos_contracts import diagnostics as dg
from agentos_contracts.admit import AdmitOptions, AdmitResult
from agentos_contracts.binding.ledger import Ledger, held_from_predicate
from agentos_contracts.diagnostics import Diagnostic, Span
from agentos_contracts.documents.loader import Document
from agentos_contracts.model.platform import Platform


class AdmissionSetupError(ValueError):
    """The platform or a reservation could not be loaded; ``diagnostics`` says which and why."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("; ".join(d.message for d in diagnostics if d.is_error))
        self.diagnostics = diagnostics


class Admission:
    """Admission against a fixed platform and a ledger of reservations that grows with ``commit``."""

    def __init__(self, platform_path: str, options: AdmitOptions = AdmitOptions()) -> None:
        from agentos_contracts.validate import validate_paths
        from agentos_contracts.validate.build import build_platform

        self.platform_path = platform_path
        self.options = options
        report = validate_paths([platform_path], check_policies=False)
        pdoc = next((d for d in report.valid_documents("Platform")), None)
        if not report.ok or pdoc is None:
            found = list(report.diagnostics) or [dg.make("AC500", Span.file_start(platform_path), file=platform_path)]
            raise AdmissionSetupError(found)
        self.pdoc: Document = pdoc
        self.platform: Platform = build_platform(pdoc.data, pdoc.file)
        # whose memory namespace each admitted manifest uses: tenants never share one
        self.owners: list[tuple[str, str | None, str | None]] = []
        ledger, found = batch._reservations(self.platform, options, set(), self.owners)
        if any(d.is_error for d in found):
            raise AdmissionSetupError(found)
        self.ledger: Ledger = ledger
        self.notes: list[Diagnostic] = found  # warnings and notes from reading the reservations
        self.held: set[tuple[str, str]] = set()  # (kind, name) of what this session committed

    def admit(self, paths: Sequence[str]) -> AdmitResult:
        """Decide the contracts and workflows in ``paths`` against the reservations (nothing is recorded)."""
        from agentos_contracts.validate import validate_paths

        from agentos_contracts.documents.discover import find_files

        out = AdmitResult()
        files, found = find_files(list(paths))
        out.diagnostics += found
        if any(d.is_error for d in found):
            return out
        # the platform, validated once, joins the cross-document checks (tenants, tool schemas)
        report = validate_paths(files, check_policies=True, context=(self.pdoc,))
        out.diagnostics += report.diagnostics
        out.sources = report.sources
        if not report.ok:
            return out
        groups = batch._groups(report.valid_documents(), self.platform)
        if not groups:
            out.diagnostics.append(Diagnostic(Span("<command line>"), dg.Severity.ERROR, "AC901",
                                              "no AgentContract or Workflow documents in the given paths", "",
                                              "pass contract and workflow files or folders"))
            return out
        again = sorted(f"{g.kind} `{g.name}`" for g in groups if (g.kind, g.name) in self.held)
        if again:  # its own reservation would count against it: fail closed, say so
            out.diagnostics.append(Diagnostic(Span("<command line>"), dg.Severity.ERROR, "AC901",
                                              f"{', '.join(again)} is already admitted in this session", "",
                                              "open a new session without its manifest to admit it again"))
            return out
        from agentos_contracts.binding.governed import namespace_reasons

        by_key = namespace_reasons([u for g in groups for u, _ in g.units], self.owners)
        for g in groups:
            g.early += [by_key[u.key] for u, _ in g.units if u.key in by_key]
        batch._decide(out, groups, self.platform, self.pdoc, self.ledger, self.options)
        out.diagnostics = dg.sort_diagnostics(out.diagnostics)
        return out

    def commit(self, result: AdmitResult) -> None:
        """Count what ``result`` admitted, as a manifest of it passed to ``--existing`` would."""
        for a in result.admitted:
            for held in held_from_predicate(a.predicate, a.file):
                self.ledger.add_held(held)
            self.held.add((a.kind, a.name))
            memory = a.predicate.get("memory")
            if isinstance(memory, dict):
                self.owners.append((f"{a.name} (admitted before)", a.predicate.get("tenant"),
                                    memory.get("namespace")))
