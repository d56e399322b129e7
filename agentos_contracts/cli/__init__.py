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
    # one line per command; each module exposes `command`
    from agentos_contracts.cli import validate, schema

    app.command("validate")(validate.command)
    app.command("schema")(schema.command)
    for name, module in _optional_commands():
        app.command(name)(module.command)


def _optional_commands() -> list[tuple[str, object]]:
    """Commands whose modules exist in this build (stages land one at a time)."""
    import importlib

    out: list[tuple[str, object]] = []
    for name, mod in (
        ("compile", "compile"), ("eval", "eval"), ("test", "run_tests"), ("fmt", "fmt"),
        ("sched", "sched"), ("admit", "admit"), ("verify", "verify"), ("keygen", "keygen"),
        ("run", "run"),
    ):
        try:
            out.append((name, importlib.import_module(f"agentos_contracts.cli.{mod}")))
        except ModuleNotFoundError as exc:
            if exc.name != f"agentos_contracts.cli.{mod}":
                raise
    try:
        audit = importlib.import_module("agentos_contracts.cli.audit")
    except ModuleNotFoundError as exc:
        if exc.name != "agentos_contracts.cli.audit":
            raise
    else:
        app.add_typer(audit.app, name="audit")
    return out


_register()


def main() -> None:
    app()
