"""Each output format renders the same report byte for byte as its golden file.

Regenerate after an intended change with: AGENTOS_REGOLD=1 python -m pytest tests/report
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from agentos_contracts.report import REPORTERS, reporter
from agentos_contracts.validate import validate_paths

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests/fixtures/report/golden"
INPUTS = [
    "tests/fixtures/validate/invalid/hrt-wcet-over-deadline.yaml",
    "tests/fixtures/validate/invalid/consent-outside-capabilities.yaml",
    "tests/fixtures/validate/invalid/unknown-key.yaml",
]
EXT = {"text": "txt", "json": "json", "sarif": "sarif", "junit": "xml", "github": "txt"}


@pytest.mark.parametrize("fmt", sorted(REPORTERS))
def test_format_matches_golden(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NO_COLOR", "1")
    report = validate_paths(INPUTS)
    out = io.StringIO()
    reporter(fmt).render(report, out)
    golden = GOLDEN / f"validate.{fmt}.{EXT[fmt]}"
    if os.environ.get("AGENTOS_REGOLD"):
        golden.write_text(out.getvalue(), encoding="utf-8")
    assert out.getvalue() == golden.read_text(encoding="utf-8")
