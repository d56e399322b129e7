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


FORMAT = typer.Option(None, "--format", "-f", help="Output format: text for people, json for machines (default: the config's, else text).")
REPORT_FORMAT = typer.Option(None, "--format", "-f", help="text, json, sarif (GitHub code scanning), junit or github (default: the config's, else text).")
OUTPUT = typer.Option(None, "--output", "-o", help="Write the report to this file instead of standard output.", metavar="FILE")
QUIET = typer.Option(False, "--quiet", "-q", help="Print findings only: no summary or progress lines.")
VERBOSE = typer.Option(False, "--verbose", "-v", help="Show what native solvers print, on standard error.")
STDIN_FILENAME = typer.Option(None, "--stdin-filename", metavar="PATH",
                              help="The path standard input (`-`) stands for: diagnostics name it, relative paths resolve against it.")
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


def drop_ignored(diags: Iterable[Diagnostic], ignore: Iterable[str], keep_errors: bool = False,
                 texts: dict[str, str] | None = None) -> list[Diagnostic]:
    """Silence ``--ignore`` codes, the config's (``ignore``, ``per-file-ignores``) and inline
    ``# agentos: ignore[CODE]`` comments; with ``keep_errors`` errors stay (they decided something)."""
    from agentos_contracts.suppression import Suppressions

    skip = {c.strip().upper() for c in ignore}
    inline = Suppressions(texts)
    cfg = settings.config
    out = []
    for d in diags:
        silenced = (d.code in skip or d.code in cfg.ignored_in(d.file)
                    or inline.is_suppressed(d.file, d.line, d.code))
        if not silenced or (keep_errors and d.is_error):
            out.append(d)
    return out


class Settings:
    """What a command's common options and the configuration file set for this run."""

    def __init__(self) -> None:
        from agentos_contracts.config import Config

        self.config = Config()
        self.quiet = False


settings = Settings()


def start(fmt: Any = None, *, stdin_filename: str | None = None, verbose: bool = False, quiet: bool = False,
          choices: type[Enum] = Format) -> Any:
    """Begin a command: load the configuration, name standard input, set solver verbosity.

    Returns the output format in force (the flag, else the config's when the command has
    it, else text). A broken configuration is a usage error (exit 2).
    """
    from agentos_contracts import native_output
    from agentos_contracts.config import load_config
    from agentos_contracts.documents.discover import set_stdin_filename

    set_stdin_filename(stdin_filename)
    native_output.set_verbose(verbose)
    settings.quiet = quiet
    settings.config, problems = load_config()
    if fmt is None:
        wanted = settings.config.format or "text"
        fmt = choices(wanted) if wanted in choices.__members__ else choices("text")
    if problems:
        from agentos_contracts.report import text as text_report

        if fmt.value == "json":
            print_json({"ok": False, "diagnostics": [d.to_json() for d in problems]})
        text_report.render_diagnostics(problems, {}, sys.stderr)
        raise typer.Exit(EXIT_USAGE)
    return fmt


def say(stream: Any, text: str) -> None:
    """A summary or progress line: left out under ``--quiet``."""
    if not settings.quiet:
        stream.write(text)


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


CI_FORMATS = frozenset({"sarif", "junit", "github"})


def render_ci(fmt: str, command: str, files: Iterable[str], diags: list[Diagnostic], output: str | None = None,
              sources: dict[str, str] | None = None) -> None:
    """SARIF, JUnit or GitHub output of any command's diagnostics, to ``output`` or standard output."""
    from agentos_contracts.report import Findings, reporter

    findings = Findings(command, sorted(set(files)), diags, sources or {})
    if output and output != "-":
        with open(output, "w", encoding="utf-8") as fh:
            reporter(fmt).render(findings, fh)
    else:
        reporter(fmt).render(findings, sys.stdout)
