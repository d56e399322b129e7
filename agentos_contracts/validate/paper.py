"""One clear finding for a document written the paper's way, plus what migration would leave.

Pasting an example from the Agent-OS paper (``agent:``, ``latency_class:``, ``workflow:``)
would otherwise give a cascade of schema errors that all say "this is not the canonical
form". Instead: one AC050 at 1:1 naming ``agentos migrate``, then the findings the migrated
document would still have, located at the original lines. ruamel.yaml is imported only here,
only when such a document is met.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from agentos_contracts import diagnostics as dg
from agentos_contracts.diagnostics import Diagnostic, Span
from agentos_contracts.documents.loader import Document, load_text
from agentos_contracts.documents.foreign import paper_kind

Checks = Callable[[Document], list[Diagnostic]]


def check_paper_form(doc: Document, checks: Checks) -> list[Diagnostic] | None:
    """None for a canonical document; else AC050 and the findings ``checks`` reports after migration."""
    kind = paper_kind(doc.data)
    if kind is None:
        return None
    head = dg.make("AC050", Span.file_start(doc.file), kind=kind, file=doc.file,
                   n="n" if kind[0] in "AEIOU" else "")
    return [head, *_after_migration(doc, checks)]


def _after_migration(doc: Document, checks: Checks) -> list[Diagnostic]:
    from agentos_contracts.migrate.files import YAMLError, migrate_text

    text = doc.source.data.decode("utf-8", "replace") if doc.source and doc.source.data else ""
    try:
        result = migrate_text(doc.file, text)
    except YAMLError:  # the loader has already reported the syntax error
        return []
    migration = result.by_index.get(doc.index)
    loaded = load_text(doc.file, result.text, doc.source)
    if migration is None or doc.index >= len(loaded.documents):
        return []
    migrated = loaded.documents[doc.index]
    out = [dg.make(p.code, Span(doc.file, p.line, p.column), **p.args) for p in migration.problems]
    generated = set(migration.generated)
    for d in checks(migrated):
        if d.code == "AC124" and any(d.message.find(g) >= 0 for g in generated):
            continue  # the policy file migrate would write
        old = migration.old_pointer(d.path)
        out.append(dataclasses.replace(d, span=doc.span(old), path=old))
    return out
