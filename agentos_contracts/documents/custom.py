"""Kubernetes custom-resource form (``agentos.dev/v1alpha1``) → agentos document, positions kept.

The same YAML must work in CI and in a cluster, so ``validate`` and ``admit`` read the
custom-resource form too. The conversion lives here, below ``validate``, and keeps a
position for every value: a diagnostic about ``/class/slo/wcet_ms`` points at the line of
``spec.class.slo.wcet_ms`` in the custom-resource file, and its ``path`` is the
custom-resource pointer (``/spec/class/slo/wcet_ms``). The other direction (document →
custom resource) is the generator side and lives in ``k8s/resources.py``.

Mapping: ``metadata.name`` is the document's ``name``; ``spec`` holds every other field;
for an AgentContract the namespace is the ``tenant`` unless ``spec.tenant`` names one,
and then the two must match. Workflows carry no tenant; Platforms are cluster-scoped.
"""

from __future__ import annotations

from typing import Any

from agentos_contracts import diagnostics as dg
from agentos_contracts.diagnostics import Diagnostic
from agentos_contracts.documents.loader import API_VERSION, Document, PositionMap, ResourceForm

GROUP = "agentos.dev"
VERSION = "v1alpha1"
CR_API_VERSION = f"{GROUP}/{VERSION}"
CR_KINDS = ("AgentContract", "Workflow", "Platform")
TOP_KEYS = frozenset({"apiVersion", "kind", "metadata", "spec", "status"})
HEADER = frozenset({"apiVersion", "kind", "name"})  # document keys that never sit in `spec`


def is_custom_resource(data: Any) -> bool:
    """A mapping whose ``apiVersion`` is in our API group (any version: a wrong one is reported)."""
    if not isinstance(data, dict):
        return False
    api = data.get("apiVersion")
    return isinstance(api, str) and api.split("/", 1)[0] == GROUP


def document_pointer_to_resource(pointer: str, *, tenant_from_namespace: bool = False) -> str:
    """``/x/...`` of the document → ``/spec/x/...`` of the custom resource (name, tenant, header aside)."""
    if not pointer:
        return ""
    head = pointer[1:].split("/", 1)[0]
    if head in ("apiVersion", "kind"):
        return pointer
    if head == "name":
        return "/metadata/name" + pointer[len("/name"):]
    if head == "tenant" and tenant_from_namespace:
        return "/metadata/namespace" + pointer[len("/tenant"):]
    return "/spec" + pointer


def resource_pointer_to_document(pointer: str) -> str:
    """``/spec/x`` → ``/x``, ``/metadata/name`` → ``/name``; other pointers stay as they are."""
    if pointer == "/spec" or pointer.startswith("/spec/"):
        return pointer[len("/spec"):]
    if pointer == "/metadata/name":
        return "/name"
    if pointer == "/metadata/namespace":
        return "/tenant"
    return pointer


def from_resource(cr: Document) -> tuple[Document | None, list[Diagnostic]]:
    """The agentos document a custom resource stands for, or the reasons it cannot be read as one."""
    data = cr.data
    assert isinstance(data, dict)
    diags: list[Diagnostic] = []
    if data.get("apiVersion") != CR_API_VERSION:
        diags.append(cr.diag("AC830", "/apiVersion", version=data.get("apiVersion")))
    kind = data.get("kind")
    if kind not in CR_KINDS:
        diags.append(cr.diag("AC831", "/kind", kind=kind) if "kind" in data
                     else dg.make("AC831", cr.span(""), kind=None))
    for key in sorted(k for k in data if k not in TOP_KEYS):
        diags.append(cr.diag("AC837", f"/{key}", at_key=True, key=key))
    meta = data.get("metadata")
    spec = data.get("spec")
    name = meta.get("name") if isinstance(meta, dict) else None
    if not isinstance(meta, dict):
        diags.append(_missing(cr, "/metadata", "metadata", "a mapping with `name`"))
    elif not isinstance(name, str) or not name:
        diags.append(_missing(cr, "/metadata/name" if "name" in meta else "/metadata", "metadata.name",
                              "the document's name"))
    if not isinstance(spec, dict):
        diags.append(_missing(cr, "/spec", "spec", "a mapping holding every field but `name`"))
    else:
        for key in sorted(k for k in spec if k in HEADER):
            diags.append(cr.diag("AC835", f"/spec/{key}", at_key=True, key=key))
    namespace = meta.get("namespace") if isinstance(meta, dict) else None
    if namespace is not None and kind == "Platform":
        diags.append(cr.diag("AC836", "/metadata/namespace", at_key=True))
    tenant = spec.get("tenant") if isinstance(spec, dict) else None
    if kind == "AgentContract" and namespace is not None and tenant is not None and tenant != namespace:
        diags.append(cr.diag("AC834", "/spec/tenant", tenant=tenant, namespace=namespace))
    if any(d.is_error for d in diags):
        return None, diags
    assert isinstance(spec, dict) and isinstance(kind, str)
    out: dict[str, Any] = {"apiVersion": API_VERSION, "kind": kind, "name": name}
    if kind == "AgentContract" and tenant is None and isinstance(namespace, str):
        out["tenant"] = namespace
    out.update((k, v) for k, v in spec.items() if k not in HEADER)
    form = ResourceForm(CR_API_VERSION, tenant_from_namespace="tenant" in out and "tenant" not in spec)
    return Document(cr.file, cr.index, out, _positions(cr.positions, spec, kind), cr.source, form), diags


def _missing(cr: Document, pointer: str, key: str, expected: str) -> Diagnostic:
    """At the key when it is there with a wrong value, else at the mapping that lacks it."""
    span = cr.key_span(pointer) if pointer in cr.positions.values else cr.span("")
    return dg.make("AC832", span, path=pointer, key=key, expected=expected)


def _positions(src: PositionMap, spec: dict[str, Any], kind: str) -> PositionMap:
    """Every document pointer mapped to where its custom-resource counterpart sits."""
    out = PositionMap(src.file)
    for table, dest in ((src.values, out.values), (src.keys, out.keys)):
        for pointer, pos in table.items():
            if pointer.startswith("/spec/"):
                dest[pointer[len("/spec"):]] = pos
        for cr_pointer, doc_pointer in (("/apiVersion", "/apiVersion"), ("/kind", "/kind"),
                                        ("/metadata/name", "/name"), ("", "")):
            if cr_pointer in table:
                dest[doc_pointer] = table[cr_pointer]
        if kind == "AgentContract" and "tenant" not in spec and "/metadata/namespace" in table:
            dest["/tenant"] = table["/metadata/namespace"]
    if "/spec" in src.keys:  # the document's own mapping is `spec`: a key it lacks is reported at `spec:`
        out.values[""] = src.keys["/spec"]
    return out


def resource_diagnostic(doc: Document, d: Diagnostic) -> Diagnostic:
    """A diagnostic about a converted document, its ``path`` rewritten as the custom-resource pointer."""
    if doc.resource is None or not d.path:
        return d
    path = document_pointer_to_resource(d.path, tenant_from_namespace=doc.resource.tenant_from_namespace)
    return Diagnostic(d.span, d.severity, d.code, d.message, path, d.hint)
