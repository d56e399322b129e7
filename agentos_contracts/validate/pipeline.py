"""The order of checks: load → header → schema → semantics per kind → cross-document.

A document whose header is wrong gets no further checks (there is nothing sure to
check it against); schema errors do not stop semantic checks, which guard their own
types, so one run reports everything it can.
"""

from __future__ import annotations

from typing import Callable

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


def load_documents(paths: list[str]) -> tuple[list[str], list[Document], dict[str, str], list[Diagnostic]]:
    """Every document in ``paths`` with its file's text; an empty result is itself an error."""
    files, diags = find_files(paths)
    docs: list[Document] = []
    sources: dict[str, str] = {}
    for name in files:
        source, read_diags = read_source(name)
        diags.extend(read_diags)
        if source is None:
            continue
        loaded = load_source(source)
        sources[name] = loaded.text
        diags.extend(loaded.diagnostics)
        for doc in loaded.documents:
            if is_custom_resource(doc.data):  # the Kubernetes form: read as the document it stands for
                converted, found = from_resource(doc)
                diags.extend(found)
                if converted is not None:
                    docs.append(converted)
                continue
            docs.append(doc)
    if not files and not diags:
        diags.append(dg.make("AC014", Span.file_start(paths[0] if paths else "<command line>")))
    return files, docs, sources, diags


def run(
    paths: list[str],
    *,
    check_policies: bool = True,
    ignore: frozenset[str] = frozenset(),
    warnings_as_errors: bool = False,
) -> ValidationReport:
    files, docs, sources, diags = load_documents(paths)
    invalid: set[tuple[str, int]] = set()
    checked: list[Document] = []

    def record(doc: Document, found: list[Diagnostic]) -> None:
        found = [resource_diagnostic(doc, d) for d in found if d.code not in ignore]
        diags.extend(found)
        if any(d.is_error for d in found):
            invalid.add((doc.file, doc.index))

    for doc in docs:
        head = check_header(doc)
        record(doc, head)
        if head:
            continue
        checked.append(doc)
        from agentos_contracts.validate.schema import check_schema

        record(doc, check_schema(doc))
        semantic = _semantic(doc.kind or "")
        if semantic is not None:
            record(doc, semantic(doc))
        from agentos_contracts.validate.durations import check_durations
        from agentos_contracts.validate.partial import check_partials

        record(doc, check_durations(doc) + check_partials(doc))

    from agentos_contracts.validate.crossref import check_documents

    for doc, found in check_documents(checked, check_policies=check_policies):
        record(doc, found)
    if not docs and files and not any(d.is_error for d in diags):
        diags.append(dg.make("AC014", Span.file_start(files[0])))
    final = sort_diagnostics(d for d in diags if d.code not in ignore)
    return ValidationReport(files, final, sources, checked, invalid, warnings_as_errors)


__all__ = ["run", "load_documents", "KINDS"]
