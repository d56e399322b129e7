"""Workflows at admission: the critical path with the chosen bindings, and the union ceiling.

Validation already bounds the critical path with the steps' SLOs; here the bound uses
what the bindings actually give (SRT turn, HRT response time, DT deadline), and a
step without any bound fails closed when the workflow has a deadline.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Mapping

from agentos_contracts.binding.explain import step_time_ns
from agentos_contracts.binding.options import Reason, fmt_ms, reason
from agentos_contracts.binding.predicate import Bound
from agentos_contracts.model.workflow import Workflow


def critical_path(wf: Workflow, bounds: Mapping[str, Bound]) -> tuple[Reason, ...]:
    """The deadline against the longest chain of step time bounds (``bounds`` by step id)."""
    if wf.deadline_ns is None:
        return ()
    times: dict[str, int | Fraction] = {}
    for s in wf.steps:
        if s.is_hitl:
            times[s.id] = 0
            continue
        b = bounds.get(s.id)
        t = None if b is None else step_time_ns(b.candidates, b.choice, b.evidence)
        if t is None:
            return (reason("AC516", name=wf.name, step=s.id),)
        times[s.id] = t
    finish: dict[str, int | Fraction] = {}
    via: dict[str, str | None] = {}
    for sid in wf.order():
        best = max(wf.predecessors(sid), key=lambda p: finish[p], default=None)
        finish[sid] = times[sid] + (finish[best] if best is not None else 0)
        via[sid] = best
    end = max(finish, key=lambda k: finish[k])
    if finish[end] <= wf.deadline_ns:
        return ()
    route: list[str] = []
    cur: str | None = end
    while cur is not None:
        route.append(f"{cur} {fmt_ms(times[cur])} ms")
        cur = via[cur]
    return (reason("AC514", name=wf.name, total=fmt_ms(finish[end]), route=" → ".join(reversed(route)),
                   limit=fmt_ms(wf.deadline_ns)),)


def ceiling(wf: Workflow, steps: Mapping[str, Bound]) -> dict[str, Any]:
    """The contract data the workflow's one policy compiles against: the union of the steps' ceilings
    plus what each HITL step approves."""
    caps: list[str] = []
    consent: list[str] = []
    for b in steps.values():
        c = b.candidates.unit.contract
        caps += [a for a in c.capabilities if a not in caps]
        consent += [a for a in c.consent_for if a not in consent]
    for s in wf.steps:
        consent += [a for a in s.consent_for if a not in consent]
    return {"name": wf.name, "capabilities": caps, "security": {"consent_for": consent}}
