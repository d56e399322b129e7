"""The command-line shell: parses arguments, calls the library, renders, exits.

Every command lives in its own module and imports the library inside its function,
so ``agentos validate`` never pays for lark, pulp or networkx. ``main`` registers only
the command being run (typer builds every registered command's parameters at start-up,
and `validate` has a start-up budget); ``app`` (for tests and help) has them all.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer

# the one registry: command name → module in agentos_contracts.cli exposing `command`
COMMANDS = {
    "validate": "validate",
    "compile": "compile",
    "eval": "eval",
    "test": "run_tests",
    "fmt": "fmt",
    "sched": "sched",
    "admit": "admit",
    "verify": "verify",
    "keygen": "keygen",
    "schema": "schema",
    "run": "run",
    "gateway": "gateway",
    "migrate": "migrate",
    "explain": "explain",
}
# command groups: name → module exposing a `typer.Typer` named `app`
GROUPS = {"audit": "audit", "ctl": "ctl", "webhook": "webhook", "k8s": "k8s"}


def _print_version(value: bool) -> None:
    if value:
        from agentos_contracts import __version__

        sys.stdout.write(f"agentos {__version__}\n")
        raise typer.Exit(0)


def build_app(only: str | None = None) -> typer.Typer:
    """The `agentos` app with every command, or with just ``only`` (a name from the registry)."""
    app = typer.Typer(
        name="agentos",
        context_settings={"help_option_names": ["-h", "--help"]},
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback(context_settings={"help_option_names": ["-h", "--help"]})
    def root(
        version: bool = typer.Option(False, "--version", "-V", is_eager=True, help="Print the version and exit.",
                                     callback=_print_version),
    ) -> None:
        """Agent Contract compiler and admission toolchain."""

    for name, module in COMMANDS.items():
        if only is None or only == name:
            app.command(name)(importlib.import_module(f"agentos_contracts.cli.{module}").command)
    for name, module in GROUPS.items():
        if only is None or only == name:
            app.add_typer(importlib.import_module(f"agentos_contracts.cli.{module}").app, name=name)
    return app


def __getattr__(name: str) -> Any:
    if name == "app":
        return build_app()
    raise AttributeError(name)


def main() -> None:
    first = sys.argv[1] if len(sys.argv) > 1 else None
    if first in ("--version", "-V"):  # answered before any command is built: start-up stays cheap
        from agentos_contracts import __version__

        sys.stdout.write(f"agentos {__version__}\n")
        sys.exit(0)
    only = first if first in COMMANDS or first in GROUPS else None
    build_app(only)()
