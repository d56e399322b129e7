"""``agentos validate PATHS...``: schema and semantic checks, for CI."""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

from agentos_contracts.cli.options import (IGNORE, OUTPUT, PATHS, QUIET, REPORT_FORMAT, STDIN_FILENAME, ValidateFormat,
                                          drop_ignored, exit_code, guarded, settings, start)


def command(
    paths: List[str] = PATHS,
    format: Optional[ValidateFormat] = REPORT_FORMAT,
    warnings_as_errors: bool = typer.Option(False, "--warnings-as-errors", help="Exit 1 on warnings too."),
    ignore: List[str] = IGNORE,
    no_policies: bool = typer.Option(False, "--no-policies", help="Do not parse the policies contracts name."),
    strict: bool = typer.Option(False, "--strict", help="Check YAML found in folders even when it is not an agentos document."),
    skip_foreign: bool = typer.Option(False, "--skip-foreign",
                                      help="Skip (with a note) named files that are not agentos documents, as folder scans do; for pre-commit hooks."),
    output: Optional[str] = OUTPUT,
    stdin_filename: Optional[str] = STDIN_FILENAME,
    quiet: bool = QUIET,
) -> None:
    """Check contracts, workflows, platforms, task sets and the policies they name."""

    def run() -> int:
        from agentos_contracts.report import reporter
        from agentos_contracts.report.text import render_diagnostics
        from agentos_contracts.validate import validate_paths

        fmt = start(format, stdin_filename=stdin_filename, quiet=quiet, choices=ValidateFormat)
        report = validate_paths(
            paths,
            check_policies=not no_policies,
            ignore=frozenset(c.strip().upper() for c in ignore),
            warnings_as_errors=warnings_as_errors,
            strict=strict,
            skip_foreign=skip_foreign and not strict,
        )
        report.diagnostics = drop_ignored(report.diagnostics, ignore, texts=report.sources)
        target = output or settings.config.output or "-"
        if quiet and fmt is ValidateFormat.text:
            render = lambda r, stream: render_diagnostics(r.diagnostics, r.sources, stream)  # noqa: E731
        else:
            render = reporter(fmt.value).render
        if target == "-":
            render(report, sys.stdout)
        else:
            with open(target, "w", encoding="utf-8") as fh:
                render(report, fh)
        return exit_code(report.diagnostics, warnings_as_errors=warnings_as_errors)

    guarded(run)
