"""The AgentContract as the later stages read it: exact units, parsed refs, no YAML.

Built only by ``validate.build`` from a document that passed validation (after
configuration layering in ``binding.layering``), so the types here can be strict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction
from typing import Any, Mapping

from agentos_contracts.diagnostics import Span
from agentos_contracts.model.units import Ref


class LatencyClass(str, Enum):
    HRT = "HRT"
    SRT = "SRT"
    DT = "DT"


class BindingMode(str, Enum):
    STRICT = "strict"
    SMOOTH = "smooth"
    FLEXIBLE = "flexible"


@dataclass(frozen=True, slots=True, kw_only=True)
class HrtSlo:
    wcet_ns: int
    period_ns: int
    deadline_ns: int
    jitter_ns: int = 0
    blocking_ns: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SrtSlo:
    onset_ns: int | None = None
    turn_ns: int | None = None
    jitter_p95_pct: Fraction | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DtSlo:
    tokens_per_hour: Fraction | None = None
    deadline_ns: int | None = None


Slo = HrtSlo | SrtSlo | DtSlo


@dataclass(frozen=True, slots=True, kw_only=True)
class Requirements:
    """The closed list of `must` / `prefer` / `substitute` keys; lists mean any-of (ranked in prefer)."""

    model: tuple[Ref, ...] = ()
    tools: tuple[Ref, ...] = ()
    placement: tuple[str, ...] = ()
    embed_store: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Fallback:
    when: str
    substitute: Requirements
    redact: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Canary:
    percent: Fraction
    latency_p95_ns: int | None = None
    error_rate_pct: Fraction | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Binding:
    mode: BindingMode = BindingMode.STRICT
    must: Requirements = Requirements()
    prefer: Requirements = Requirements()
    fallbacks: tuple[Fallback, ...] = ()
    canary: Canary | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Budgets:
    """Plain numbers from the contract; None means unlimited."""

    tokens: Fraction | None = None
    tokens_per_minute: Fraction | None = None
    calls: Fraction | None = None
    calls_per_minute: Fraction | None = None
    cost_per_day: Fraction | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Memory:
    namespace: str | None = None
    retention_days: Fraction | None = None
    top_k: int | None = None
    require_grounding: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentContract:
    name: str
    latency: LatencyClass
    slo: Slo
    version: str | None = None
    tenant: str | None = None
    role: str | None = None
    capabilities: tuple[str, ...] = ()
    consent_for: tuple[str, ...] = ()
    cpu_millicores: int | None = None
    mem_bytes: int | None = None
    model_allow: tuple[Ref, ...] = ()
    max_context_tokens: int | None = None
    max_output_tokens: int = 256
    memory: Memory = Memory()
    budgets: Budgets = Budgets()
    policies: tuple[str, ...] = ()  # paths as resolved against the contract file
    binding: Binding = Binding()
    file: str = ""
    span: Span | None = field(default=None, compare=False)
    document: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def ceiling(self) -> tuple[str, ...]:
        """capabilities ∪ consent_for: what the agent may ever do (policy-dsl.md)."""
        return tuple(dict.fromkeys(self.capabilities + self.consent_for))
