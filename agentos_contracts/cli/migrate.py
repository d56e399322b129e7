"""``agentos migrate PATHS... [--write]``: rewrite paper-form documents as agentos/v0.2.

Like ``ruff --fix`` and ``kubectl convert``: without ``--write`` it prints a unified diff
and every change with its original line, and exits 1 when something would change (0 when
nothing would: usable in CI); with ``--write`` it rewrites in place (``-``: to standard
output). What cannot be carried over is reported (AC051–AC053), never guessed. Exit 2 on
usage or I/O errors.
"""

from __future__ import annotations

import sys
from typing import Any, List, Optional

import typer

from agentos_contracts.cli.options import (FORMAT, IGNORE, PATHS, QUIET, STDIN_FILENAME, Format, drop_ignored, exit_code,
                                          guarded, print_json, say, start)


def command(
    paths: List[str] = PATHS,
    write: bool = typer.Option(False, "--write", "-w", help="Rewrite the files in place (and write generated policy files)."),
    fmt: Optional[Format] = FORMAT,
    ignore: List[str] = IGNORE,
    stdin_filename: Optional[str] = STDIN_FILENAME,
    quiet: bool = QUIET,
) -> None:
    """Rewrite documents written the paper's way (agent:, latency_class:, workflow:) as agentos/v0.2."""
    guarded(lambda: _run(paths, write, start(fmt, stdin_filename=stdin_filename, quiet=quiet), ignore))


def _run(paths: list[str], write: bool, fmt: Format, ignore: list[str]) -> int:
    from agentos_contracts import diagnostics as dg
    from agentos_contracts.diagnostics import Span, sort_diagnostics
    from agentos_contracts.documents.discover import find_files, read_source
    from agentos_contracts.migrate import files as migrate_files

    names, diags = find_files(paths)
    texts: dict[str, str] = {}
    reports: list[dict[str, Any]] = []
    changed_any = False
    for name in names:
        source, bad = read_source(name)
        diags += bad
        if source is None:
            continue
        try:
            text = source.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            diags.append(dg.make("AC002", Span.file_start(name), byte=source.data[exc.start], offset=exc.start))
            continue
        texts[name] = text
        try:
            result = migrate_files.migrate_text(name, text)
        except migrate_files.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            span = Span(name, mark.line + 1, mark.column + 1) if mark is not None else Span.file_start(name)
            diags.append(dg.make("AC004", span, problem=getattr(exc, "problem", None) or str(exc).splitlines()[0]))
            continue
        diags += [dg.make(p.code, Span(name, p.line, p.column), **p.args) for p in result.problems]
        changed = result.changed
        changed_any |= changed
        reports.append({"path": name, "changed": changed, "changes": [c.to_json() for c in result.changes],
                        "generated": sorted(result.generated), "diff": result.diff()})
        if write and changed:
            if name == "-":
                sys.stdout.write(result.text) if fmt is not Format.json else None
                reports[-1]["migrated"] = result.text
            else:
                migrate_files.write(result)
    if not names and not diags:  # a mistyped folder must not pass CI
        diags.append(dg.make("AC014", Span.file_start(paths[0] if paths else "<command line>")))
    diags = sort_diagnostics(drop_ignored(diags, ignore))
    would_change = changed_any and not write
    ok = not any(d.is_error for d in diags) and not would_change
    if fmt is Format.json:
        print_json({"ok": ok, "diagnostics": [d.to_json() for d in diags], "files": reports})
    else:
        _render_text(reports, diags, texts, write)
    return exit_code(diags, findings=would_change)


def _render_text(reports: list[dict[str, Any]], diags: list[Any], texts: dict[str, str], write: bool) -> None:
    from agentos_contracts.report.text import render_diagnostics

    out = sys.stderr if write and any(r["path"] == "-" for r in reports) else sys.stdout
    for r in reports:
        if not r["changed"]:
            continue
        if not write:
            out.write(r["diff"])
        for c in r["changes"]:
            out.write(f"{r['path']}:{c['line']}:{c['column']}: {c['message']}\n")
        for g in r["generated"]:
            out.write(f"{r['path']}: {'wrote' if write else 'would write'} {g}\n")
    render_diagnostics(diags, texts, out)
    n = sum(1 for r in reports if r["changed"])
    verb = "migrated" if write else "would be migrated"
    say(out, f"{n} file{'s' if n != 1 else ''} {verb}, {len(reports) - n} unchanged\n")
