"""agentos document → Kubernetes custom resource (the generator side; reading is ``documents/custom.py``).

One table describes our three kinds as the API server sees them (plural, scope, short
names), so the CRDs, the webhook rules and the converters agree on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentos_contracts.documents.custom import CR_API_VERSION, GROUP, HEADER, VERSION


@dataclass(frozen=True, slots=True)
class ResourceKind:
    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...]
    namespaced: bool
    schema: str  # the JSON Schema the CRD's structural schema is generated from


KINDS: tuple[ResourceKind, ...] = (
    ResourceKind("AgentContract", "agentcontracts", "agentcontract", ("agc",), True, "AgentContract.schema.json"),
    ResourceKind("Workflow", "workflows", "workflow", ("awf",), True, "Workflow.schema.json"),
    ResourceKind("Platform", "platforms", "platform", ("apf",), False, "Platform.schema.json"),
)
BY_KIND = {k.kind: k for k in KINDS}

__all__ = ["GROUP", "VERSION", "CR_API_VERSION", "KINDS", "BY_KIND", "ResourceKind", "to_resource"]


def to_resource(document: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
    """The custom-resource form of a document: ``metadata.name`` = name, ``spec`` = the rest.

    An AgentContract's tenant becomes its namespace (the namespace *is* the tenant in a
    cluster); ``namespace`` is used for namespaced kinds that name no tenant. Platforms are
    cluster-scoped and take none.
    """
    kind = str(document.get("kind"))
    meta: dict[str, Any] = {"name": document.get("name")}
    spec = {k: v for k, v in document.items() if k not in HEADER}
    info = BY_KIND.get(kind)
    if info is not None and info.namespaced:
        tenant = spec.pop("tenant", None) if kind == "AgentContract" else None
        ns = tenant if tenant is not None else namespace
        if ns is not None:
            meta["namespace"] = ns
    return {"apiVersion": CR_API_VERSION, "kind": kind, "metadata": meta, "spec": spec}
