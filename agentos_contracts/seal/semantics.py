"""What verify checks beyond the schema's shape: statement and version headers, time, sequence.

Versions are checked before the schema on purpose: a manifest of an unknown format
version must be reported as exactly that, not as a pile of schema errors from
applying version 1's rules to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from agentos_contracts.model.manifest import KNOWN_FORMAT_VERSIONS, KNOWN_SEMANTICS_VERSIONS
from agentos_contracts.seal.statement import PREDICATE_TYPE, STATEMENT_TYPE


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a manifest fails verification: a stable AC6xx code and a one-line message."""

    code: str
    message: str


def check_statement_header(statement: Any) -> list[Problem]:
    """The statement type, predicate type and the predicate's format and semantics versions."""
    if not isinstance(statement, dict):
        return [Problem("AC608", "payload is not an in-toto statement (not a JSON object)")]
    out: list[Problem] = []
    if statement.get("_type") != STATEMENT_TYPE:
        out.append(Problem("AC608", f"statement `_type` is {_shown(statement.get('_type'))}, expected `{STATEMENT_TYPE}`"))
    if statement.get("predicateType") != PREDICATE_TYPE:
        out.append(Problem(
            "AC608", f"`predicateType` is {_shown(statement.get('predicateType'))}, expected `{PREDICATE_TYPE}`"
        ))
    if out:
        return out
    predicate = statement.get("predicate")
    if not isinstance(predicate, dict):
        return []  # the schema reports it
    version = predicate.get("formatVersion")
    if type(version) is not int or version not in KNOWN_FORMAT_VERSIONS:
        known = ", ".join(str(v) for v in sorted(KNOWN_FORMAT_VERSIONS))
        out.append(Problem("AC609", f"unknown manifest formatVersion {_shown(version)} (this agentos reads {known})"))
    semantics = predicate.get("semanticsVersion")
    if not isinstance(semantics, str) or semantics not in KNOWN_SEMANTICS_VERSIONS:
        known = ", ".join(sorted(KNOWN_SEMANTICS_VERSIONS))
        out.append(Problem("AC610", f"unknown semanticsVersion {_shown(semantics)} (this agentos knows {known})"))
    return out


def check_time_and_sequence(predicate: dict[str, Any], now: datetime, min_sequence: int | None) -> list[Problem]:
    """Expiry against ``now`` (naive means UTC) and the sequence against ``min_sequence`` (rollback)."""
    out: list[Problem] = []
    now = now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)
    issued, problem = _instant(predicate, "issuedAt")
    out += problem
    expires, problem = _instant(predicate, "expiresAt")
    out += problem
    if issued is not None and expires is not None and issued > expires:
        out.append(Problem("AC616", f"`issuedAt` {predicate['issuedAt']} is after `expiresAt` {predicate['expiresAt']}"))
    if expires is not None and now >= expires:
        out.append(Problem("AC612", f"manifest expired at {predicate['expiresAt']}"))
    if min_sequence is not None:
        sequence = predicate.get("sequence")
        if sequence is None:
            out.append(Problem("AC614", f"manifest has no sequence but at least {min_sequence} is required"))
        elif sequence < min_sequence:
            out.append(Problem("AC613", f"manifest sequence {sequence} is below the minimum {min_sequence}"))
    return out


def _instant(predicate: dict[str, Any], key: str) -> tuple[datetime | None, list[Problem]]:
    text = predicate.get(key)
    if text is None:
        return None, []
    try:
        return datetime.fromisoformat(text), []
    except (TypeError, ValueError) as exc:
        return None, [Problem("AC616", f"`{key}` is not a valid date-time: `{text}` ({exc})")]


def _shown(value: Any) -> str:
    return "missing" if value is None else f"`{value}`"
