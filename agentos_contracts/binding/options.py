"""What binding works on: units to admit, their options, and the reasons options fail.

Plain frozen values with exact numbers (integer ns, ``Fraction``); the MILP reads
floats derived from them, and every answer it gives is re-checked against these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from agentos_contracts.codes import CODES
from agentos_contracts.model.contract import AgentContract
from agentos_contracts.model.platform import EmbedStore, Model, Node, Tool
from agentos_contracts.model.tasks import Task


@dataclass(frozen=True, slots=True, kw_only=True)
class Reason:
    """Why something cannot be admitted (or a warning): a stable code and a one-line message."""

    code: str
    message: str
    pointer: str = ""  # JSON Pointer into the unit's document, for diagnostics

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True, kw_only=True)
class Unit:
    """One agent to bind: a contract, or one agent step of a workflow.

    All units of a ``group`` (a contract, or a workflow with its steps) are admitted
    together or not at all; ``order`` is the group's position on the command line,
    which decides who keeps capacity when not everything fits.
    """

    key: str  # contract name, or `workflow/step`
    label: str  # how messages name it
    group: str
    order: int
    contract: AgentContract


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelOption:
    model: Model
    ref: str  # the reference it resolves, normalised (`asr_local@>=2.0.0,<4.0.0`)
    rank: int  # position among the unit's options: preference, then catalog order
    pref: int = 0  # what `prefer` says alone (0 best): the MILP's second objective
    onset_ns: int  # model onset p95 + orchestration overhead
    output_ns: Fraction  # max_output_tokens at the model's tokens/s
    cost_per_min: Fraction  # at the unit's reserved token rate

    @property
    def label(self) -> str:
        where = self.model.node or self.model.placement
        return f"{self.model.name}@{self.model.version_text} ({where})"


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolOption:
    tool: Tool
    ref: str
    rank: int
    pref: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolSlot:
    """One tool the agent calls (a capability naming a catalog tool) and its deployments."""

    name: str
    options: tuple[ToolOption, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeOption:
    node: Node
    rank: int
    pref: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CoreOption:
    node: Node
    core: int
    rank: int
    pref: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidates:
    """Everything a unit may be bound to after the static checks; ``reasons`` non-empty → rejected."""

    unit: Unit
    models: tuple[ModelOption, ...] = ()
    needs_model: bool = False
    tools: tuple[ToolSlot, ...] = ()
    store: EmbedStore | None = None
    nodes: tuple[NodeOption, ...] = ()  # SRT and DT
    cores: tuple[CoreOption, ...] = ()  # HRT
    task: Task | None = None  # HRT
    tokens_per_min: int | Fraction = 0  # model token rate reserved for the unit, exact (see token_rate)
    cpu_mc: int | Fraction = 0  # HRT: at least its utilisation × 1000, exactly
    mem_bytes: int = 0
    previous: dict[str, str] = field(default_factory=dict)  # `name@version` → previous stable `name@version`
    reasons: tuple[Reason, ...] = ()
    warnings: tuple[Reason, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.reasons


@dataclass(slots=True)
class Capacity:
    """What is still free: tokens/min per model deployment, CPU/memory per node, utilisation per core."""

    tokens: dict[str, int | Fraction | None] = field(default_factory=dict)  # model ident → free (None: unlimited)
    cpu_mc: dict[str, Fraction] = field(default_factory=dict)
    mem_bytes: dict[str, int | None] = field(default_factory=dict)
    core_util: dict[tuple[str, int], Fraction] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    """What one admitted unit is bound to."""

    model: ModelOption | None
    tools: tuple[ToolOption, ...]
    store: EmbedStore | None
    node: Node
    core: int | None = None


def fmt_ms(ns: int | Fraction) -> str:
    """Exact millisecond text, at most 3 decimals for messages (``12.4``, ``284.444``)."""
    value = Fraction(ns) / 1_000_000
    whole = round(value * 1000)
    q, r = divmod(abs(whole), 1000)
    sign = "-" if whole < 0 else ""
    return f"{sign}{q}" if not r else f"{sign}{q}.{r:03d}".rstrip("0")


def fmt_num(value: int | Fraction) -> str:
    """A count or rate for messages: whole numbers plain, others with up to 3 decimals."""
    f = Fraction(value)
    if f.denominator == 1:
        return str(f.numerator)
    return f"{float(f):.3f}".rstrip("0").rstrip(".")


def exact(value: int | Fraction) -> int | Fraction:
    """An exact number as an int when it is whole (JSON-friendly, and how rates print)."""
    f = Fraction(value)
    return f.numerator if f.denominator == 1 else f


def rate_json(value: int | Fraction) -> int | str:
    """A token rate for a manifest record: an int, or `n/d` text when it is not whole (never a float)."""
    f = exact(value)
    return f if isinstance(f, int) else f"{f.numerator}/{f.denominator}"


def fmt_list(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(values) + "]"


def reason(code: str, pointer: str = "", **fields: object) -> Reason:
    return Reason(code=code, message=CODES[code].message.format(**fields), pointer=pointer)


def mem_text(n: int | None) -> str:
    if n is None:
        return "unlimited"
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{fmt_num(Fraction(n, size))}{unit}"
    return f"{n}B"
