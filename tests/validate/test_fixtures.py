"""Every invalid fixture produces its expected code at its expected line and column.

Each fixture's first line says what it shows: ``# expect: CODE LINE:COL [warning]``.
Errors exit 1; warnings alone exit 0 (and 1 with --warnings-as-errors).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentos_contracts.cli import app

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "validate"
INVALID = sorted((FIX / "invalid").glob("*.yaml"))
EXPECT = re.compile(rb"# expect: (AC\d{3}) (\d+):(\d+)( warning)?")
runner = CliRunner()


def run(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["validate", *args, "--format", "json"])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_fixture_reports_expected_code_at_expected_place(path: Path) -> None:
    m = EXPECT.match(path.read_bytes())
    assert m, f"{path.name} lacks an '# expect:' header"
    code, line, col, warning = m.group(1).decode(), int(m.group(2)), int(m.group(3)), bool(m.group(4))
    exit_code, doc = run(str(path))
    found = [(d["code"], d["line"], d["column"]) for d in doc["diagnostics"]]
    assert (code, line, col) in found, f"want {code} at {line}:{col}, got {found}"
    diag = next(d for d in doc["diagnostics"] if d["code"] == code)
    assert diag["file"] == str(path)
    assert diag["message"] and diag["hint"]
    assert diag["severity"] == ("warning" if warning else "error")
    assert exit_code == (0 if warning else 1)
    assert doc["ok"] is warning
    if warning:
        assert runner.invoke(app, ["validate", str(path), "--warnings-as-errors"]).exit_code == 1


def test_every_semantic_code_has_a_fixture() -> None:
    from agentos_contracts.codes import CODES

    shown = {EXPECT.match(p.read_bytes()).group(1).decode() for p in INVALID}  # type: ignore[union-attr]
    semantic = {c for c in CODES if c.startswith(("AC11", "AC12", "AC13", "AC20", "AC21", "AC22", "AC23"))}
    untested = semantic - shown - {"AC131", "AC132", "AC209", "AC224", "AC225", "AC130", "AC128"}
    assert not untested, f"codes without an invalid fixture: {sorted(untested)}"
