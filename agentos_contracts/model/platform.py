"""The platform catalog: nodes, models, tools (with MCP descriptors), stores, layers."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Mapping

from agentos_contracts.model.units import version_text


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    name: str
    placement: str
    cores: int
    mem_bytes: int | None = None
    scheduler: str = "EDF"  # per-core scheduler for HRT work
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Model:
    name: str
    version: tuple[int, int, int]
    placement: str
    node: str | None = None
    onset_ns_p95: int = 0
    tokens_per_s: Fraction | None = None
    max_context_tokens: int | None = None
    cost_per_1k_tokens: Fraction = Fraction(0)
    capacity_tokens_per_min: Fraction | None = None
    tags: tuple[str, ...] = ()

    @property
    def version_text(self) -> str:
        return version_text(self.version)

    @property
    def ident(self) -> str:
        """Unique within a catalog: name@version plus where it is deployed."""
        where = self.node or self.placement
        return f"{self.name}@{self.version_text}#{where}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Tool:
    name: str
    version: tuple[int, int, int]
    placement: str | None = None
    rtt_ns_p95: int = 0
    descriptor: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    tags: tuple[str, ...] = ()
    memory_arg: str | None = None  # a memory tool (catalog `memory`): the argument carrying the namespace

    @property
    def version_text(self) -> str:
        return version_text(self.version)


@dataclass(frozen=True, slots=True, kw_only=True)
class EmbedStore:
    name: str
    placement: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Role:
    name: str
    defaults: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Tenant:
    name: str
    defaults: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    roles: tuple[Role, ...] = ()

    def role(self, name: str) -> Role | None:
        return next((r for r in self.roles if r.name == name), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Platform:
    name: str
    nodes: tuple[Node, ...] = ()
    models: tuple[Model, ...] = ()
    tools: tuple[Tool, ...] = ()
    embed_stores: tuple[EmbedStore, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    tenants: tuple[Tenant, ...] = ()
    orchestration_overhead_ns: int = 0
    reservations: tuple[str, ...] = ()  # manifest paths, resolved against the platform file
    file: str = ""
    document: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def node(self, name: str) -> Node | None:
        return next((n for n in self.nodes if n.name == name), None)

    def tenant(self, name: str) -> Tenant | None:
        return next((t for t in self.tenants if t.name == name), None)

    def tool(self, name: str) -> tuple[Tool, ...]:
        return tuple(t for t in self.tools if t.name == name)
