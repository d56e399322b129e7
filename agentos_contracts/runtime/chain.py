"""The audit record format and its hash chain, independent of where records are stored.

Each record is one JSON object whose canonical (JCS) bytes are hashed *whole*, including
its sequence number and the previous record's hash (``prev``): changing any field, the
order, or the membership of records breaks a link somewhere. The first ``prev`` is the
digest of the log's identity, so records cannot be spliced in from another log.
Verification is a pure function over rows, so the SQLite log and its JSON Lines export
are checked by the same code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from agentos_contracts.seal.canonical import (
    CanonicalError, Plan, canonical_digest, canonicalize, plan_object, sha256_digest, write_planned,
)

FORMAT = "agentos-audit/1"
# the record schema: 1 = records before `schema_version` and `span_id` (they still verify), 2 = now
SCHEMA_VERSION = 2

# every record carries these; the chain fields are filled in by the log, the rest by the caller.
# Header fields are kept even when null (a record without a tenant says `"tenant": null`).
CHAIN_FIELDS = ("seq", "prev", "event_id", "occurred_at")
HEADER_FIELDS = ("schema_version", "type", "trace_id", "span_id", "agent", "tenant", "manifest")
# what a record may say besides the header; `args` is deliberately absent: arguments appear only as digests
OPTIONAL_FIELDS = frozenset({
    "action", "decision", "stage", "rules", "reason", "args_digest", "call_digest", "context",
    "outcome", "usage", "step", "input_digest", "fallback", "signal", "error", "approver", "detail",
    "unit", "metric", "measured", "bound", "state", "attempt",
})
EVENT_TYPES = frozenset({
    "agent.started", "agent.completed", "agent.failed",
    "tool.allowed", "tool.denied", "constraint.failed", "consent.required",
    "consent.requested", "consent.granted", "consent.denied", "consent.escalated",
    "tool.completed", "tool.failed",
    "step.started", "step.completed", "step.failed", "step.skipped", "step.compensated",
    "step.compensation_failed", "fallback.activated",
    "model.allowed", "model.denied", "model.completed", "model.failed",
    # run-time signals: SLO monitors, breakers, fallbacks, canary, lifecycle
    "slo.breach", "slo.recovered", "breaker.opened", "breaker.half_open", "breaker.closed", "fallback.deactivated",
    "tool.retried", "canary.rolled_back", "agent.paused", "agent.resumed", "agent.revoked", "call.refused",
    # the MCP gateway (agentos_contracts/gateway): descriptor pinning, results withheld, and calls
    # forwarded in monitor mode that would have been denied (its refusals are `call.refused` too)
    "descriptor.drifted", "descriptor.restored", "result.withheld", "monitor.forwarded",
})
# record types that hold one authorize() decision: what `audit replay` re-decides
DECISION_TYPES = frozenset({"tool.allowed", "tool.denied", "constraint.failed", "consent.required"})


_HEADER = frozenset(HEADER_FIELDS)
_ALLOWED = frozenset(CHAIN_FIELDS) | _HEADER | OPTIONAL_FIELDS


class RecordError(ValueError):
    """A record that cannot be written (unknown field or type, value with no canonical form)."""


def genesis(log_id: str) -> str:
    """The ``prev`` of record 1: ties the chain to one log."""
    return canonical_digest({"format": FORMAT, "log": log_id})


_RECORD_PLANS: dict[tuple[str, ...], Plan] = {}  # allowed field-name sets, planned (a record's names repeat)
MAX_RECORD_PLANS = 1024


def seal_record(fields: Mapping[str, Any]) -> tuple[bytes, str]:
    """Canonical bytes and hash of a complete record; refuses unknown fields and raw arguments."""
    record = fields if fields.__class__ is dict else dict(fields)
    names = tuple(record)
    plan = _RECORD_PLANS.get(names)
    if plan is None:
        unknown = record.keys() - _ALLOWED
        if unknown:
            raise RecordError(f"unknown audit field(s): {', '.join(sorted(map(str, unknown)))}")
        plan = plan_object(names, _HEADER)  # every allowed name is ASCII: a plan always exists
        if plan is None:
            raise RecordError("audit field names must be ASCII strings")
        if len(_RECORD_PLANS) < MAX_RECORD_PLANS:
            _RECORD_PLANS[names] = plan
    if record.get("type") not in EVENT_TYPES:
        raise RecordError(f"unknown audit event type `{record.get('type')}`")
    try:
        body = write_planned(record, plan)  # type: ignore[arg-type]
    except CanonicalError as exc:
        raise RecordError(f"audit record has no canonical form: {exc}") from None
    return body, sha256_digest(body)


def format_time_ns(ns: int) -> str:
    """RFC 3339 UTC with nanoseconds: exact, sortable, and safe in JCS (no big integers)."""
    seconds, frac = divmod(ns, 1_000_000_000)
    return f"{_second_text(seconds)}.{frac:09d}Z"


@lru_cache(maxsize=4)
def _second_text(seconds: int) -> str:  # records come many per second: format each second once
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def parse_time_ns(text: str) -> int:
    """Inverse of :func:`format_time_ns`; raises ValueError on anything else."""
    if len(text) != 30 or text[19] != "." or text[-1] != "Z":
        raise ValueError(f"not an audit timestamp: {text!r}")
    base = datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return int(base.timestamp()) * 1_000_000_000 + int(text[20:29])


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One break in a log: the first record position where a check fails, and which check."""

    seq: int
    kind: str  # modified | deleted | inserted | reordered | truncated | checkpoint | unreadable
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind, "message": self.message}


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """A stored record: its storage position (``None`` for a plain file), bytes and stored hash."""

    position: int | None
    body: bytes
    hash: str


@dataclass(slots=True, kw_only=True)
class ChainReport:
    """What walking the chain found; ``heads`` maps each seq to its hash, for checkpoint checks."""

    count: int = 0
    problems: list[Problem] = field(default_factory=list)
    heads: dict[int, str] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)


def walk(rows: Iterable[Row], log_id: str, *, keep_records: bool = False) -> ChainReport:
    """Check every record and link; report each break once, at the first position it shows.

    A record is *modified* when its bytes are not canonical or no longer hash to its
    stored hash; positions skipped over are *deleted*; a record whose own ``seq``
    disagrees with its storage position is *reordered*; one that repeats an earlier
    position is *inserted*; a record whose ``prev`` is not the hash of the record it
    claims to follow shows that something before it was replaced (*broken link*).
    Links are checked by claimed sequence number, so a swap of two records reports
    those two positions and not every record after them.
    """
    report = ChainReport()
    by_claim: dict[int, str] = {0: genesis(log_id)}
    claim_pos: dict[int, int] = {}
    expected = 1
    for row in rows:
        report.count += 1
        record = _parse(row.body)
        claimed = record.get("seq") if record is not None else None
        if not isinstance(claimed, int) or isinstance(claimed, bool):
            claimed = None
        pos = row.position if row.position is not None else (claimed or expected)
        problem: Problem | None = None
        if record is None:
            problem = Problem(seq=pos, kind="modified", message=f"record {pos} is not canonical JSON (modified)")
        elif sha256_digest(row.body) != row.hash:
            problem = Problem(seq=pos, kind="modified", message=f"record {pos} was modified (its hash does not match)")
        elif pos > expected:
            gap = f"{expected}" if pos == expected + 1 else f"{expected}..{pos - 1}"
            problem = Problem(seq=expected, kind="deleted", message=f"record(s) {gap} missing (deleted)")
        elif pos < expected:
            problem = Problem(seq=expected, kind="inserted",
                              message=f"record {pos} appears again after record {expected - 1} (inserted)")
        elif claimed in claim_pos:
            first = claim_pos[claimed]
            problem = Problem(seq=first, kind="inserted",
                              message=f"positions {first} and {pos} both hold record {claimed} (one was inserted)")
        elif claimed != pos:
            problem = Problem(seq=pos, kind="reordered", message=f"position {pos} holds record {claimed} (reordered)")
        elif claimed - 1 in by_claim and record.get("prev") != by_claim[claimed - 1]:
            problem = Problem(seq=pos, kind="broken-link",
                              message=f"record {pos} does not link to record {pos - 1} "
                                      "(a record before it was replaced, inserted or removed)")
        if problem is not None:
            report.problems.append(problem)
        if record is not None and keep_records:
            report.records.append(record)
        if claimed is not None:
            by_claim.setdefault(claimed, row.hash)
            claim_pos.setdefault(claimed, pos)
        report.heads[pos] = row.hash
        expected = max(expected, pos + 1)
    return report


def _parse(body: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(body)
        if not isinstance(record, dict) or canonicalize(record) != body:
            return None
    except (ValueError, CanonicalError):
        return None
    return record
