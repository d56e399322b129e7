"""`fmt`: canonical layout, comments kept, idempotent, meaning unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentos_contracts.policy.fmt import format_text
from agentos_contracts.policy.parser import parse_policy

ROOT = Path(__file__).resolve().parents[2]


def fmt(text: str) -> str:
    out, diags = format_text(text, "f.policy")
    assert out is not None, diags
    return out


def test_layout_keywords_spacing_and_parentheses() -> None:
    assert fmt("allow   a.b,c  if x<1 and(y or z)\n") == "ALLOW a.b, c IF x < 1 AND (y OR z)\n"
    assert fmt("deny if not x == 1\n") == "DENY IF NOT (x == 1)\n"
    assert fmt("deny if not not x\n") == "DENY IF NOT NOT x\n"
    assert fmt("consent for p.*\nrequire consent\n") == "REQUIRE CONSENT FOR p.*\nREQUIRE CONSENT\n"
    assert fmt('ALLOW "x.y", "allow" IF a MATCHES "q" AND has b AND TRUE\n') == \
        'ALLOW x.y, "allow" IF a MATCHES "q" AND has b AND true\n'
    assert fmt("ALLOW x IF (a AND b) OR (c AND (d OR e))\n") == "ALLOW x IF a AND b OR c AND (d OR e)\n"
    assert fmt("ALLOW x IF n == 1e3 AND m < -0.50\n") == "ALLOW x IF n == 1000.0 AND m < -0.5\n"
    assert fmt("POLICY p\nATTRIBUTE a.b : set< string >\n") == "policy p\nattribute a.b: set<string>\n"


def test_comments_are_kept() -> None:
    src = ("# header comment\n\n\n"
           "ALLOW x IF a IN [   # inside\n"
           "   1,\n"
           "   # own line inside\n"
           "   2]   # trailing\n"
           "DENY y ; DENY z  # after two rules\n"
           "# final\n")
    assert fmt(src) == ("# header comment\n\n"
                        "# inside\n# own line inside\n"
                        "ALLOW x IF a IN [1, 2]  # trailing\n"
                        "DENY y\nDENY z  # after two rules\n"
                        "# final\n")


def test_idempotent_and_meaning_preserving_on_examples() -> None:
    files = sorted((ROOT / "contracts" / "policies").glob("*.policy")) + \
        sorted((ROOT / "tests" / "fixtures" / "policy" / "valid").glob("*.policy"))
    assert files
    for path in files:
        text = path.read_text()
        once = fmt(text.replace("\n", "   \n").replace(" IF ", "  if "))
        assert fmt(once) == once
        assert parse_policy(once, "x").value == parse_policy(text, "x").value


@pytest.mark.parametrize("text", ["ALLOW (\n", 'ALLOW x IF a == "\n'])
def test_broken_files_are_not_formatted(text: str) -> None:
    out, diags = format_text(text, "f.policy")
    assert out is None and diags and all(d.is_error for d in diags)


def test_empty_file_stays_empty() -> None:
    assert fmt("") == "" and fmt("\n\n") == ""
