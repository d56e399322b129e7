"""The command-line shell: parses arguments, calls the library, renders, exits.

Every command lives in its own module and imports the library inside its function,
so ``agentos validate`` never pays for lark, pulp or networkx.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="agentos",
    help="Agent Contract compiler and admission toolchain.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    """One line per command; each module exposes `command` (audit: a sub-app)."""
    from agentos_contracts.cli import (
        admit, audit, compile, eval, fmt, keygen, run, run_tests, sched, schema, validate, verify,
    )

    app.command("validate")(validate.command)
    app.command("compile")(compile.command)
    app.command("eval")(eval.command)
    app.command("test")(run_tests.command)
    app.command("fmt")(fmt.command)
    app.command("sched")(sched.command)
    app.command("admit")(admit.command)
    app.command("verify")(verify.command)
    app.command("keygen")(keygen.command)
    app.command("schema")(schema.command)
    app.command("run")(run.command)
    app.add_typer(audit.app, name="audit")


_register()


def main() -> None:
    app()
