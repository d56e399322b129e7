"""Apply the paper-to-canonical rules to one round-trip YAML document, in place.

Works on ruamel.yaml's round-trip nodes (dict and list subclasses that remember comments,
key order, flow style and source lines), so what the author wrote survives: a moved key
takes its comments along, untouched keys stay where they were. Every rewrite is logged
as a ``Change`` at the original line; what cannot be carried over becomes a ``Problem``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from agentos_contracts.migrate import rules


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One rewrite, at the line and column (from 1) of what it rewrote in the original text."""

    line: int
    column: int
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message}


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """Something left as it was because it has no exact canonical form: ``code`` is AC051–AC053."""

    line: int
    column: int
    code: str
    args: dict[str, Any]


@dataclass(slots=True)
class Migration:
    """One document's rewrite: the rewritten node, the log, and generated side files."""

    kind: str
    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    generated: dict[str, str] = field(default_factory=dict)  # file name (next to the source) -> text
    moved: list[tuple[str, str]] = field(default_factory=list)  # (new pointer prefix, old pointer prefix)

    def old_pointer(self, new: str) -> str:
        """Where a pointer into the rewritten document came from in the original."""
        best = ("", "")
        for new_prefix, old_prefix in self.moved:
            if (new == new_prefix or new.startswith(new_prefix + "/")) and len(new_prefix) > len(best[0]):
                best = (new_prefix, old_prefix)
        return best[1] + new[len(best[0]):] if best[0] else new


def _at(node: Any, key: Any) -> tuple[int, int]:
    """1-based (line, column) of a mapping key or list item in the original text; (1, 1) if unknown."""
    try:
        line, col = node.lc.key(key) if isinstance(node, CommentedMap) else node.lc.item(key)
        return line + 1, col + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return 1, 1


def _value_at(node: CommentedMap, key: Any) -> tuple[int, int]:
    try:
        line, col = node.lc.value(key)
        return line + 1, col + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return _at(node, key)


class _Rewriter:
    def __init__(self, migration: Migration) -> None:
        self.m = migration

    def change(self, where: tuple[int, int], message: str) -> None:
        self.m.changes.append(Change(line=where[0], column=where[1], message=message))

    def problem(self, where: tuple[int, int], code: str, **args: Any) -> None:
        self.m.problems.append(Problem(line=where[0], column=where[1], code=code, args=args))

    # -- mapping surgery that keeps comments -------------------------------------------------
    def rename(self, node: CommentedMap, old: str, new: str, *, old_ptr: str, new_ptr: str) -> None:
        pos = list(node).index(old)
        comment = node.ca.items.pop(old, None)
        value = node.pop(old)
        node.insert(pos, new, value)
        if comment:
            node.ca.items[new] = comment
        self.m.moved.append((new_ptr, old_ptr))

    def move(self, src: CommentedMap, key: str, dst: CommentedMap, new_key: str | None = None) -> None:
        comment = src.ca.items.pop(key, None)
        dst[new_key or key] = src.pop(key)
        if comment:
            dst.ca.items[new_key or key] = comment

    def child_map(self, node: CommentedMap, key: str, at: int) -> CommentedMap:
        """``node[key]``, created as an empty mapping at position ``at`` when absent."""
        existing = node.get(key)
        if isinstance(existing, CommentedMap):
            return existing
        child = CommentedMap()
        node.insert(min(at, len(node)), key, child)
        return child

    def begin(self, doc: CommentedMap, name_key: str, why: str) -> None:
        """The header, and the paper's naming key (``agent``/``workflow``) as ``name``."""
        kind = self.m.kind
        doc.insert(0, "apiVersion", rules.API_VERSION)
        doc.insert(1, "kind", kind)
        self.change((1, 1), f"added `apiVersion: {rules.API_VERSION}` and `kind: {kind}`")
        if name_key in doc and "name" not in doc:
            self.change(_at(doc, name_key), why)
            self.rename(doc, name_key, "name", old_ptr=f"/{name_key}", new_ptr="/name")

    # -- value rewrites ----------------------------------------------------------------------
    def refs(self, node: Any, key: Any, where_ptr: str) -> None:
        """Rewrite paper refs (``x_v2..v3``) in ``node[key]``, a string or a list of strings."""
        value = node[key]
        if isinstance(value, CommentedSeq):
            for i, item in enumerate(value):
                new = rules.canonical_ref(item)
                if new is not None:
                    self.change(_at(value, i), f"ref `{item}` is `{new}` ({where_ptr})")
                    value[i] = new
        else:
            new = rules.canonical_ref(value)
            if new is not None:
                self.change(_value_at(node, key), f"ref `{value}` is `{new}` ({where_ptr})")
                node[key] = new

    def requirement(self, req: Any, ptr: str, *, refs: bool = True) -> None:
        """``must``/``prefer``/``substitute`` maps: placement shorthand and (paper form) model refs."""
        if not isinstance(req, CommentedMap):
            return
        if "placement" in req:
            new = rules.canonical_placement(req["placement"])
            if new is not None:
                self.change(_value_at(req, "placement"), f"placement `{req['placement']}` is `[edge]`")
                seq = CommentedSeq(new)
                seq.fa.set_flow_style()
                req["placement"] = seq
        if refs and "model" in req:
            self.refs(req, "model", f"{ptr}/model")

    def quantities(self, node: Any, keys: frozenset[str], ptr: str) -> None:
        if not isinstance(node, CommentedMap):
            return
        for key in list(node):
            if key in keys and isinstance(node[key], str):
                number = rules.expand_shorthand(node[key])
                if number is None:
                    self.problem(_value_at(node, key), "AC052", key=key, value=node[key])
                else:
                    self.change(_value_at(node, key), f"`{key}: {node[key]}` is `{number}`")
                    node[key] = number

    def slos(self, src: CommentedMap, cls: CommentedMap, src_ptr: str) -> None:
        """Move flat SLO keys into ``class.slo``; a placeholder that is no number stays and is reported."""
        present = [k for k in rules.SLO_KEYS if k in src]
        if not present:
            return
        slo = self.child_map(cls, "slo", len(cls))
        self.m.moved.append((f"{src_ptr}/class/slo", f"{src_ptr}/{present[0]}"))
        for key in present:
            where = _at(src, key)
            value = src[key]
            if isinstance(value, str) and rules.expand_shorthand(value) is None:
                self.problem(_value_at(src, key), "AC052", key=key, value=value)
            self.move(src, key, slo)
            self.change(where, f"`{key}` moved to `class.slo.{key}`")
            self.m.moved.append((f"{src_ptr}/class/slo/{key}", f"{src_ptr}/{key}"))


def migrate_contract(doc: CommentedMap) -> Migration:
    """A paper-form (or older canonical) AgentContract, rewritten in place."""
    m = Migration(kind="AgentContract")
    r = _Rewriter(m)
    r.begin(doc, "agent", "`agent` is `name`")
    _contract_body(r, doc, "")
    binding_at = min((list(doc).index(k) for k in (*rules.BINDING_KEYS, "bind") if k in doc), default=len(doc))
    moved_binding = [k for k in rules.BINDING_KEYS if k in doc]
    fallbacks_at = _at(doc, "allow_fallbacks") if "allow_fallbacks" in doc else None
    if moved_binding or "bind" in doc:
        binding = r.child_map(doc, "binding", binding_at)
        m.moved.append(("/binding", "/" + (moved_binding[0] if moved_binding else "bind")))
        if "bind" in doc:
            r.change(_at(doc, "bind"), "`bind` is `binding.mode`")
            r.move(doc, "bind", binding, "mode")
            binding.move_to_end("mode", last=False)
            m.moved.append(("/binding/mode", "/bind"))
        for key in moved_binding:
            r.change(_at(doc, key), f"`{key}` moved under `binding`")
            r.move(doc, key, binding)
            m.moved.append((f"/binding/{key}", f"/{key}"))
    binding = doc.get("binding")
    if isinstance(binding, CommentedMap):
        _requirements(r, binding, refs=True)
        fallbacks = binding.get("allow_fallbacks")
        if fallbacks is not None and "mode" not in binding:
            binding.insert(0, "mode", "flexible")
            r.change(fallbacks_at or _at(binding, "allow_fallbacks"),
                     "`binding.mode: flexible` added: only flexible binding may use `allow_fallbacks`")
    policy = doc.get("modelPolicy")
    if isinstance(policy, CommentedMap) and "allow" in policy:
        r.refs(policy, "allow", "/modelPolicy/allow")
    for key in list(doc):
        if key not in rules.CONTRACT_KEYS:
            r.problem(_at(doc, key), "AC051", key=key, kind="AgentContract")
    return m


def _requirements(r: _Rewriter, binding: CommentedMap, *, refs: bool) -> None:
    for key in ("must", "prefer"):
        r.requirement(binding.get(key), f"/binding/{key}", refs=refs)
    fallbacks = binding.get("allow_fallbacks")
    if isinstance(fallbacks, CommentedSeq):
        for i, fb in enumerate(fallbacks):
            if isinstance(fb, CommentedMap):
                r.requirement(fb.get("substitute"), f"/binding/allow_fallbacks/{i}/substitute", refs=refs)


def tidy_canonical(doc: CommentedMap) -> Migration:
    """A canonical AgentContract: rewrite only the shorthand ``validate`` warns about (``edge-only``)."""
    m = Migration(kind="AgentContract")
    binding = doc.get("binding")
    if isinstance(binding, CommentedMap):
        _requirements(_Rewriter(m), binding, refs=False)
    return m


def _contract_body(r: _Rewriter, node: CommentedMap, ptr: str) -> None:
    """Rules shared by contracts and step contracts: latency class, SLOs, budgets."""
    if "latency_class" in node:
        at = list(node).index("latency_class")
        where = _at(node, "latency_class")
        cls = r.child_map(node, "class", at)
        if "latency" in cls:
            r.problem(where, "AC051", key="latency_class", kind="contract (class.latency is set too)")
        else:
            comment = node.ca.items.pop("latency_class", None)
            cls.insert(0, "latency", node.pop("latency_class"))
            if comment:
                cls.ca.items["latency"] = comment
            r.change(where, "`latency_class` is `class.latency`")
            r.m.moved.append((f"{ptr}/class/latency", f"{ptr}/latency_class"))
            r.m.moved.append((f"{ptr}/class", f"{ptr}/latency_class"))
    if any(k in node for k in rules.SLO_KEYS):
        cls = r.child_map(node, "class", len(node))
        r.slos(node, cls, ptr)
    r.quantities(node.get("budgets"), rules.BUDGET_KEYS, f"{ptr}/budgets")


def migrate_workflow(doc: CommentedMap, *, file_stem: str) -> Migration:
    """The paper's ``workflow:`` form, rewritten in place; inline step policies become files."""
    m = Migration(kind="Workflow")
    r = _Rewriter(m)
    r.begin(doc, "workflow", "`workflow` is `kind: Workflow` with `name`")
    name = str(doc.get("name", file_stem))
    steps = doc.get("steps")
    if isinstance(steps, CommentedSeq):
        for i, step in enumerate(steps):
            if isinstance(step, CommentedMap):
                _step(r, step, f"/steps/{i}", name, file_stem)
        if "inputs" not in doc:
            _infer_inputs(r, doc, steps)
    for key in list(doc):
        if key not in rules.WORKFLOW_KEYS:
            r.problem(_at(doc, key), "AC051", key=key, kind="Workflow")
    return m


def _step(r: _Rewriter, step: CommentedMap, ptr: str, workflow: str, file_stem: str) -> None:
    contract = step.get("contract")
    if not isinstance(contract, CommentedMap):
        return
    _contract_body(r, contract, f"{ptr}/contract")
    inline = contract.get("policies")
    if isinstance(inline, CommentedMap):
        where = _at(contract, "policies")
        step_id = str(step.get("id", ptr.rsplit("/", 1)[-1]))
        text, left = rules.policy_source(workflow, step_id, where[0], inline)
        for key in left:
            r.problem(_at(inline, key), "AC051", key=f"policies.{key}", kind="policy file")
        file = f"{file_stem}.{step_id}.policy"
        r.m.generated[file] = text
        seq = CommentedSeq([file])
        seq.fa.set_flow_style()
        contract["policies"] = seq
        r.change(where, f"inline `policies` of step `{step_id}` written to `{file}` (ALLOW/DENY rules)")


def _infer_inputs(r: _Rewriter, doc: CommentedMap, steps: CommentedSeq) -> None:
    """``inputs``: the names steps read that no step writes, with the type the first reader gives."""
    produced = {n for s in steps if isinstance(s, CommentedMap) and isinstance(s.get("out"), dict)
                for n in s["out"]}
    inputs = CommentedMap()
    for s in steps:
        reads = s.get("in") if isinstance(s, CommentedMap) else None
        if not isinstance(reads, CommentedMap):
            continue
        for n, t in reads.items():
            if n in produced or n in inputs:
                continue
            if t is None:
                r.problem(_at(reads, n), "AC052", key=f"in.{n}", value="(no type)")
                continue
            inputs[n] = t
    if inputs:
        inputs.fa.set_flow_style()
        doc.insert(list(doc).index("steps"), "inputs", inputs)
        first = steps[0] if steps and isinstance(steps[0], CommentedMap) else None
        r.change(_at(first, "in") if first is not None and "in" in first else (1, 1),
                 "`inputs` added: " + ", ".join(f"`{n}: {t}`" for n, t in inputs.items())
                 + " (read by steps, written by none)")
