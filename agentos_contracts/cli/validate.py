"""``agentos validate PATHS...``: schema and semantic checks, for CI."""

from __future__ import annotations

import sys
from typing import List

import typer

from agentos_contracts.cli.options import IGNORE, PATHS, ValidateFormat, exit_code, guarded


def command(
    paths: List[str] = PATHS,
    format: ValidateFormat = typer.Option(ValidateFormat.text, "--format", "-f",
                                          help="text, json, sarif (GitHub code scanning), junit or github."),
    warnings_as_errors: bool = typer.Option(False, "--warnings-as-errors", help="Exit 1 on warnings too."),
    ignore: List[str] = IGNORE,
    no_policies: bool = typer.Option(False, "--no-policies", help="Do not parse the policies contracts name."),
    output: str = typer.Option("-", "--output", "-o", help="Write the report to this file instead of standard output."),
) -> None:
    """Check contracts, workflows, platforms, task sets and the policies they name."""

    def run() -> int:
        from agentos_contracts.report import reporter
        from agentos_contracts.validate import validate_paths

        report = validate_paths(
            paths,
            check_policies=not no_policies,
            ignore=frozenset(c.strip().upper() for c in ignore),
            warnings_as_errors=warnings_as_errors,
        )
        render = reporter(format.value).render
        if output == "-":
            render(report, sys.stdout)
        else:
            with open(output, "w", encoding="utf-8") as fh:
                render(report, fh)
        return exit_code(report.diagnostics, warnings_as_errors=warnings_as_errors)

    guarded(run)
