"""The order of checks: load → header → schema → semantics per kind → cross-document.

A document whose header is wrong gets no further checks (there is nothing sure to
check it against); schema errors do not stop semantic checks, which guard their own
types, so one run reports everything it can.
"""

from __future__ import annotations

from typing import Callable, Sequence

from agentos_contracts import diagnostics as dg
from agentos_contracts.diagnostics import Diagnostic, Span, sort_diagnostics
from agentos_contracts.documents.custom import from_resource, is_custom_resource, resource_diagnostic
from agentos_contracts.documents.discover import find_files, read_source
from agentos_contracts.documents.loader import KINDS, Document, load_source
from agentos_contracts.validate import ValidationReport
from agentos_contracts.validate.header import check_header

PerDocument = Callable[[Document], list[Diagnostic]]


def _semantic(kind: str) -> PerDocument | None:
    if kind == "AgentContract":
        from agentos_contracts.validate.contract import check_contract
        return check_contract
    if kind == "Platform":
        from agentos_contracts.validate.platform import check_platform
        return check_platform
    if kind == "TaskSet":
        from agentos_contracts.validate.taskset import check_taskset
        return check_taskset
    return None


def check_semantics(doc: Document) -> tuple[list[Diagnostic], Document | None]:
    """Schema findings, then the semantic checks of ``doc``'s kind on what the schema accepted.

    Returns the accepted view too, for checks across documents (None when the schema
    rejected the document as a whole, which leaves nothing for them to read).
    """
    from agentos_contracts.validate.schema import check_schema_view

    found, view = check_schema_view(doc)
    if view is None:
        return found, None
    semantic = _semantic(view.kind or "")
    if semantic is not None:
        found = found + semantic(view)
    from agentos_contracts.validate.durations import check_durations
    from agentos_contracts.validate.partial import check_partials

    return found + check_durations(view) + check_partials(view), view


def check_alone(doc: Document) -> list[Diagnostic]:
    """Every check that needs no other document: header, schema, semantics, durations, partials."""
    return check_header(doc) or check_semantics(doc)[0]


def load_documents(paths: list[str], *, strict: bool = False, scanned: set[str] | None = None,
                   skip_foreign: bool = False) -> tuple[list[str], list[Document], dict[str, str], list[Diagnostic]]:
    """Every document in ``paths`` with its file's text; an empty result is itself an error.

    Documents found by searching a folder (``scanned``; by default every file that is not
    itself one of ``paths``) that are not agentos documents are skipped with a note
    (``documents.foreign``), unless ``strict``. ``skip_foreign`` (pre-commit hooks, which name
    every changed ``*.yaml``) treats named files the same way, and a run that skipped
    everything is then fine rather than "nothing to read".
    """
    from agentos_contracts.documents.foreign import foreign_reason, mentions_agentos, skipped_note

    files, diags = find_files(paths)
    if skip_foreign:
        scanned = set(files)
    elif scanned is None:
        named = set(paths)
        scanned = {f for f in files if f not in named}
    docs: list[Document] = []
    sources: dict[str, str] = {}
    for name in files:
        source, read_diags = read_source(name)
        diags.extend(read_diags)
        if source is None:
            continue
        loaded = load_source(source)
        sources[name] = loaded.text
        if name in scanned and not strict:
            if any(d.is_error for d in loaded.diagnostics) and not mentions_agentos(loaded.text):
                diags.append(skipped_note(Span.file_start(name), "it does not load as YAML and names no "
                                                                  "`apiVersion: agentos/...`"))
                continue
            ours = []
            for doc in loaded.documents:
                reason = foreign_reason(doc.data)
                if reason is None:
                    ours.append(doc)
                else:
                    diags.append(skipped_note(doc.span(""), reason))
            loaded.documents[:] = ours
        diags.extend(loaded.diagnostics)
        for doc in loaded.documents:
            if is_custom_resource(doc.data):  # the Kubernetes form: read as the document it stands for
                converted, found = from_resource(doc)
                diags.extend(found)
                if converted is not None:
                    docs.append(converted)
                continue
            docs.append(doc)
    skipped_only = skip_foreign and any(d.code == "AC017" for d in diags)
    if not docs and not skipped_only and not any(d.is_error for d in diags):
        diags.append(dg.make("AC014", Span.file_start(paths[0] if paths else "<command line>")))
    return files, docs, sources, diags


def run(
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
    """``context``: documents validated earlier (a platform kept by a long-running admission)
    that take part in the cross-document checks without being read or reported again."""
    files, docs, sources, diags = load_documents(paths, strict=strict, scanned=scanned, skip_foreign=skip_foreign)
    invalid: set[tuple[str, int]] = set()
    checked: list[Document] = []
    views: list[Document] = []  # what the semantic checks see: only values the schema accepted

    def record(doc: Document, found: list[Diagnostic]) -> None:
        found = [resource_diagnostic(doc, d) for d in found if d.code not in ignore]
        diags.extend(found)
        if any(d.is_error for d in found):
            invalid.add((doc.file, doc.index))

    for doc in docs:
        head = check_header(doc)
        if head:
            from agentos_contracts.validate.paper import check_paper_form

            record(doc, check_paper_form(doc, check_alone) or head)
            continue
        checked.append(doc)
        found, view = check_semantics(doc)
        record(doc, found)
        if view is not None:
            views.append(view)

    from agentos_contracts.validate.crossref import check_documents

    known = {id(d) for d in context}
    for view, found in check_documents(views + list(context), check_policies=check_policies):
        if id(view) not in known:
            record(view, found)
    final = sort_diagnostics(d for d in diags if d.code not in ignore)
    return ValidationReport(files, final, sources, checked, invalid, warnings_as_errors)


__all__ = ["run", "load_documents", "KINDS"]
