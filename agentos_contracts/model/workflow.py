"""A workflow: steps binding contracts, typed data edges, HITL gates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

HITL = "HITL_approval"


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    id: str
    agent: str | None = None
    kind: str = "agent"  # "agent" or HITL_approval
    bind: str | None = None
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    consent_for: tuple[str, ...] = ()
    timeout_s: int | None = None
    escalate_to: str | None = None
    turn_ns: int | None = None
    override: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_hitl(self) -> bool:
        return self.kind == HITL


@dataclass(frozen=True, slots=True, kw_only=True)
class Workflow:
    name: str
    steps: tuple[Step, ...]
    edges: tuple[tuple[str, str], ...] = ()  # producer step id → consumer step id
    deadline_ns: int | None = None
    inputs: tuple[str, ...] = ()
    file: str = ""
    document: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    def order(self) -> tuple[str, ...]:
        """Step ids in a deterministic topological order (ties by document order)."""
        indeg = {s.id: 0 for s in self.steps}
        for _, b in self.edges:
            indeg[b] += 1
        position = {s.id: i for i, s in enumerate(self.steps)}
        ready = sorted((sid for sid, d in indeg.items() if d == 0), key=position.__getitem__)
        out: list[str] = []
        while ready:
            sid = ready.pop(0)
            out.append(sid)
            for a, b in self.edges:
                if a == sid:
                    indeg[b] -= 1
                    if indeg[b] == 0:
                        ready.append(b)
                        ready.sort(key=position.__getitem__)
        return tuple(out)

    def predecessors(self, step_id: str) -> tuple[str, ...]:
        return tuple(sorted({a for a, b in self.edges if b == step_id}))
