"""Semantic checks on AgentContracts: one function and one code per rule.

They run after the schema check and tolerate wrong types (the schema already said
so): each check looks only at values of the type it needs.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Callable, Iterator

from agentos_contracts.diagnostics import Diagnostic
from agentos_contracts.documents.loader import Document
from agentos_contracts.model import units

ACTION_RE = re.compile(r"^(\*|[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z][A-Za-z0-9_-]*)*(\.\*)?)$")
HRT_KEYS = ("wcet_ms", "period_ms", "deadline_ms", "jitter_ms", "blocking_ms")
SRT_KEYS = ("onset_ms", "turn_ms", "jitter_p95_pct")
DT_KEYS = ("tokens_per_hour", "deadline_s")
DURATIONS_MS = HRT_KEYS + ("onset_ms", "turn_ms")
BINDING_REF_KEYS = ("model", "tools")

Check = Callable[[Document], Iterator[Diagnostic]]


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def mapping(data: Any, *keys: str) -> dict[str, Any]:
    """The mapping at ``keys`` or {} when absent or not a mapping."""
    cur = data
    for k in keys:
        cur = cur.get(k) if isinstance(cur, dict) else None
    return cur if isinstance(cur, dict) else {}


def str_list(value: Any) -> list[tuple[int | None, str]]:
    """A string or list of strings as (index, value) pairs; index None for a lone string."""
    if isinstance(value, str):
        return [(None, value)]
    if isinstance(value, list):
        return [(i, v) for i, v in enumerate(value) if isinstance(v, str)]
    return []


def fmt_ms(v: Any) -> str:
    return str(int(v)) if is_number(v) and float(v).is_integer() else str(v)


# --- latency class -------------------------------------------------------------

def check_slo(doc: Document) -> Iterator[Diagnostic]:
    cls = mapping(doc.data, "class")
    latency = cls.get("latency")
    slo = mapping(doc.data, "class", "slo")
    base = "/class/slo"
    for key in DURATIONS_MS:
        v = slo.get(key)
        if is_number(v):
            try:
                units.ms_to_ns(v)
            except units.UnitError:
                yield doc.diag("AC125", f"{base}/{key}", field=key,
                               message=None if math.isfinite(v) else f"`{key}` is not a finite number")
    for key in ("wcet_ms", "period_ms", "deadline_ms", "onset_ms", "turn_ms", "tokens_per_hour", "deadline_s"):
        v = slo.get(key)
        if is_number(v) and v <= 0:
            yield doc.diag("AC117", f"{base}/{key}", field=key, value=fmt_ms(v))
    for key in ("jitter_ms", "blocking_ms", "jitter_p95_pct"):
        v = slo.get(key)
        if is_number(v) and v < 0:
            yield doc.diag("AC130", f"{base}/{key}", field=key, value=fmt_ms(v))
    if latency == "HRT":
        yield from _hrt(doc, slo)
    elif latency == "SRT":
        onset, turn = slo.get("onset_ms"), slo.get("turn_ms")
        if is_number(onset) and is_number(turn) and onset > turn:
            yield doc.diag("AC115", f"{base}/onset_ms", onset=fmt_ms(onset), turn=fmt_ms(turn))
    elif latency == "DT":
        if "tokens_per_hour" not in slo and "deadline_s" not in slo:
            where = base if "slo" in cls else "/class"
            yield doc.diag("AC116", where, at_key=True)
    if latency in ("HRT", "SRT", "DT"):
        own = {"HRT": HRT_KEYS, "SRT": SRT_KEYS, "DT": DT_KEYS}[latency]
        for key in slo:
            if key not in own and key in HRT_KEYS + SRT_KEYS + DT_KEYS:
                yield doc.diag("AC133", f"{base}/{key}", at_key=True, field=key, latency=latency,
                               expected=", ".join(f"`{k}`" for k in own))


def _hrt(doc: Document, slo: dict[str, Any]) -> Iterator[Diagnostic]:
    base = "/class/slo"
    where = base if mapping(doc.data, "class").get("slo") is not None else "/class"
    wcet, period, deadline = slo.get("wcet_ms"), slo.get("period_ms"), slo.get("deadline_ms")
    jitter = slo.get("jitter_ms")
    if "wcet_ms" not in slo:
        yield doc.diag("AC110", where, at_key=True)
    if "period_ms" not in slo and "deadline_ms" not in slo:
        yield doc.diag("AC111", where, at_key=True)
    eff_deadline = deadline if is_number(deadline) else period
    dkey = "deadline_ms" if is_number(deadline) else "period_ms"
    if is_number(wcet) and is_number(eff_deadline) and wcet > eff_deadline:
        yield doc.diag("AC112", f"{base}/wcet_ms", wcet=fmt_ms(wcet), deadline=f"{fmt_ms(eff_deadline)}"
                       + ("" if dkey == "deadline_ms" else " (from `period_ms`)"))
    if is_number(jitter) and is_number(eff_deadline) and jitter >= eff_deadline:
        yield doc.diag("AC113", f"{base}/jitter_ms", jitter=fmt_ms(jitter), deadline=fmt_ms(eff_deadline))
    if is_number(deadline) and is_number(period) and deadline > period:
        yield doc.diag("AC114", f"{base}/deadline_ms", deadline=fmt_ms(deadline), period=fmt_ms(period))


# --- limits ----------------------------------------------------------------------

def check_limits(doc: Document) -> Iterator[Diagnostic]:
    d = doc.data
    for ptr_, v in (
        ("/modelPolicy/max_context_tokens", mapping(d, "modelPolicy").get("max_context_tokens")),
        ("/modelPolicy/max_output_tokens", mapping(d, "modelPolicy").get("max_output_tokens")),
        ("/memory/rag/top_k", mapping(d, "memory", "rag").get("top_k")),
    ):
        if is_number(v) and v <= 0:
            yield doc.diag("AC117", ptr_, field=ptr_.rsplit("/", 1)[1], value=v)
    rd = mapping(d, "memory").get("retention_days")
    if is_number(rd) and rd < 0:
        yield doc.diag("AC118", "/memory/retention_days", field="retention_days", value=rd)
    for key, v in mapping(d, "budgets").items():
        if is_number(v) and v < 0:
            yield doc.diag("AC118", f"/budgets/{key}", field=key, value=v)
    compute = mapping(d, "compute")
    for key, parse in (("cpu", units.parse_millicores), ("mem", units.parse_bytes)):
        v = compute.get(key)
        if v is None or isinstance(v, bool) or not isinstance(v, (str, int, float)):
            continue
        try:
            amount = parse(v)
        except units.UnitError:
            yield doc.diag("AC126", f"/compute/{key}", value=v)
            continue
        if amount <= 0:
            yield doc.diag("AC117", f"/compute/{key}", field=key, value=v)


# --- capabilities and consent ------------------------------------------------

def check_actions(doc: Document) -> Iterator[Diagnostic]:
    caps = doc.data.get("capabilities")
    consent = mapping(doc.data, "security").get("consent_for")
    for base, values in (("/capabilities", caps), ("/security/consent_for", consent)):
        for i, name in str_list(values):
            if not ACTION_RE.match(name):
                yield doc.diag("AC120", f"{base}/{i}", name=name)
    if isinstance(caps, list) and not caps and "capabilities" in doc.data:
        yield doc.diag("AC132", "/capabilities")
    cap_set = {c for _, c in str_list(caps)}
    for i, name in str_list(consent):
        if ACTION_RE.match(name) and not action_covered(name, cap_set):
            yield doc.diag("AC119", f"/security/consent_for/{i}", action=name)


def action_covered(action: str, patterns: set[str]) -> bool:
    """Is ``action`` (itself possibly a ``x.*`` pattern) inside one of ``patterns``?"""
    if action in patterns or "*" in patterns:
        return True
    for p in patterns:
        if p.endswith(".*"):
            prefix = p[:-1]
            stem = action[:-1] if action.endswith(".*") else action
            if stem.startswith(prefix):
                return True
    return False


# --- refs and binding -------------------------------------------------------------

def ref_pointers(data: Any) -> Iterator[tuple[str, str]]:
    """Every model/tool ref in a contract body, with its JSON Pointer."""
    for i, ref in str_list(mapping(data, "modelPolicy").get("allow")):
        yield f"/modelPolicy/allow/{i}", ref
    binding = mapping(data, "binding")
    for section in ("must", "prefer"):
        for key in BINDING_REF_KEYS:
            for i, ref in str_list(mapping(binding, section).get(key)):
                yield f"/binding/{section}/{key}" + ("" if i is None else f"/{i}"), ref
    fallbacks = binding.get("allow_fallbacks")
    if isinstance(fallbacks, list):
        for n, fb in enumerate(fallbacks):
            for key in BINDING_REF_KEYS:
                for i, ref in str_list(mapping(fb, "substitute").get(key)):
                    yield f"/binding/allow_fallbacks/{n}/substitute/{key}" + ("" if i is None else f"/{i}"), ref


SPLIT_RANGE_HINT = 'a range in a flow list must be quoted: `["name@>=2.0,<3"]`'


def check_refs(doc: Document) -> Iterator[Diagnostic]:
    for pointer, ref in ref_pointers(doc.data):
        try:
            units.parse_ref(ref)
        except units.UnitError as exc:
            if "valid model or tool name" in str(exc):
                # `[m@>=2.0,<3]` unquoted: the flow list split the range at its comma
                split = ref[:1] in ("<", ">", "=")
                yield doc.diag("AC128", pointer, name=ref, hint=SPLIT_RANGE_HINT if split else None)
            else:
                yield doc.diag("AC121", pointer, ref=ref, reason=str(exc))


def check_binding(doc: Document) -> Iterator[Diagnostic]:
    binding = mapping(doc.data, "binding")
    mode = binding.get("mode", "strict")
    if "allow_fallbacks" in binding and mode != "flexible":
        yield doc.diag("AC122", "/binding/allow_fallbacks", at_key=True, mode=mode)
    if "canary" in binding and mode not in ("smooth", "flexible"):
        yield doc.diag("AC123", "/binding/canary", at_key=True, mode=mode)
    for section in ("must", "prefer"):
        for i, place in str_list(mapping(binding, section).get("placement")):
            pointer = f"/binding/{section}/placement" + ("" if i is None else f"/{i}")
            if place == "edge-only":
                yield doc.diag("AC127", pointer)
            elif place not in ("edge", "on-prem", "cloud"):
                yield doc.diag("AC104", pointer, message=f"`{place}` is not a placement",
                               hint="expected one of: `edge`, `on-prem`, `cloud`")


# --- policy files ----------------------------------------------------------------

def policy_paths(doc: Document) -> list[tuple[str, str, Path | None]]:
    """(pointer, as written, resolved path) for each policy file the contract names."""
    base = doc.source.path.parent if doc.source and doc.source.path else Path(".")
    out = []
    for i, p in str_list(doc.data.get("policies")):
        out.append((f"/policies/{i}", p, base / p))
    return out


def check_policy_files_exist(doc: Document) -> Iterator[Diagnostic]:
    for pointer, written, path in policy_paths(doc):
        if path is None or not path.is_file():
            yield doc.diag("AC124", pointer, policy=written)


CHECKS: tuple[Check, ...] = (
    check_slo, check_limits, check_actions, check_refs, check_binding, check_policy_files_exist,
)


def check_contract(doc: Document) -> list[Diagnostic]:
    return [d for check in CHECKS for d in check(doc)]
