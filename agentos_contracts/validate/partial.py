"""Contract checks on partial AgentContracts: workflow step `contract` overrides and a
platform's `defaults` layers (top level, tenants, roles).

documents.md makes each of these "a partial AgentContract with the canonical keys", so
a bad quantity, ref, action name or placement inside one is as wrong as in a contract.
What a partial may leave to another layer is not required here: the SLO keys a class
needs (AC110/AC111/AC116), the binding mode that `canary`/`allow_fallbacks` need
(AC122/AC123, unless the partial names a mode itself), and `consent_for` entries
outside its own capabilities (AC119); durations are checked for every document by
`durations.py`, so AC125 is not repeated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from agentos_contracts.diagnostics import Diagnostic
from agentos_contracts.documents.loader import Document
from agentos_contracts.validate.contract import (
    check_actions,
    check_binding,
    check_limits,
    check_refs,
    check_slo,
    mapping,
)

LEFT_TO_OTHER_LAYERS = frozenset({"AC110", "AC111", "AC116", "AC119", "AC125", "AC132", "AC133"})
NEEDS_MODE = frozenset({"AC122", "AC123"})


@dataclass(frozen=True, slots=True)
class _Partial:
    """Looks like a Document to the contract checks; pointers land inside the real one."""

    doc: Document
    prefix: str
    data: dict[str, Any]

    def diag(self, code: str, pointer: str, *, at_key: bool = False, **kw: Any) -> Diagnostic:
        return self.doc.diag(code, self.prefix + pointer, at_key=at_key, **kw)


def _partials(doc: Document) -> Iterator[tuple[str, dict[str, Any]]]:
    data = doc.data
    if doc.kind == "Workflow":
        steps = data.get("steps")
        for i, step in enumerate(steps if isinstance(steps, list) else []):
            if isinstance(step, dict) and isinstance(step.get("contract"), dict):
                yield f"/steps/{i}/contract", step["contract"]
    elif doc.kind == "Platform":
        if isinstance(data.get("defaults"), dict):
            yield "/defaults", data["defaults"]
        tenants = data.get("tenants")
        for t, tenant in enumerate(tenants if isinstance(tenants, list) else []):
            if not isinstance(tenant, dict):
                continue
            if isinstance(tenant.get("defaults"), dict):
                yield f"/tenants/{t}/defaults", tenant["defaults"]
            roles = tenant.get("roles")
            for r, role in enumerate(roles if isinstance(roles, list) else []):
                if isinstance(role, dict) and isinstance(role.get("defaults"), dict):
                    yield f"/tenants/{t}/roles/{r}/defaults", role["defaults"]


def check_partials(doc: Document) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for prefix, data in _partials(doc):
        part = _Partial(doc=doc, prefix=prefix, data=data)
        has_mode = "mode" in mapping(data, "binding")
        for check in (check_slo, check_limits, check_actions, check_refs, check_binding):
            for d in check(part):  # type: ignore[arg-type]
                if d.code in LEFT_TO_OTHER_LAYERS or (d.code in NEEDS_MODE and not has_mode):
                    continue
                found.append(d)
    return found
