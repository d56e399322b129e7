"""Document → custom resource → YAML → document: the two directions agree, whatever the values."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.documents.custom import from_resource
from agentos_contracts.documents.loader import load_text
from agentos_contracts.documents.writer import dump_yaml
from agentos_contracts.k8s.resources import to_resource

_key = st.text(alphabet="abcdefghij_", min_size=1, max_size=6).filter(lambda k: k not in ("name", "tenant"))
_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(["1e3", "on", "yes", "010", "0x1F", "", " padded ", "null", "~", "true", "a: b", "- x",
                     "#hash", "multi\nline", "@x", "'q'", "local/8B@>=1.0,<2"]),
    st.text(max_size=12),
)
_value = st.recursive(_scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(_key, inner, max_size=3)), max_leaves=12)


@given(st.dictionaries(_key, _value, max_size=5), st.sampled_from(["AgentContract", "Workflow", "Platform"]),
       st.one_of(st.none(), st.sampled_from(["robotics", "city-planning"])))
@settings(max_examples=300, deadline=None)
def test_round_trip_through_the_custom_resource_form(spec: dict[str, Any], kind: str, tenant: str | None) -> None:
    doc: dict[str, Any] = {"apiVersion": "agentos/v0.2", "kind": kind, "name": "agent-1"}
    if tenant is not None and kind == "AgentContract":
        doc["tenant"] = tenant
    doc.update(spec)
    loaded = load_text("cr.yaml", dump_yaml([to_resource(doc)]))
    assert not [d for d in loaded.diagnostics if d.is_error]
    back, diags = from_resource(loaded.documents[0])
    assert not diags and back is not None
    assert back.data == doc


def test_namespace_is_used_only_for_namespaced_kinds() -> None:
    assert to_resource({"kind": "Workflow", "name": "w"}, "team")["metadata"] == {"name": "w", "namespace": "team"}
    assert to_resource({"kind": "Platform", "name": "p"}, "team")["metadata"] == {"name": "p"}
    contract = to_resource({"kind": "AgentContract", "name": "a", "tenant": "robotics"}, "team")
    assert contract["metadata"]["namespace"] == "robotics" and "tenant" not in contract["spec"]
