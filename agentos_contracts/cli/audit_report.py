"""How the fleet audit commands report: diagnostics to standard error, one JSON document, exit 0/1/2.

Shared by ``audit ship``, ``collect``, ``prove`` and ``check`` so they answer alike: usage
and I/O problems (unreachable destination, unusable store, cursor or key) exit 2, any
finding exits 1, and ``--format json`` prints ``{"ok", "diagnostics", ...}`` and nothing else.
"""

from __future__ import annotations

import sys
from typing import Any

from agentos_contracts.cli.options import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, Format, print_json
from agentos_contracts.diagnostics import Diagnostic, Severity, Span

USAGE_CODES = frozenset({"AC001", "AC620", "AC716", "AC866", "AC867", "AC868", "AC877", "AC878", "AC901"})
# how a stored chain break or a store finding is named in diagnostics
KIND_CODES = {"gap": "AC860", "fork": "AC861", "modified": "AC862", "conflict": "AC863", "checkpoint": "AC864",
              "rejected": "AC865", "signature": "AC872", "root": "AC873", "inconsistent": "AC873", "leaf": "AC874",
              "uncovered": "AC875", "missing": "AC876"}


def diag(code: str, where: str, message: str | None = None, *, path: str = "", **fmt: Any) -> Diagnostic:
    from agentos_contracts.diagnostics import make

    return make(code, Span.file_start(where), message, path=path, **fmt)


def key_or_diag(path: str, private: bool, diags: list[Diagnostic]) -> Any:
    """Load a key file, or add the AC620 diagnostic saying why it cannot be used."""
    from agentos_contracts.seal.keys import KeyFileError, read_private_key, read_public_key

    try:
        return read_private_key(path) if private else read_public_key(path)
    except KeyFileError as exc:
        diags.append(diag("AC620", path, file=path, reason=str(exc)))
        return None


def emit(fmt: Format, doc: dict[str, Any], diags: list[Diagnostic], text: str = "") -> int:
    """Print the outcome and return the exit code (2 wins over 1)."""
    if any(d.code in USAGE_CODES and d.is_error for d in diags):
        code = EXIT_USAGE
    else:
        code = EXIT_FINDINGS if any(d.severity is Severity.ERROR for d in diags) else EXIT_OK
    diags = sorted(diags, key=lambda d: d.sort_key())
    if fmt is Format.json:
        print_json({**doc, "ok": code == EXIT_OK, "diagnostics": [d.to_json() for d in diags]})
        return code
    from agentos_contracts.report.text import render_diagnostics

    render_diagnostics(diags, {}, sys.stderr)
    if text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return code
