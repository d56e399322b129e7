"""CustomResourceDefinitions generated from our JSON Schemas, as structural OpenAPI v3 schemas.

Kubernetes accepts only *structural* schemas in ``apiextensions.k8s.io/v1`` CRDs: no
``$ref``, one ``type`` on every node (except nodes marked
``x-kubernetes-preserve-unknown-fields`` or ``x-kubernetes-int-or-string``), nothing but
value checks inside ``anyOf``/``oneOf``, no ``additionalProperties: false`` (the API
server prunes unknown fields instead), no ``uniqueItems``, ``const``, ``propertyNames``,
``patternProperties`` or ``if``/``then``. ``structural`` translates what has a structural
equivalent and widens what has none (a value that is "a string or a list" becomes a node
that keeps any value) and lists each widening, so the API server checks the structural
subset and the webhook, which runs the full JSON Schema and every semantic check, checks
the rest.
"""

from __future__ import annotations

from typing import Any

from agentos_contracts.documents.custom import GROUP, HEADER, VERSION
from agentos_contracts.k8s.resources import KINDS, ResourceKind

VALUE_KEYWORDS = ("enum", "minimum", "maximum", "minItems", "maxItems", "minLength", "maxLength", "pattern",
                  "multipleOf", "minProperties", "maxProperties")
FORMATS = frozenset({"date-time", "date", "uri", "email", "hostname", "ipv4", "ipv6", "uuid", "byte", "int32",
                     "int64", "float", "double", "password"})
MAX_DEPTH = 64

PRINTER_COLUMNS: dict[str, list[dict[str, Any]]] = {
    "AgentContract": [
        {"name": "Class", "type": "string", "jsonPath": ".spec.class.latency", "description": "latency class: HRT, SRT or DT"},
        {"name": "Mode", "type": "string", "jsonPath": ".spec.binding.mode", "description": "binding mode"},
        {"name": "Admission", "type": "string", "jsonPath": ".status.admission", "description": "admission state"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ],
    "Workflow": [
        {"name": "Deadline-ms", "type": "number", "jsonPath": ".spec.deadline_ms", "description": "end-to-end deadline"},
        {"name": "Admission", "type": "string", "jsonPath": ".status.admission", "description": "admission state"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ],
    "Platform": [
        {"name": "Overhead-ms", "type": "number", "jsonPath": ".spec.orchestration_overhead_ms",
         "description": "orchestration overhead added to every SRT turn"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ],
}

STATUS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "what admission decided; written by tools that read the webhook's reservation store",
    "properties": {
        "admission": {"type": "string", "enum": ["Admitted", "Rejected", "Unknown"],
                      "description": "admission state"},
        "manifestDigest": {"type": "string", "description": "sha256 of the sealed manifest's payload"},
        "message": {"type": "string", "description": "why, when not admitted"},
    },
}


def structural(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """``schema`` as a structural schema, plus the (JSON Pointer, keyword) pairs that were widened."""
    widened: list[tuple[str, str]] = []
    out = _node(schema, defs if defs is not None else schema.get("$defs", {}), "", widened, 0)
    return out, widened


def _node(s: Any, defs: dict[str, Any], here: str, widened: list[tuple[str, str]], depth: int) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise ValueError(f"schema deeper than {MAX_DEPTH} levels at `{here}` (a recursive $ref?)")
    if not isinstance(s, dict):
        return {"x-kubernetes-preserve-unknown-fields": True}
    if "$ref" in s:
        ref = s["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
            raise ValueError(f"cannot inline `$ref` {ref!r} at `{here}`")
        merged = {**defs[ref.split("/")[-1]], **{k: v for k, v in s.items() if k != "$ref"}}
        return _node(merged, defs, here, widened, depth + 1)
    out: dict[str, Any] = {}
    if isinstance(s.get("description"), str):
        out["description"] = s["description"]
    kind = _type(s, here, widened)
    if kind is None:
        out["x-kubernetes-preserve-unknown-fields"] = True
        for key in ("anyOf", "oneOf", "allOf", "not"):
            if key in s:
                widened.append((here, key))
        return out
    if kind == "int-or-string":
        out["x-kubernetes-int-or-string"] = True
    else:
        out["type"] = kind
    if "const" in s:
        out["enum"] = [s["const"]]
    for key in VALUE_KEYWORDS:
        if key in s:
            out[key] = s[key]
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(s.get(bound), (int, float)) and not isinstance(s.get(bound), bool):
            out[plain] = s[bound]
            out[bound] = True
    if "format" in s:
        if s["format"] in FORMATS:
            out["format"] = s["format"]
        else:
            widened.append((here, "format"))
    for key in ("uniqueItems", "propertyNames", "patternProperties", "if", "then", "else", "contains",
                "prefixItems", "dependentRequired", "unevaluatedProperties", "anyOf", "oneOf", "allOf", "not"):
        if key in s:
            widened.append((here, key))
    if kind == "object":
        _object(s, out, defs, here, widened, depth)
    elif kind == "array":
        items = s.get("items")
        out["items"] = _node(items, defs, here + "/items", widened, depth + 1) if isinstance(items, dict) \
            else {"x-kubernetes-preserve-unknown-fields": True}
    return out


def _type(s: dict[str, Any], here: str, widened: list[tuple[str, str]]) -> str | None:
    """The one structural type of a node, ``int-or-string``, or None (keep any value)."""
    t = s.get("type")
    if isinstance(t, list):
        kinds = sorted(set(t) - {"null"})
        if kinds == ["integer", "string"]:
            return "int-or-string"
        if len(kinds) == 1:
            return str(kinds[0])
        widened.append((here, "type"))
        return None
    if isinstance(t, str):
        return t
    if "properties" in s or "additionalProperties" in s:
        return "object"
    if "items" in s:
        return "array"
    if "const" in s or "enum" in s:
        values = s.get("enum", [s.get("const")])
        kinds = {type(v) for v in values}
        if kinds == {str}:
            return "string"
    return None


def _object(s: dict[str, Any], out: dict[str, Any], defs: dict[str, Any], here: str,
            widened: list[tuple[str, str]], depth: int) -> None:
    props = s.get("properties")
    if isinstance(props, dict):
        out["properties"] = {k: _node(v, defs, f"{here}/properties/{k}", widened, depth + 1) for k, v in props.items()}
    if isinstance(s.get("required"), list) and s["required"]:
        out["required"] = list(s["required"])
    extra = s.get("additionalProperties")
    if isinstance(extra, dict):
        if "properties" in out:  # both at once is not structural: keep the named ones, let the rest be
            out["x-kubernetes-preserve-unknown-fields"] = True
            widened.append((here, "additionalProperties"))
        else:
            out["additionalProperties"] = _node(extra, defs, here + "/additionalProperties", widened, depth + 1)
    elif extra is False:
        widened.append((here, "additionalProperties"))  # pruned by the API server, rejected by the webhook
    elif "properties" not in out:
        out["x-kubernetes-preserve-unknown-fields"] = True


def spec_schema(document_schema: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The ``spec`` of a custom resource: the document schema without apiVersion, kind and name."""
    spec = dict(document_schema)
    spec["properties"] = {k: v for k, v in document_schema.get("properties", {}).items() if k not in HEADER}
    spec["required"] = [k for k in document_schema.get("required", []) if k not in HEADER]
    spec.setdefault("type", "object")
    return structural(spec, document_schema.get("$defs", {}))


def crd(info: ResourceKind) -> dict[str, Any]:
    """The CustomResourceDefinition of one kind, its schema generated from ``schemas/<Kind>.schema.json``."""
    from agentos_contracts.resources import schema

    source = schema(info.schema)
    spec, _ = spec_schema(source)
    spec["description"] = f"every field of the agentos/v0.2 {info.kind} document except apiVersion, kind and name"
    root = {
        "type": "object",
        "description": source.get("description", f"agentos {info.kind}"),
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": STATUS_SCHEMA,
        },
    }
    version = {"name": VERSION, "served": True, "storage": True, "schema": {"openAPIV3Schema": root},
               "subresources": {"status": {}}, "additionalPrinterColumns": PRINTER_COLUMNS[info.kind]}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{info.plural}.{GROUP}", "labels": {"app.kubernetes.io/part-of": "agentos"}},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced" if info.namespaced else "Cluster",
            "names": {"kind": info.kind, "listKind": f"{info.kind}List", "plural": info.plural,
                      "singular": info.singular, "shortNames": list(info.short_names), "categories": ["agentos"]},
            "versions": [version],
        },
    }


def crds() -> list[dict[str, Any]]:
    return [crd(k) for k in KINDS]
