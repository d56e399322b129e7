"""What every command shares: options, exit codes and the one error boundary.

Library code returns diagnostics; only this layer turns them into exit codes
(0 ok, 1 findings, 2 usage or I/O error; 2 wins over 1) and catches unexpected
exceptions so a user never sees a traceback.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from typing import Any, Callable, Iterable, NoReturn

import typer

from agentos_contracts.diagnostics import Diagnostic, Severity, Span

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2

# diagnostics that mean "could not read or use the input" rather than "found a problem in it";
# a path that yields nothing to read (no documents, no policy files, no cases, no task sets) is one
NOTHING_TO_READ = frozenset({"AC014", "AC354", "AC403", "AC904"})
IO_CODES = frozenset({"AC001", "AC007", "AC901", "AC905"}) | NOTHING_TO_READ


class Format(str, Enum):
    text = "text"
    json = "json"


class ValidateFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    junit = "junit"
    github = "github"


FORMAT = typer.Option(Format.text, "--format", "-f", help="Output format: text for people, json for machines.")
PATHS = typer.Argument(..., help="Files, folders (searched recursively) or - for standard input.")
IGNORE = typer.Option([], "--ignore", help="Silence a diagnostic code everywhere (repeatable).", metavar="CODE")


def exit_code(diags: Iterable[Diagnostic], findings: bool = False, warnings_as_errors: bool = False) -> int:
    """0/1/2 from the diagnostics: I/O and usage problems win over findings."""
    code = EXIT_FINDINGS if findings else EXIT_OK
    for d in diags:
        if d.code in IO_CODES and d.is_error:
            return EXIT_USAGE
        if d.is_error or (warnings_as_errors and d.severity is Severity.WARNING):
            code = EXIT_FINDINGS
    return code


def drop_ignored(diags: Iterable[Diagnostic], ignore: Iterable[str], keep_errors: bool = False) -> list[Diagnostic]:
    """Silence the codes in ``ignore``; with ``keep_errors`` errors stay (they decided something)."""
    skip = {c.strip().upper() for c in ignore}
    return [d for d in diags if d.code not in skip or (keep_errors and d.is_error)]


def print_json(doc: Any) -> None:
    """Exactly one JSON document on standard output, sorted keys for stable diffs."""
    sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def usage_error(message: str, hint: str = "", json_doc: dict[str, Any] | None = None) -> NoReturn:
    """Report a usage problem the way every command does and exit 2.

    Under ``--format json`` a command passes its empty report as ``json_doc``: standard
    output must still hold exactly one JSON document, carrying the diagnostic.
    """
    from agentos_contracts.report import text as text_report

    diag = Diagnostic(Span("<command line>"), Severity.ERROR, "AC901", message, "", hint)
    if json_doc is not None:
        print_json({**json_doc, "ok": False, "diagnostics": [diag.to_json()]})
    text_report.render_diagnostics([diag], {}, sys.stderr)
    raise typer.Exit(EXIT_USAGE)


def guarded(fn: Callable[[], int]) -> None:
    """Run a command body; turn any unexpected exception into a one-line report and exit 2."""
    try:
        code = fn()
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        raise typer.Exit(130)
    except BrokenPipeError:
        raise typer.Exit(EXIT_USAGE)
    except Exception as exc:  # the one error boundary: a traceback is a bug
        sys.stderr.write(f"agentos: internal error: {type(exc).__name__}: {exc}\n")
        sys.stderr.write("hint: this is a bug in agentos; please report it with the input that caused it\n")
        raise typer.Exit(EXIT_USAGE)
    raise typer.Exit(code)
