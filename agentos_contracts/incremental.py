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
from agentos_contracts.binding.ledger import Held, Ledger, held_from_predicate
from agentos_contracts.diagnostics import Diagnostic, Span
from agentos_contracts.documents.loader import Document
from agentos_contracts.model.platform import Platform


_RESERVATION_FIELDS = ("existing", "trusted_keys", "existing_unsigned", "now")


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
        self.committed: list[Held] = []  # what this session committed, in order
        self.committed_owners: list[tuple[str, str | None, str | None]] = []  # and whose memory namespaces
        self._read()
        self.held: set[tuple[str, str]] = set()  # (kind, name) of what this session committed

    def _read(self) -> None:
        """Verify the reservations and count them (again only when one of them can expire)."""
        read, diags, order = batch._read_reservations(self.platform, self.options)
        ledger, found = batch._ledger_from(self.platform, read, set())
        notes = batch._by_file(diags + found, order)
        if any(d.is_error for d in notes):
            raise AdmissionSetupError(notes)
        self.read, self.read_diags, self.order = read, diags, order
        for held in self.committed:
            ledger.add_held(held)
        self.ledger: Ledger = ledger
        self.notes: list[Diagnostic] = notes  # warnings and notes from reading the reservations
        self.owners = {h.owner for _, _, held in read for h in held}
        self.expiring = any("expiresAt" in predicate for _, predicate, _ in read)

    def _ledger_for(self, keys: set[tuple[str, str]]) -> tuple[Ledger, list[Diagnostic]]:
        """The ledger a batch ``admit`` of ``keys`` would count: their own reservations left out."""
        if self.expiring:  # its verdict depends on the clock: verify as the batch command would, now
            self._read()
        if not keys & self.owners:
            return self.ledger, self.notes
        ledger, found = batch._ledger_from(self.platform, self.read, keys)
        for held in self.committed:  # what this session committed counts as its manifest would
            ledger.add_held(held)
        return ledger, batch._by_file(self.read_diags + found, self.order)

    def admit(self, paths: Sequence[str], options: AdmitOptions | None = None) -> AdmitResult:
        """Decide the contracts and workflows in ``paths`` against the reservations (nothing is recorded).

        ``options`` may change how this one call decides and seals (time limit, dry run, key,
        clock fields); what selects and trusts the reservations must stay the session's.
        """
        from agentos_contracts.validate import validate_paths

        options = options or self.options
        if any(getattr(options, f) != getattr(self.options, f) for f in _RESERVATION_FIELDS):
            raise ValueError(f"{', '.join(_RESERVATION_FIELDS)} are fixed when the session opens")

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
        if not report.ok:  # as the batch command: nothing is decided, and it says so
            count = len({d.file for d in report.diagnostics if d.is_error})
            out.diagnostics.append(dg.make("AC903", Span("<command line>"), count=count))
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
        keys = {(g.kind, g.name) for g in groups}
        ledger, notes = self._ledger_for(keys)
        batch._namespace_checks(groups, batch._admitted_before(self.read, keys) + self.committed_owners)
        out.diagnostics += notes
        batch._decide(out, groups, self.platform, self.pdoc, ledger, options)
        out.diagnostics = dg.sort_diagnostics(out.diagnostics)
        return out

    def commit(self, result: AdmitResult) -> None:
        """Count what ``result`` admitted, as a manifest of it passed to ``--existing`` would."""
        for a in result.admitted:
            for held in held_from_predicate(a.predicate, a.file):
                self.ledger.add_held(held)
                self.committed.append(held)
            self.held.add((a.kind, a.name))
            self.committed_owners += batch._admitted_before([(a.file, a.predicate, [])], set())
