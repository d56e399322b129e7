"""Generated manifests: valid Kubernetes objects, structural CRD schemas that agree with our JSON Schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import jsonschema
import kubernetes_validate
import pytest

from agentos_contracts.documents.loader import load_text
from agentos_contracts.k8s.crds import crds, structural
from agentos_contracts.k8s.deployment import deployment_objects
from agentos_contracts.k8s.resources import BY_KIND, to_resource
from agentos_contracts.resources import schema

REPO = Path(__file__).resolve().parents[2]
K8S_VERSION = kubernetes_validate.latest_version()
OBJECTS = crds() + deployment_objects("agentos", "agentos-contracts:test")
CRD = {c["spec"]["names"]["kind"]: c for c in crds()}
FORBIDDEN = {"$ref", "$defs", "$schema", "$id", "const", "uniqueItems", "propertyNames", "patternProperties", "if",
             "then", "else", "prefixItems", "contains", "default", "examples", "title"}


def _documents(folder: Path) -> Iterator[tuple[Path, Any]]:
    for path in sorted(folder.rglob("*.yaml")):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for doc in load_text(str(path), text).documents:
            if isinstance(doc.data, dict) and doc.data.get("kind") in CRD:
                yield path, doc.data


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda o: f"{o['kind']}/{o['metadata']['name']}")
def test_every_object_passes_kubernetes_validate(obj: dict[str, Any]) -> None:
    kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def _nodes(node: dict[str, Any], here: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield here, node
    for name, child in (node.get("properties") or {}).items():
        yield from _nodes(child, f"{here}/properties/{name}")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _nodes(node["additionalProperties"], f"{here}/additionalProperties")
    if isinstance(node.get("items"), dict):
        yield from _nodes(node["items"], f"{here}/items")


@pytest.mark.parametrize("kind", sorted(CRD))
def test_crd_schemas_are_structural(kind: str) -> None:
    root = CRD[kind]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for here, node in _nodes(root):
        assert FORBIDDEN.isdisjoint(node), (here, FORBIDDEN & set(node))
        loose = node.get("x-kubernetes-preserve-unknown-fields") or node.get("x-kubernetes-int-or-string")
        assert isinstance(node.get("type"), str) or loose, f"{here}: no type"
        assert node.get("additionalProperties") is not False, here
        assert not ("properties" in node and "additionalProperties" in node), here
        for junctor in ("anyOf", "oneOf", "allOf", "not"):
            assert junctor not in node, here


def test_manifests_are_deterministic() -> None:
    assert crds() + deployment_objects("agentos", "agentos-contracts:test") == OBJECTS
    from agentos_contracts.documents.writer import dump_yaml

    assert dump_yaml(OBJECTS) == dump_yaml(crds() + deployment_objects("agentos", "agentos-contracts:test"))


def test_webhook_configuration_fails_closed_for_our_group_only() -> None:
    vwc = next(o for o in OBJECTS if o["kind"] == "ValidatingWebhookConfiguration")
    [hook] = vwc["webhooks"]
    assert hook["failurePolicy"] == "Fail" and hook["timeoutSeconds"] == 3 and hook["sideEffects"] == "None"
    assert [r["apiGroups"] for r in hook["rules"]] == [["agentos.dev"]]
    [expr] = hook["namespaceSelector"]["matchExpressions"]
    assert expr["operator"] == "NotIn" and set(expr["values"]) == {"kube-system", "agentos"}
    dep = next(o for o in OBJECTS if o["kind"] == "Deployment")
    assert dep["spec"]["replicas"] == 2
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert any(o["kind"] == "PodDisruptionBudget" for o in OBJECTS)


def _crd_validator(kind: str) -> jsonschema.Draft4Validator:
    """OpenAPI v3.0 value checks are draft 4's (boolean exclusiveMinimum); x-kubernetes-* are ignored."""
    return jsonschema.Draft4Validator(CRD[kind]["spec"]["versions"][0]["schema"]["openAPIV3Schema"])


EXAMPLES = list(_documents(REPO / "contracts"))


@pytest.mark.parametrize("path,data", EXAMPLES, ids=[f"{p.name}:{d['name']}" for p, d in EXAMPLES])
def test_crd_schema_accepts_every_bundled_example(path: Path, data: dict[str, Any]) -> None:
    cr = to_resource(data)
    errors = [e.message for e in _crd_validator(data["kind"]).iter_errors(cr)]
    assert not errors, errors


def _widened_only(error: jsonschema.ValidationError) -> bool:
    """A JSON Schema rejection the structural subset cannot express (the webhook catches these)."""
    return error.validator in ("additionalProperties", "anyOf", "type") and (
        error.validator != "type" or isinstance(error.validator_value, list))


def _about_header(error: jsonschema.ValidationError) -> bool:
    """apiVersion, kind and name are the resource's own (the API server checks metadata.name)."""
    if error.path:
        return error.path[0] in ("apiVersion", "kind", "name")
    return error.validator == "required" and any(f"'{k}'" in error.message for k in ("apiVersion", "kind", "name"))


INVALID = [(p, d) for p, d in _documents(REPO / "tests" / "fixtures" / "validate" / "invalid")]


def test_crd_schema_rejects_what_the_json_schema_rejects_in_the_structural_subset() -> None:
    checked = 0
    for path, data in INVALID:
        full = jsonschema.Draft202012Validator(schema(BY_KIND[data["kind"]].schema))
        errors = [e for e in full.iter_errors(data) if not _about_header(e)]
        if not errors or all(_widened_only(e) for e in errors):
            continue
        checked += 1
        assert list(_crd_validator(data["kind"]).iter_errors(to_resource(data))), path.name
    assert checked >= 4  # wrong types, enums, missing keys and bounds are fixtures of their own


def test_widenings_are_reported() -> None:
    out, widened = structural({"type": "object", "additionalProperties": False, "properties": {
        "a": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "b": {"type": ["integer", "string"]}, "c": {"type": "number", "exclusiveMinimum": 0},
        "d": {"const": "x"}}})
    assert ("", "additionalProperties") in widened and ("/properties/a", "anyOf") in widened
    assert out["properties"]["a"] == {"x-kubernetes-preserve-unknown-fields": True}
    assert out["properties"]["b"] == {"x-kubernetes-int-or-string": True}
    assert out["properties"]["c"] == {"type": "number", "minimum": 0, "exclusiveMinimum": True}
    assert out["properties"]["d"] == {"type": "string", "enum": ["x"]}
