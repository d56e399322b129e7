"""Rejections with numbers: why a unit did not fit into what was left, and SRT evidence.

Explanations are computed against the final ledger (reservations plus everything
admitted in the same run), one slot at a time: model token capacity, node CPU and
memory, and for HRT the exact test on every eligible core, reporting the closest
core with the schedulability library's sensitivity ("fits if wcet_ms ≤ ...").
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from agentos_contracts.binding import hrt
from agentos_contracts.binding.candidates import hrt_lower_bound, turn_detail
from agentos_contracts.binding.options import mem_text, reason
from agentos_contracts.binding.ledger import Ledger
from agentos_contracts.binding.options import Candidates, Choice, Reason, fmt_list, fmt_ms, fmt_num
from agentos_contracts.binding.predicate import Bound
from agentos_contracts.model.contract import HrtSlo, SrtSlo
from agentos_contracts.sched.result import Verdict


@dataclass(frozen=True, slots=True, kw_only=True)
class Timing:
    """The SRT figures of a chosen binding (exact ns), for evidence and the exact re-check."""

    onset_ns: int
    tools_ns: int
    output_ns: Fraction

    @property
    def turn_ns(self) -> Fraction:
        return self.onset_ns + self.tools_ns + self.output_ns


def timing(choice: Choice, overhead_ns: int) -> Timing:
    tools = sum(o.tool.rtt_ns_p95 for o in choice.tools)
    if choice.model is None:
        return Timing(onset_ns=overhead_ns, tools_ns=tools, output_ns=Fraction(0))
    return Timing(onset_ns=choice.model.onset_ns, tools_ns=tools, output_ns=choice.model.output_ns)


def turn_problem(c: Candidates, choice: Choice) -> Reason | None:
    """The exact SRT turn check for the chosen model and tool deployments."""
    slo = c.unit.contract.slo
    if not isinstance(slo, SrtSlo) or slo.turn_ns is None or choice.model is None:
        return None
    t = timing(choice, 0)
    if t.turn_ns <= slo.turn_ns:
        return None
    m = choice.model
    return reason("AC507", "/class/slo/turn_ms", name=c.unit.label, total=fmt_ms(t.turn_ns), limit=fmt_ms(slo.turn_ns),
                  detail=turn_detail(t.onset_ns, t.tools_ns, c.unit.contract.max_output_tokens, m.model, t.output_ns))


def not_optimal_message(objective: str) -> str:
    return ("the solver stopped at the time limit: bindings are feasible (every constraint re-checked exactly) "
            f"but not proven {objective}-optimal")


def unknown_reason(c: Candidates, why: str) -> Reason:
    return reason("AC512", name=c.unit.label, reason=why or "the solver found no answer")


def group_reason(c: Candidates) -> Reason:
    """For a workflow step that is fine itself while another step of its workflow is not."""
    return reason("AC519", name=c.unit.label, detail="another step of its workflow cannot be admitted")


def explain_unit(c: Candidates, ledger: Ledger, undecided: set[str] | frozenset[str] = frozenset()) -> list[Reason]:
    """Why ``c`` does not fit into what ``ledger`` leaves free, slot by slot, with the numbers."""
    label = c.unit.label
    out: list[Reason] = []
    if c.models and c.tokens_per_min:
        fits = [m for m in c.models if _free(ledger, m.model.ident) >= c.tokens_per_min]
        if not fits:
            for m in c.models:
                cap = m.model.capacity_tokens_per_min
                out.append(reason("AC509", name=label, model=m.label, need=fmt_num(c.tokens_per_min),
                                  free=fmt_num(max(_free(ledger, m.model.ident), 0)), capacity=fmt_num(cap or 0),
                                  taken=ledger.taken_by("tokens", m.model.ident)))
    nodes = [o.node for o in c.nodes] + list(dict.fromkeys(o.node for o in c.cores))
    roomy = [n for n in nodes if _room(ledger, n.name, c)]
    cores = _hrt(c, ledger, undecided) if c.cores else []
    out += cores
    if nodes and not roomy and not cores:
        shown = "; ".join(f"`{n.name}` has {fmt_num(ledger.free_cpu(n.name))}m and {mem_text(ledger.free_mem(n.name))} free"
                          f"{ledger.taken_by('node', n.name)}" for n in nodes[:3])
        more = f"; and {len(nodes) - 3} more nodes" if len(nodes) > 3 else ""
        out.append(reason("AC510", "/compute", name=label,
                          detail=f"needs {fmt_num(c.cpu_mc)}m CPU and {mem_text(c.mem_bytes)} memory: {shown}{more}"))
    if not out:
        out.append(reason("AC519", name=label, detail="no combination of the capacity left fits it together with "
                                                      "the contracts admitted before it"))
    return out


def _free(ledger: Ledger, ident: str) -> int | Fraction:
    free = ledger.free_tokens(ident)
    return 10**18 if free is None else free


def _room(ledger: Ledger, node: str, c: Candidates) -> bool:
    mem = ledger.free_mem(node)
    return ledger.free_cpu(node) >= c.cpu_mc and (mem is None or mem >= c.mem_bytes)


def _hrt(c: Candidates, ledger: Ledger, undecided: set[str] | frozenset[str]) -> list[Reason]:
    """The exact test on every eligible core; the closest failure, or nothing if some core fits."""
    task = c.task
    assert task is not None
    failures = []
    for o in c.cores:
        others = ledger.tasks.get((o.node.name, o.core), [])
        result = hrt.check_core(others + [task], o.node.scheduler, o.core, full=True)
        if result.verdict is Verdict.SCHEDULABLE:
            return []  # it fits there: the rejection is about another slot
        mine = next((r for r in result.tasks if r.name == task.name), None)
        over = mine.response_time_ns if mine is not None and mine.response_time_ns is not None else 10**18
        failures.append((over, o, others + [task], result))
    if not failures:
        return []
    failures.sort(key=lambda f: (f[0], f[1].rank))
    _, o, tasks, result = failures[0]
    others = tasks[:-1]
    detail = f"{hrt.core_failure(task, tasks, result)} on {o.node.name} core {o.core} ({o.node.scheduler})"
    hints = []
    bound = hrt.max_wcet_ns(task, others, o.node.scheduler)
    lower = hrt_lower_bound(c)  # the bindings' own p95s: a wcet_ms below them is not a fix
    if bound is not None and bound > 0 and (lower is None or bound >= lower[0]):
        hints.append(f"wcet_ms ≤ {fmt_ms(bound)}" + (f" (and ≥ {lower[1]})" if lower else ""))
    elif bound is not None and lower is not None:
        detail += f"; no wcet_ms fits this core: it allows ≤ {fmt_ms(bound)}, the bindings need ≥ {lower[1]}"
    placements = fmt_list(sorted({x.node.placement for x in c.cores}))
    hints.append(f"on one more free core of placement {placements}")
    detail += "; fits if " + " or ".join(hints)
    if len(failures) > 1:
        detail += f" (fails on all {len(failures)} eligible cores)"
    if c.unit.key in undecided:
        detail += "; the exact test could not decide some cores within its limits"
    return [reason("AC511", "/class/slo", name=c.unit.label, detail=detail)]


def choice_warnings(c: Candidates, choice: Choice) -> list[Reason]:
    """What an admitted binding should tell its author: a capped context, a canary with nothing to roll back to."""
    out: list[Reason] = []
    contract = c.unit.contract
    if choice.model is None:
        return out
    m = choice.model.model
    name = f"{m.name}@{m.version_text}"
    if contract.max_context_tokens is not None and m.max_context_tokens is not None \
            and m.max_context_tokens < contract.max_context_tokens:
        out.append(reason("AC533", "/modelPolicy/max_context_tokens", name=c.unit.label, model=name,
                          have=m.max_context_tokens, want=contract.max_context_tokens))
    if contract.binding.canary is not None and name not in c.previous:
        out.append(reason("AC532", "/binding/canary", name=c.unit.label, model=name))
    return out


def step_time_ns(c: Candidates, choice: Choice, ev: hrt.CoreEvidence | None) -> int | Fraction | None:
    """A workflow step's time bound with its chosen binding: SRT turn, HRT response time, DT deadline."""
    slo = c.unit.contract.slo
    if isinstance(slo, SrtSlo):
        return timing(choice, 0).turn_ns if choice.model is not None else None
    if isinstance(slo, HrtSlo):
        return ev.response_time_ns if ev is not None and ev.response_time_ns is not None else slo.deadline_ns
    return slo.deadline_ns


def evidence_json(b: Bound, overhead_ns: int) -> dict[str, Any]:
    """The figures behind an admission, for the JSON report (ms, rounded to the microsecond)."""
    c, choice = b.candidates, b.choice
    slo = c.unit.contract.slo
    out: dict[str, Any] = {}
    if isinstance(slo, SrtSlo) and choice.model is not None:
        t = timing(choice, overhead_ns)
        out = {"onset_ms": _ms(t.onset_ns), "turn_ms": _ms(t.turn_ns)}
    elif isinstance(slo, HrtSlo) and b.evidence is not None:
        ev = b.evidence
        out = {"scheduler": ev.scheduler, "response_time_ms": None if ev.response_time_ns is None else _ms(ev.response_time_ns),
               "deadline_ms": _ms(ev.deadline_ns), "utilization": ev.utilization}
    if c.tokens_per_min and choice.model is not None:
        out["tokens_per_min"] = _number(c.tokens_per_min)
    return out


def _number(value: int | Fraction) -> int | float:
    """A report figure (not a verdict): whole numbers exact, others rounded to 6 decimals."""
    f = round(Fraction(value), 6)
    return int(f) if f.denominator == 1 else float(f)


def _ms(ns: int | Fraction) -> float | int:
    value = round(Fraction(ns) / 1_000_000, 6)
    return int(value) if value.denominator == 1 else float(value)
