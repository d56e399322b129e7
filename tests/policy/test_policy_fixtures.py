"""Every check has an invalid fixture; each says what it must report in its first line.

`# expect: CODE LINE:COLUMN` is the first diagnostic (by position) it must produce;
`# contract: {...}` and `# tools: {...}` (JSON) give a contract ceiling and tool schemas.
The valid fixtures compile with no diagnostics at all and are formatted canonically.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentos_contracts.policy.compiler import compile_sources
from agentos_contracts.policy.fmt import format_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "policy"
INVALID = sorted((FIXTURES / "invalid").glob("*.policy"))
VALID = sorted((FIXTURES / "valid").glob("*.policy"))


def header(data: bytes, key: str) -> str | None:
    for line in data.decode("utf-8", errors="replace").splitlines()[:3]:
        if line.startswith(f"# {key}: "):
            return line[len(key) + 4:]
    return None


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_reports_its_code_at_its_place(path: Path) -> None:
    data = path.read_bytes()
    expect = header(data, "expect")
    assert expect, "fixture lacks `# expect: CODE LINE:COL`"
    code, where = expect.split()
    contract = json.loads(header(data, "contract") or "null")
    tools = json.loads(header(data, "tools") or "null")
    result = compile_sources([(path.name, data)], contract, tool_schemas=tools)
    found = [(d.code, f"{d.line}:{d.column}") for d in result.diagnostics]
    assert (code, where) in found, found
    if code.startswith("AC33") and code != "AC335":
        return
    if any(d.is_error for d in result.diagnostics):
        assert result.policy.decide("x", {}).effect == "deny"


def test_every_policy_code_has_a_fixture() -> None:
    from agentos_contracts.codes import CODES

    covered = {header(p.read_bytes(), "expect").split()[0] for p in INVALID}  # type: ignore[union-attr]
    # AC315 needs two files (test_checker.py); the test/eval/compiled-form codes are exercised in
    # test_policy_cli.py and test_compiler.py
    elsewhere = {"AC315", "AC340", "AC341", "AC342", "AC350", "AC351", "AC352", "AC353", "AC354"}
    wanted = {c for c in CODES if c.startswith("AC3")} - elsewhere
    assert wanted <= covered, sorted(wanted - covered)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_fixture_compiles_cleanly_and_is_formatted(path: Path) -> None:
    result = compile_sources([(path.name, path.read_bytes())])
    assert result.diagnostics == [] or all(d.code == "AC334" for d in result.diagnostics), result.diagnostics
    text = path.read_text()
    assert format_text(text, path.name)[0] == text
