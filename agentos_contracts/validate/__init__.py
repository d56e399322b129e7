"""VALIDATE: schema and semantic checks over every document in the given paths.

``validate_paths`` is what ``agentos validate`` runs; ``admit`` and ``sched`` run it
first too, so a document is never analysed before it is known to be well formed.
Heavy imports (jsonschema, networkx, the policy parser) happen inside the checks
that need them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from agentos_contracts.diagnostics import Diagnostic, has_errors, sort_diagnostics
from agentos_contracts.documents.loader import Document


@dataclass(slots=True)
class ValidationReport:
    """What every output format renders: files seen, findings, and sources for snippets."""

    files: list[str]
    diagnostics: list[Diagnostic]
    sources: dict[str, str] = field(default_factory=dict)
    documents: list[Document] = field(default_factory=list)
    invalid: set[tuple[str, int]] = field(default_factory=set)  # (file, index) of documents with errors
    warnings_as_errors: bool = False

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics, self.warnings_as_errors)

    def valid_documents(self, kind: str | None = None) -> list[Document]:
        """Documents with no error of their own: the ones later stages may use."""
        return [doc for doc in self.documents
                if (kind is None or doc.kind == kind) and (doc.file, doc.index) not in self.invalid]


def validate_paths(
    paths: list[str],
    *,
    check_policies: bool = True,
    ignore: frozenset[str] = frozenset(),
    warnings_as_errors: bool = False,
    strict: bool = False,
    scanned: set[str] | None = None,
    skip_foreign: bool = False,
    context: Sequence[Document] = (),
) -> ValidationReport:
    from agentos_contracts.validate.pipeline import run

    return run(paths, check_policies=check_policies, ignore=ignore, warnings_as_errors=warnings_as_errors,
               strict=strict, scanned=scanned, skip_foreign=skip_foreign, context=context)


__all__ = ["ValidationReport", "validate_paths", "sort_diagnostics"]
