"""``agentos explain CODE``: print what a diagnostic code means, an example and the fix."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from agentos_contracts.cli.options import EXIT_OK, FORMAT, Format, guarded, print_json, start, usage_error


def command(
    code: str = typer.Argument(..., help="A diagnostic code, e.g. AC112.", metavar="CODE"),
    fmt: Optional[Format] = FORMAT,
) -> None:
    """Explain a diagnostic code (docs/codes.md, shipped with the package)."""

    def run() -> int:
        from agentos_contracts.codedocs import explain
        from agentos_contracts.codes import CODES
        from agentos_contracts.validate.suggest import did_you_mean

        chosen = start(fmt)
        text = explain(code)
        if text is None:
            usage_error(f"unknown code `{code}`", did_you_mean(code.upper(), CODES) or "codes look like `AC112`; "
                        "docs/codes.md lists them all", json_doc={"code": code} if chosen is Format.json else None)
        if chosen is Format.json:
            entry = CODES[code.strip().upper()]
            print_json({"ok": True, "diagnostics": [], "code": code.strip().upper(), "title": entry.title,
                        "severity": entry.severity.value, "message": entry.message, "hint": entry.hint,
                        "documentation": text})
        else:
            sys.stdout.write(text)
        return EXIT_OK

    guarded(run)
