"""Re-deciding a recorded run: would this manifest decide every recorded call the same way?

Each decision record is decided again from what it holds: the action, the recorded
context, the arguments (only when they were retained and still match the recorded
digest), the recorded step (whose own ceiling and consent list apply first, as at run
time), and the budgets as they stood, rebuilt from the recorded events at their recorded
times. Any decision (effect or deciding rules) that differs is reported. Calls whose
arguments were not retained are checked against the ceilings only and listed as skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from agentos_contracts.runtime import chain
from agentos_contracts.runtime.authorize import Authorizer
from agentos_contracts.runtime.engine import build_authorizer
from agentos_contracts.runtime.governed import MEMORY_RULE, memory_problem
from agentos_contracts.runtime.logstore import StoredLog, read_log
from agentos_contracts.runtime.manifest import LoadedManifest
from agentos_contracts.seal.canonical import canonical_digest, sha256_digest

EMPTY_ARGS = canonical_digest({})


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference:
    seq: int
    action: str
    recorded: str
    replayed: str
    recorded_rules: tuple[str, ...]
    replayed_rules: tuple[str, ...]
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "action": self.action, "recorded": self.recorded, "replayed": self.replayed,
                "recorded_rules": list(self.recorded_rules), "replayed_rules": list(self.replayed_rules),
                "reason": self.reason}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayReport:
    replayed: int
    same: int
    differences: tuple[Difference, ...]
    skipped: tuple[tuple[int, str], ...]
    chain_problems: tuple[chain.Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.differences and not self.chain_problems

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "replayed": self.replayed, "same": self.same,
                "differences": [d.to_json() for d in self.differences],
                "skipped": [{"seq": s, "reason": r} for s, r in self.skipped],
                "chain_problems": [p.to_json() for p in self.chain_problems]}


def replay(log: str | Path, loaded: LoadedManifest, tools: Sequence[Mapping[str, Any]] = ()) -> ReplayReport:
    """Replay every decision record of ``log`` under ``loaded``; raises AuditError if unreadable."""
    stored = read_log(log)
    walked = chain.walk(stored.rows, stored.log_id, keep_records=True)
    authorizer = build_authorizer(loaded, tools)
    retained = _retained(stored)

    def held(action: str, step: Any, args: Mapping[str, Any]) -> str | None:
        return memory_problem(loaded.manifest, action, dict(args), force=True,
                              step=step if isinstance(step, str) else None)

    diffs: list[Difference] = []
    skipped: list[tuple[int, str]] = []
    same = replayed = 0
    for record in walked.records:
        try:
            at = chain.parse_time_ns(str(record.get("occurred_at")))
        except ValueError:
            continue
        kind = record.get("type")
        try:  # a tampered record may hold anything: it is reported (the chain already fails), never a crash
            outcome = _redecide(record, at, authorizer, retained, held) if kind in chain.DECISION_TYPES else False
            _charge(authorizer, record, at)
        except Exception as exc:
            skipped.append((_seq(record), f"record cannot be replayed ({type(exc).__name__})"))
            continue
        if outcome is False:
            continue
        if isinstance(outcome, str):
            skipped.append((_seq(record), outcome))
        elif outcome is not None:
            diffs.append(outcome)
            replayed += 1
        else:
            same += 1
            replayed += 1
    return ReplayReport(replayed=replayed, same=same, differences=tuple(diffs), skipped=tuple(skipped),
                        chain_problems=tuple(walked.problems))


def _seq(record: dict[str, Any]) -> int:
    seq = record.get("seq")
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else 0


def _redecide(record: dict[str, Any], at: int, authorizer: Authorizer, retained: dict[int, Any],
              memory: Callable[[str, Any, Mapping[str, Any]], str | None] | None = None) -> Difference | str | None:
    seq, action = record.get("seq", 0), record.get("action")
    recorded, rules = record.get("decision"), tuple(record.get("rules") or ())
    digest, step = record.get("args_digest"), record.get("step")
    if seq in retained and retained[seq][0] == digest:
        args = retained[seq][1]
    elif digest == EMPTY_ARGS:
        args = {}
    else:
        outside = authorizer.outside(action, step) if isinstance(action, str) else None
        if outside is not None and recorded != "deny":
            return Difference(seq=seq, action=action, recorded=str(recorded), replayed="deny", recorded_rules=rules,
                              replayed_rules=outside[0], reason=outside[1])
        if seq in retained:  # kept, but fields outside the sealed log_fields only as digests
            return "argument values outside `observability.log_fields` were kept as digests only"
        return "arguments were not retained (run with retain_args to replay them)"
    usage = record.get("usage") or {}
    held = memory(str(action), step, args) if memory is not None and isinstance(args, Mapping) else None
    if held is not None:  # a memory tool naming another namespace: denied before the decision path, as at run time
        effect, replayed_rules, why = "deny", (MEMORY_RULE,), held
    else:
        decision = authorizer.decide(str(action), record.get("context") or {}, args, step=step,
                                     tokens=usage.get("tokens", 0), cost=usage.get("cost", 0), at=at)
        effect, replayed_rules, why = decision.effect, decision.rules, decision.reason
    if effect == recorded and replayed_rules == rules:
        return None
    return Difference(seq=seq, action=str(action), recorded=str(recorded), replayed=effect,
                      recorded_rules=rules, replayed_rules=replayed_rules, reason=why)


def _charge(authorizer: Authorizer, record: dict[str, Any], at: int) -> None:
    """Rebuild the budgets from what happened, exactly as the runtime charged them."""
    kind = record.get("type")
    if kind in ("tool.allowed", "consent.granted"):
        authorizer.budgets.charge(calls=1, at=at)
    elif kind == "tool.completed" and record.get("usage"):
        usage = record["usage"]
        authorizer.budgets.charge(tokens=usage.get("tokens", 0), cost=usage.get("cost", 0), at=at)


def _retained(stored: StoredLog) -> dict[int, tuple[str, Any]]:
    out: dict[int, tuple[str, Any]] = {}
    for seq, raw in stored.retained_args.items():
        try:
            out[seq] = (sha256_digest(raw), json.loads(raw))
        except ValueError:
            continue
    return out
