"""Who holds which capacity: reservations from admitted manifests plus this run's choices.

Every manifest admission writes carries a ``reservation`` record per agent (what it
took: model token rate, node CPU and memory, and for HRT its task on a core), so a
later admission can count it (platform ``reservations``, ``--existing``) and never
overbook. The ledger adds those up per resource and remembers the holders, for the
exact re-checks and for rejection messages ("taken by ...").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Mapping

from agentos_contracts.binding.options import Candidates, Capacity, Choice, exact, rate_json
from agentos_contracts.model.platform import Node, Platform
from agentos_contracts.model.tasks import Task
from agentos_contracts.validate.build import build_reserved_task


@dataclass(frozen=True, slots=True, kw_only=True)
class Held:
    """One agent's reservation, read back from a manifest predicate."""

    source: str  # manifest file
    label: str  # contract name, or `workflow/step`
    owner: tuple[str, str]  # (kind, name) of the manifest: re-admitting it replaces it
    models: tuple[tuple[str, str, str | None, str], ...] = ()  # (name, version, node, placement)
    tokens_per_min: int | Fraction = 0
    node: str | None = None
    core: int | None = None
    cpu_mc: int | Fraction = 0
    mem_bytes: int = 0
    task: Task | None = None


def reservation_record(c: Candidates, choice: Choice) -> dict[str, Any]:
    """The JSON a manifest stores so later admissions count this unit (see ``held_from_predicate``)."""
    task = None
    if c.task is not None:
        t = c.task
        task = {"wcet_ns": t.wcet_ns, "period_ns": t.period_ns, "deadline_ns": t.deadline_ns,
                "jitter_ns": t.jitter_ns, "blocking_ns": t.blocking_ns}
    models = [] if choice.model is None else [{
        "name": choice.model.model.name, "version": choice.model.model.version_text,
        "node": choice.model.model.node, "placement": choice.model.model.placement}]
    return {"latency": c.unit.contract.latency.value, "tokens_per_min": rate_json(c.tokens_per_min) if models else 0,
            "cpu_mc": c.unit.contract.cpu_millicores or 0, "mem_bytes": c.mem_bytes, "models": models, "node": choice.node.name,
            "core": choice.core, "task": task}


def held_from_predicate(predicate: Mapping[str, Any], source: str) -> list[Held]:
    """Reservations of a verified manifest predicate (contract: one; workflow: one per agent step)."""
    kind, name = predicate.get("kind"), predicate.get("name")
    requested = predicate.get("requested") if isinstance(predicate.get("requested"), dict) else {}
    records: list[tuple[str, Any]] = []
    if kind == "Workflow":
        steps = requested.get("steps") if isinstance(requested.get("steps"), dict) else {}
        records = [(f"{name}/{sid}", s.get("reservation")) for sid, s in sorted(steps.items()) if isinstance(s, dict)]
    else:
        records = [(str(name), requested.get("reservation"))]
    out: list[Held] = []
    for label, rec in records:
        if not isinstance(rec, dict):
            raise ValueError(f"`{label}` has no reservation record (not written by `agentos admit`)")
        out.append(_held(rec, label, source, (str(kind), str(name))))
    return out


def _rate(value: Any) -> int | Fraction:
    """A recorded token rate: an int or `n/d` text (older manifests: an int); a float would be inexact."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"reservation tokens_per_min `{value}` is not an integer or `n/d` text")
    rate = Fraction(value)
    if rate < 0:
        raise ValueError(f"reservation tokens_per_min `{value}` is negative")
    return exact(rate)


def _held(rec: Mapping[str, Any], label: str, source: str, owner: tuple[str, str]) -> Held:
    task = None
    if isinstance(rec.get("task"), dict):
        task = build_reserved_task(rec["task"], f"{label} ({source})")
    models = tuple((str(m["name"]), str(m["version"]), m.get("node"), str(m["placement"]))
                   for m in rec.get("models") or [])
    core = rec.get("core")
    cpu: int | Fraction = int(rec.get("cpu_mc", 0))
    if task is not None:
        cpu = max(Fraction(cpu), task.utilization * 1000)  # as admission counted it: exact core share
    return Held(source=source, label=label, owner=owner, models=models, tokens_per_min=_rate(rec.get("tokens_per_min", 0)),
                node=rec.get("node"), core=None if core is None else int(core), cpu_mc=cpu,
                mem_bytes=int(rec.get("mem_bytes", 0)), task=task)


_NODE_INDEX: dict[int, tuple[Platform, dict[str, Node]]] = {}  # id(platform) → (platform, nodes by name)


@dataclass(slots=True)
class Ledger:
    """Usage per resource with its holders; ``free`` turns it into the MILP's capacities."""

    platform: Platform
    tokens: dict[str, int | Fraction] = field(default_factory=dict)
    cpu_mc: dict[str, Fraction] = field(default_factory=dict)
    mem_bytes: dict[str, int] = field(default_factory=dict)
    tasks: dict[tuple[str, int], list[Task]] = field(default_factory=dict)
    holders: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (kind, resource) → labels
    cached: Capacity | None = field(default=None, compare=False, repr=False)  # ``capacity()`` until a change

    def copy(self) -> Ledger:
        return Ledger(platform=self.platform, tokens=dict(self.tokens), cpu_mc=dict(self.cpu_mc),
                      mem_bytes=dict(self.mem_bytes), tasks={k: list(v) for k, v in self.tasks.items()},
                      holders={k: list(v) for k, v in self.holders.items()})

    def _hold(self, kind: str, resource: str, label: str) -> None:
        names = self.holders.setdefault((kind, resource), [])
        if label not in names:
            names.append(label)

    def add_held(self, held: Held) -> list[str]:
        """Count a reservation; returns why parts of it could not be placed on this platform."""
        self.cached = None
        problems: list[str] = []
        for name, version, node, placement in held.models:
            m = next((m for m in self.platform.models if m.name == name and m.version_text == version
                      and m.node == node and m.placement == placement), None)
            if m is None:
                problems.append(f"model `{name}@{version}` ({node or placement}) is not in the catalog")
            elif held.tokens_per_min:
                self.tokens[m.ident] = self.tokens.get(m.ident, 0) + held.tokens_per_min
                self._hold("tokens", m.ident, held.label)
        node = self.platform.node(held.node) if held.node else None
        if held.node and node is None:
            problems.append(f"node `{held.node}` is not in the catalog")
        if node is not None:
            self.cpu_mc[node.name] = self.cpu_mc.get(node.name, Fraction(0)) + held.cpu_mc
            self.mem_bytes[node.name] = self.mem_bytes.get(node.name, 0) + held.mem_bytes
            self._hold("node", node.name, held.label)
            if held.task is not None and held.core is not None:
                if held.core >= node.cores:
                    problems.append(f"node `{node.name}` has no core {held.core}")
                else:
                    self.tasks.setdefault((node.name, held.core), []).append(held.task)
                    self._hold("core", f"{node.name}/{held.core}", held.label)
        return problems

    def add_choice(self, c: Candidates, choice: Choice) -> None:
        self.cached = None
        label = c.unit.key
        if choice.model is not None and c.tokens_per_min:
            ident = choice.model.model.ident
            self.tokens[ident] = self.tokens.get(ident, 0) + c.tokens_per_min
            self._hold("tokens", ident, label)
        node = choice.node.name
        self.cpu_mc[node] = self.cpu_mc.get(node, Fraction(0)) + c.cpu_mc
        self.mem_bytes[node] = self.mem_bytes.get(node, 0) + c.mem_bytes
        self._hold("node", node, label)
        if c.task is not None and choice.core is not None:
            self.tasks.setdefault((node, choice.core), []).append(c.task)
            self._hold("core", f"{node}/{choice.core}", label)

    def remove_choice(self, c: Candidates, choice: Choice) -> None:
        """Undo ``add_choice`` (a unit moving to another option)."""
        self.cached = None
        label = c.unit.key
        if choice.model is not None and c.tokens_per_min:
            ident = choice.model.model.ident
            self.tokens[ident] -= c.tokens_per_min
            self._release("tokens", ident, label)
        node = choice.node.name
        self.cpu_mc[node] -= c.cpu_mc
        self.mem_bytes[node] -= c.mem_bytes
        self._release("node", node, label)
        if c.task is not None and choice.core is not None:
            self.tasks[(node, choice.core)].remove(c.task)
            self._release("core", f"{node}/{choice.core}", label)

    def _release(self, kind: str, resource: str, label: str) -> None:
        names = self.holders.get((kind, resource), [])
        if label in names:
            names.remove(label)

    def free_tokens(self, ident: str) -> int | Fraction | None:
        """Exact: reserved rates are rationals, so shares that fill the capacity exactly fit."""
        m = next(m for m in self.platform.models if m.ident == ident)
        if m.capacity_tokens_per_min is None:
            return None
        return exact(m.capacity_tokens_per_min - self.tokens.get(ident, 0))

    def _node(self, name: str) -> Node:
        """By name through a dict built once per platform (``Platform.node`` scans the list)."""
        index = _NODE_INDEX.get(id(self.platform))
        if index is None or index[0] is not self.platform:
            if len(_NODE_INDEX) > 8:  # a long-lived process that loads platform after platform
                _NODE_INDEX.clear()
            index = (self.platform, {n.name: n for n in self.platform.nodes})
            _NODE_INDEX[id(self.platform)] = index
        return index[1][name]

    def free_cpu(self, node: str) -> Fraction:
        n = self._node(node)
        return n.cores * 1000 - self.cpu_mc.get(node, Fraction(0))

    def free_mem(self, node: str) -> int | None:
        n = self._node(node)
        return None if n.mem_bytes is None else n.mem_bytes - self.mem_bytes.get(node, 0)

    def capacity(self) -> Capacity:
        """What is free, as fresh dicts (callers may keep them); computed once until the ledger changes."""
        if self.cached is None:
            self.cached = self._capacity()
        c = self.cached
        return Capacity(tokens=dict(c.tokens), cpu_mc=dict(c.cpu_mc), mem_bytes=dict(c.mem_bytes),
                        core_util=dict(c.core_util))

    def _capacity(self) -> Capacity:
        cap = Capacity()
        for m in self.platform.models:
            cap.tokens[m.ident] = self.free_tokens(m.ident)
        for n in self.platform.nodes:
            cap.cpu_mc[n.name] = self.free_cpu(n.name)
            cap.mem_bytes[n.name] = self.free_mem(n.name)
            for k in range(n.cores):
                used = sum((t.utilization for t in self.tasks.get((n.name, k), [])), Fraction(0))
                cap.core_util[(n.name, k)] = Fraction(1) - used
        return cap

    def taken_by(self, kind: str, resource: str, limit: int = 3) -> str:
        names = self.holders.get((kind, resource), [])
        if not names:
            return ""
        shown = ", ".join(f"`{n}`" for n in names[:limit])
        more = f" and {len(names) - limit} more" if len(names) > limit else ""
        return f" (taken by {shown}{more})"
