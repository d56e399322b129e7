"""``agentos keygen``: an Ed25519 key pair for sealing manifests.

Writes ``NAME.key`` (PKCS#8 PEM, mode 0600) and ``NAME.pub`` (SubjectPublicKeyInfo
PEM). Never overwrites a key without ``--force``: losing a signing key silently is
worse than an extra flag. Exit 0 written, 2 refused or failed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from typing import Optional

import typer

from agentos_contracts.cli.options import EXIT_OK, EXIT_USAGE, FORMAT, Format, guarded, start, print_json
from agentos_contracts.diagnostics import Diagnostic, Severity, Span

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def command(
    out_dir: Path = typer.Option(Path("."), "-o", "--output", "--out-dir", help="Folder to write the key pair into.", metavar="DIR"),
    name: str = typer.Option("agentos", "--name", help="Base name: writes NAME.key and NAME.pub."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing key pair."),
    fmt: Optional[Format] = FORMAT,
) -> None:
    """Generate an Ed25519 key pair (PEM): NAME.key, mode 0600, and NAME.pub."""
    guarded(lambda: _run(out_dir, name, force, start(fmt)))


def _run(out_dir: Path, name: str, force: bool, fmt: Format) -> int:
    from agentos_contracts.diagnostics import make
    from agentos_contracts.seal import keys

    doc: dict[str, object] = {"ok": False, "diagnostics": [], "private_key": None, "public_key": None, "keyid": None}
    if not _NAME.fullmatch(name):
        return _fail(doc, Diagnostic(
            Span("<command line>"), Severity.ERROR, "AC901", f"invalid key name `{name}`",
            "", "use letters, digits, `.`, `_` and `-` (no folders: use `-o DIR`)",
        ), fmt)
    key = keys.generate_private_key()
    try:
        private_path, public_path = keys.save_key_pair(key, out_dir, name, force=force)
    except FileExistsError as exc:
        return _fail(doc, make("AC621", Span.file_start(str(exc)), file=str(exc)), fmt)
    except OSError as exc:
        where = exc.filename or str(out_dir)
        return _fail(doc, make("AC001", Span.file_start(str(where)), file=where, reason=exc.strerror or str(exc)), fmt)
    keyid = keys.keyid(key.public_key())
    doc.update(ok=True, private_key=str(private_path), public_key=str(public_path), keyid=keyid)
    if fmt is Format.json:
        print_json(doc)
    else:
        sys.stdout.write(f"wrote {private_path} (private, mode 0600) and {public_path}\nkey id {keyid}\n")
    return EXIT_OK


def _fail(doc: dict[str, object], diag: Diagnostic, fmt: Format) -> int:
    if fmt is Format.json:
        doc["diagnostics"] = [diag.to_json()]
        print_json(doc)
    else:
        from agentos_contracts.report.text import render_diagnostics

        render_diagnostics([diag], {}, sys.stderr)
    return EXIT_USAGE
