"""``agentos fmt POLICY... [--check]``: canonical layout of policy files, in place.

``--check`` changes nothing and exits 1 if any file would change (for CI). A file
that does not parse is reported and left alone. ``-`` reads standard input and
writes the formatted text to standard output (with ``--format json``, into the
report's ``formatted`` key). Exit 0 ok, 1 would change or parse
errors, 2 usage or I/O.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, List, Optional

import typer

from agentos_contracts.cli.options import (FORMAT, IGNORE, PATHS, QUIET, STDIN_FILENAME, Format, drop_ignored, exit_code,
                                          guarded, print_json, say, start)


def command(
    paths: List[str] = PATHS,
    check: bool = typer.Option(False, "--check", help="Change nothing; exit 1 if a file is not formatted."),
    fmt: Optional[Format] = FORMAT,
    ignore: List[str] = IGNORE,
    stdin_filename: Optional[str] = STDIN_FILENAME,
    quiet: bool = QUIET,
) -> None:
    """Rewrite policy files in the canonical layout (idempotent; comments kept)."""
    guarded(lambda: _run(paths, check, start(fmt, stdin_filename=stdin_filename, quiet=quiet), ignore))


def _run(paths: list[str], check: bool, fmt: Format, ignore: list[str]) -> int:
    from agentos_contracts.documents.discover import POLICY_PATTERNS, find_files, is_stdin, read_source
    from agentos_contracts.policy.compiler import decode
    from agentos_contracts.policy.fmt import format_text

    files, diags = find_files(paths, POLICY_PATTERNS)
    if not files and not diags:  # a mistyped folder must not pass CI
        from agentos_contracts.diagnostics import Span, make

        diags.append(make("AC904", Span("<command line>"), paths=" ".join(paths)))
    texts: dict[str, str] = {}
    results: list[dict[str, Any]] = []
    changed_any = False
    for name in files:
        source, bad = read_source(name)
        diags += bad
        if source is None:
            continue
        text, bad = decode(name, source.data)
        diags += bad
        if text is None:
            continue
        texts[name] = text
        out, bad = format_text(text, name)
        diags += bad
        if out is None:
            continue
        changed = out != text
        changed_any |= changed
        results.append({"path": name, "changed": changed})
        if is_stdin(name):  # never rewrite the file --stdin-filename names
            if fmt is Format.json:
                results[-1]["formatted"] = out  # stdout holds the one JSON document
            elif not check:
                sys.stdout.write(out)
        elif changed and not check:
            Path(name).write_text(out, encoding="utf-8")
    from agentos_contracts.diagnostics import sort_diagnostics

    diags = sort_diagnostics(drop_ignored(diags, ignore, texts=texts))
    ok = not any(d.is_error for d in diags) and not (check and changed_any)
    if fmt is Format.json:
        print_json({"ok": ok, "diagnostics": [d.to_json() for d in diags], "files": results})
    else:
        from agentos_contracts.report.text import render_diagnostics

        stream = sys.stderr if any(is_stdin(f) for f in files) else sys.stdout
        render_diagnostics(diags, texts, stream)
        for r in results:
            if r["changed"] and not is_stdin(r["path"]):
                say(stream, f"{'would reformat' if check else 'reformatted'} {r['path']}\n")
        n = sum(1 for r in results if r["changed"])
        verb = "would be reformatted" if check else "reformatted"
        say(stream, f"{n} file{'s' if n != 1 else ''} {verb}, {len(results) - n} unchanged\n")
    return exit_code(diags, findings=check and changed_any)
