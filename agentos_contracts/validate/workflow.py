"""Workflow checks: unique steps, typed data edges, an acyclic step graph, narrower-only
step overrides, HITL gates that say what they approve, and a deadline that covers
the critical path. networkx is imported here only, and only when a workflow is checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterator, Mapping

from agentos_contracts.diagnostics import Diagnostic
from agentos_contracts.documents.loader import Document
from agentos_contracts.model import units
from agentos_contracts.validate.contract import action_covered, fmt_ms, is_number, mapping, str_list

STRING_LIKE = frozenset({"markdown", "html", "uri"})
MODE_ORDER = {"strict": 0, "smooth": 1, "flexible": 2}
# strictness of latency classes: a step may move towards HRT, never away from it
LATENCY_ORDER = {"HRT": 0, "SRT": 1, "DT": 2}
HITL = "HITL_approval"


@dataclass(frozen=True, slots=True)
class Producer:
    step: str | None  # None: the workflow's `inputs`
    type: Any
    pointer: str


def type_text(t: Any) -> str:
    return f"[{t[0]}]" if isinstance(t, list) and t else str(t)


def is_compatible(have: Any, want: Any) -> bool:
    """``markdown``, ``html`` and ``uri`` may feed ``string``; lists compare by element."""
    if isinstance(have, list) and isinstance(want, list) and have and want:
        return is_compatible(have[0], want[0])
    if isinstance(have, list) or isinstance(want, list):
        return False
    return have == want or (want == "string" and have in STRING_LIKE)


def steps_of(doc: Document) -> list[tuple[int, dict[str, Any]]]:
    steps = doc.data.get("steps")
    if not isinstance(steps, list):
        return []
    return [(i, s) for i, s in enumerate(steps) if isinstance(s, dict) and isinstance(s.get("id"), str)]


def check_workflow(doc: Document, contracts: dict[str, Document] | None = None) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    steps = steps_of(doc)
    seen: dict[str, int] = {}
    unique: list[tuple[int, dict[str, Any]]] = []
    for i, step in steps:
        sid = step["id"]
        if sid in seen:
            out.append(doc.diag("AC200", f"/steps/{i}/id", id=sid, first_line=doc.span(f"/steps/{seen[sid]}/id").line))
            continue
        seen[sid] = i
        unique.append((i, step))
    out.extend(_step_kinds(doc, unique))
    producers, prod_diags = _producers(doc, unique)
    out.extend(prod_diags)
    edges, edge_diags = _data_edges(doc, unique, producers)
    out.extend(edge_diags)
    cycle = _cycle(unique, edges)
    if cycle:
        i = seen[cycle[0]]
        out.append(doc.diag("AC201", f"/steps/{i}", cycle=" -> ".join(f"`{s}`" for s in cycle + [cycle[0]])))
    if contracts is not None:
        out.extend(_overrides(doc, unique, contracts))
    if not cycle:
        out.extend(_critical_path(doc, unique, edges, contracts or {}))
    return out


def _step_kinds(doc: Document, steps: list[tuple[int, dict[str, Any]]]) -> Iterator[Diagnostic]:
    for i, step in steps:
        if step.get("type") == HITL:
            consent = mapping(step, "policy").get("consent_for")
            if not str_list(consent):
                yield doc.diag("AC205", f"/steps/{i}", at_key=True, step=step["id"])
        elif "agent" not in step:
            yield doc.diag("AC209", f"/steps/{i}", at_key=True, step=step["id"])


def data_edges(data: Mapping[str, Any]) -> set[tuple[str, str]]:
    """Producer → consumer step pairs of a (valid) workflow document, for the model builder."""
    producers = {name: None for name in mapping(data, "inputs")}
    for step in data.get("steps") or []:
        for name in mapping(step, "out"):
            producers.setdefault(name, step.get("id"))
    return {(producers[name], step["id"]) for step in data.get("steps") or []
            for name in mapping(step, "in") if producers.get(name) not in (None, step.get("id"))}


def _producers(doc: Document, steps: list[tuple[int, dict[str, Any]]]) -> tuple[dict[str, Producer], list[Diagnostic]]:
    producers: dict[str, Producer] = {}
    diags: list[Diagnostic] = []
    for name, t in mapping(doc.data, "inputs").items():
        producers[name] = Producer(None, t, f"/inputs/{name}")
    for i, step in steps:
        for name, t in mapping(step, "out").items():
            here = f"/steps/{i}/out/{name}"
            if name in producers:
                first = producers[name]
                diags.append(doc.diag("AC207", here, at_key=True, name=name,
                                      first="workflow inputs" if first.step is None else f"step `{first.step}`",
                                      second=f"step `{step['id']}`"))
                continue
            producers[name] = Producer(step["id"], t, here)
    return producers, diags


def _data_edges(
    doc: Document, steps: list[tuple[int, dict[str, Any]]], producers: dict[str, Producer]
) -> tuple[set[tuple[str, str]], list[Diagnostic]]:
    edges: set[tuple[str, str]] = set()
    diags: list[Diagnostic] = []
    for i, step in steps:
        for name, want in mapping(step, "in").items():
            here = f"/steps/{i}/in/{name}"
            prod = producers.get(name)
            if prod is None or prod.step == step["id"]:
                outs = sorted(producers)
                from agentos_contracts.validate.suggest import did_you_mean

                hint = did_you_mean(name, outs) or "add it to the workflow's `inputs` or to an earlier step's `out`"
                diags.append(doc.diag("AC202", here, at_key=True, step=step["id"], name=name, hint=hint))
                continue
            if want is not None and not is_compatible(prod.type, want):
                diags.append(doc.diag("AC203", here, step=step["id"], name=name,
                                      want=type_text(want), have=type_text(prod.type)))
            if prod.step is not None:
                edges.add((prod.step, step["id"]))
    return edges, diags


def _cycle(steps: list[tuple[int, dict[str, Any]]], edges: set[tuple[str, str]]) -> list[str]:
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(s["id"] for _, s in steps)
    g.add_edges_from(sorted(edges))
    try:
        found = nx.find_cycle(g)
    except nx.NetworkXNoCycle:
        return []
    return [u for u, _ in found]


def _overrides(doc: Document, steps: list[tuple[int, dict[str, Any]]], contracts: dict[str, Document]) -> Iterator[Diagnostic]:
    for i, step in steps:
        agent = step.get("agent")
        if not isinstance(agent, str) or agent not in contracts:
            continue
        base = contracts[agent].data
        over = mapping(step, "contract")
        here = f"/steps/{i}/contract"
        caps = {c for _, c in str_list(base.get("capabilities"))} | {
            c for _, c in str_list(mapping(base, "security").get("consent_for"))}
        for j, cap in str_list(over.get("capabilities")):
            if not action_covered(cap, caps):
                yield doc.diag("AC204", f"{here}/capabilities/{j}", step=step["id"],
                               what=f"capability `{cap}` is not in agent `{agent}`'s capabilities")
        want, have = mapping(over, "class").get("latency"), mapping(base, "class").get("latency")
        if want in LATENCY_ORDER and have in LATENCY_ORDER and LATENCY_ORDER[want] > LATENCY_ORDER[have]:
            yield doc.diag("AC204", f"{here}/class/latency", step=step["id"],
                           what=f"latency class `{want}` is looser than the agent's `{have}`")
        if "consent_for" in mapping(over, "security"):
            mine = {c for _, c in str_list(mapping(over, "security").get("consent_for"))}
            for c in sorted(c for _, c in str_list(mapping(base, "security").get("consent_for")) if c not in mine):
                yield doc.diag("AC204", f"{here}/security/consent_for", step=step["id"],
                               what=f"drops consent for `{c}`")
        for key, limit in mapping(over, "budgets").items():
            own = mapping(base, "budgets").get(key)
            if is_number(limit) and is_number(own) and limit > own:
                yield doc.diag("AC204", f"{here}/budgets/{key}", step=step["id"],
                               what=f"budget `{key}` {fmt_ms(limit)} exceeds the agent's {fmt_ms(own)}")
        yield from _tighter_limits(doc, step, here, base, over)
        bind = step.get("bind")
        mode = mapping(base, "binding").get("mode", "strict")
        if bind in MODE_ORDER and mode in MODE_ORDER and MODE_ORDER[bind] > MODE_ORDER[mode]:
            yield doc.diag("AC210", f"/steps/{i}/bind", step=step["id"], bind=bind, mode=mode)


# SLO targets where a smaller number is the stricter promise (HRT `jitter_ms` is release
# jitter, an input to the analysis, and `tokens_per_hour` a demand: neither is a target)
DEFAULT_MAX_OUTPUT = 256  # documents.md: `max_output_tokens` (default 256)
SLO_TARGETS = ("onset_ms", "turn_ms", "jitter_p95_pct", "deadline_ms", "deadline_s")


def _tighter_limits(doc: Document, step: dict[str, Any], here: str, base: Mapping[str, Any],
                    over: Mapping[str, Any]) -> Iterator[Diagnostic]:
    """SLO targets, token limits and the binding mode an override may only tighten."""
    b_cls, o_cls = mapping(base, "class"), mapping(over, "class")
    if o_cls.get("latency", b_cls.get("latency")) == b_cls.get("latency"):
        b_slo, o_slo = mapping(b_cls, "slo"), mapping(o_cls, "slo")
        for key in SLO_TARGETS:
            mine, own = o_slo.get(key), b_slo.get(key)
            if is_number(mine) and is_number(own) and mine > own:
                yield doc.diag("AC204", f"{here}/class/slo/{key}", step=step["id"],
                               what=f"`{key}` {fmt_ms(mine)} is looser than the agent's {fmt_ms(own)}")
    for key, default in (("max_context_tokens", None), ("max_output_tokens", DEFAULT_MAX_OUTPUT)):
        mine, own = mapping(over, "modelPolicy").get(key), mapping(base, "modelPolicy").get(key, default)
        if is_number(mine) and is_number(own) and mine > own:
            yield doc.diag("AC204", f"{here}/modelPolicy/{key}", step=step["id"],
                           what=f"`{key}` {fmt_ms(mine)} exceeds the agent's {fmt_ms(own)}")
    for key, parse in (("cpu", units.parse_millicores), ("mem", units.parse_bytes)):
        mine, own = mapping(over, "compute").get(key), mapping(base, "compute").get(key)
        try:
            looser = mine is not None and own is not None and parse(mine) > parse(own)
        except units.UnitError:
            looser = False  # a bad quantity is AC126 (partial.py, or the agent's own file)
        if looser:
            yield doc.diag("AC204", f"{here}/compute/{key}", step=step["id"],
                           what=f"`compute.{key}` `{mine}` exceeds the agent's `{own}`")
    mode, own_mode = mapping(over, "binding").get("mode"), mapping(base, "binding").get("mode", "strict")
    if mode in MODE_ORDER and own_mode in MODE_ORDER and MODE_ORDER[mode] > MODE_ORDER[own_mode]:
        yield doc.diag("AC204", f"{here}/binding/mode", step=step["id"],
                       what=f"binding mode `{mode}` is looser than the agent's `{own_mode}`")


def step_time_ns(step: dict[str, Any], contracts: Mapping[str, Mapping[str, Any]]) -> int | None:
    """A step's turn time: its own `turn_ms`/`deadline_ms`, its override's SLO, else its agent's.

    ``contracts`` maps agent names to contract document data.
    """
    if step.get("type") == HITL:
        return 0
    slos = [step, mapping(step, "contract", "class", "slo")]
    agent = step.get("agent")
    if isinstance(agent, str) and agent in contracts:
        slos.append(mapping(contracts[agent], "class", "slo"))
    for slo in slos:
        for key in ("turn_ms", "deadline_ms"):
            v = slo.get(key)
            if is_number(v) and v > 0:
                try:
                    return units.ms_to_ns(v)
                except units.UnitError:
                    return None
        if "deadline_s" in slo and is_number(slo["deadline_s"]):
            return int(Fraction(units.to_fraction(slo["deadline_s"])) * units.NS_PER_S)
    return None


def _critical_path(
    doc: Document, steps: list[tuple[int, dict[str, Any]]], edges: set[tuple[str, str]], contracts: dict[str, Document]
) -> Iterator[Diagnostic]:
    deadline = doc.data.get("deadline_ms")
    if not is_number(deadline):
        return
    import networkx as nx

    data = {name: doc.data for name, doc in contracts.items()}
    times = {s["id"]: step_time_ns(s, data) for _, s in steps}
    g = nx.DiGraph()
    g.add_nodes_from(times)
    g.add_edges_from(sorted(edges))
    # longest path by node weight; unknown times count 0, so the sum is a lower bound
    best: dict[str, tuple[int, list[str]]] = {}
    for n in nx.lexicographical_topological_sort(g):
        preds = [best[p] for p in g.predecessors(n)]
        base = max(preds, key=lambda x: x[0]) if preds else (0, [])
        best[n] = (base[0] + (times[n] or 0), base[1] + [n])
    if not best:
        return
    total, path = max(best.values(), key=lambda x: x[0])
    if _exact_ok(deadline) and total > units.ms_to_ns(deadline):
        yield doc.diag("AC206", "/deadline_ms", deadline=fmt_ms(deadline), path_ms=units.ns_to_ms_text(total),
                       route=" -> ".join(f"`{s}`" for s in path))


def _exact_ok(v: Any) -> bool:
    try:
        units.ms_to_ns(v)
        return True
    except units.UnitError:
        return False
