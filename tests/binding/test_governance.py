"""Governed keys across layers: a later layer only narrows, whatever it says."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from typer.testing import CliRunner
from hypothesis import strategies as st

from agentos_contracts.binding.governance import MODE_RANK, action_covers
from agentos_contracts.binding.layering import merge_layers, stack
from agentos_contracts.cli import app

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "governance"


def test_tenant_policies_and_consent_survive_a_contract_that_names_its_own() -> None:
    out = merge_layers([
        ("tenant", {"policies": ["tenant.policy"], "security": {"consent_for": ["payment.charge"]}}),
        ("contract", {"policies": ["own.policy"], "security": {"consent_for": ["email.send"]}}),
    ])
    assert out.data["policies"] == ["tenant.policy", "own.policy"]
    assert out.data["security"]["consent_for"] == ["payment.charge", "email.send"]
    assert out.provenance["/policies"] == ["tenant", "contract"]


def test_a_contract_cannot_grant_itself_what_its_tenant_lacks() -> None:
    out = merge_layers([("tenant", {"capabilities": ["web.fetch", "payment.*"]}),
                        ("contract", {"capabilities": ["web.fetch", "payment.charge", "fs.write"]})])
    assert out.data["capabilities"] == ["web.fetch", "payment.charge"]
    [w] = out.widenings
    assert (w.pointer, w.layer, w.escaped, w.item) == ("/capabilities/2", "contract", "tenant", "fs.write")
    assert "the tenant layer does not allow" in w.message


def test_the_minimum_budget_wins_and_the_overridden_layer_is_named() -> None:
    out = merge_layers([("tenant", {"budgets": {"cost_per_day": 30}, "modelPolicy": {"max_context_tokens": 4000}}),
                        ("contract", {"budgets": {"cost_per_day": 999}, "modelPolicy": {"max_context_tokens": 2000}})])
    assert out.data["budgets"]["cost_per_day"] == 30
    assert out.data["modelPolicy"]["max_context_tokens"] == 2000
    [low] = out.lowered
    assert (low.layer, low.kept_layer, low.value, low.kept) == ("contract", "tenant", 999, 30)


def test_binding_mode_cannot_loosen() -> None:
    out = merge_layers([("tenant", {"binding": {"mode": "smooth"}}), ("contract", {"binding": {"mode": "flexible"}})])
    assert out.data["binding"]["mode"] == "smooth"
    [w] = out.widenings
    assert (w.key, w.layer, w.escaped, w.item) == ("binding.mode", "contract", "tenant", "flexible")


def test_log_fields_only_narrow_and_model_allow_intersects() -> None:
    out = merge_layers([
        ("platform", {"observability": {"log_fields": ["action", "decision"]}, "modelPolicy": {"allow": ["a", "b@>=1"]}}),
        ("contract", {"observability": {"log_fields": ["action", "args.body"]}, "modelPolicy": {"allow": ["b@<2"]}}),
    ])
    assert out.data["observability"]["log_fields"] == ["action"]
    assert [w.item for w in out.widenings] == ["args.body"]
    assert out.data["modelPolicy"]["allow"] == ["b@>=1.0.0,<2.0.0"]
    empty = merge_layers([("tenant", {"modelPolicy": {"allow": ["a"]}}), ("contract", {"modelPolicy": {"allow": ["b"]}})])
    assert empty.allow_conflict == (("tenant", ("a",)), ("contract", ("b",)))


def test_platform_policies_resolve_from_the_platform_file() -> None:
    layers = stack({"policies": ["policies/base.policy"], "uncatalogued_actions": ["x"]}, None, None,
                   {"policies": ["mine.policy"]}, platform_file="plat/platform.yaml", contract_file="contracts/a.yaml")
    assert layers[0][1] == {"policies": ["../plat/policies/base.policy"]}  # admission-only keys stay out
    assert merge_layers(layers).data["policies"] == ["../plat/policies/base.policy", "mine.policy"]


def test_glob_coverage() -> None:
    assert action_covers("payment.*", "payment.charge") and action_covers("*", "x")
    assert action_covers("payment.*", "payment.card.*")
    assert not action_covers("payment.charge", "payment.*") and not action_covers("payment.*", "payment")


ACTIONS = ["web.fetch", "fs.read", "fs.write", "payment.charge", "payment.refund", "payment.*", "fs.*", "*"]
FIELDS = ["action", "decision", "args.to", "args.body"]
BUDGETS = ["tokens", "calls", "cost_per_day"]
layer_doc = st.fixed_dictionaries({}, optional={
    "capabilities": st.lists(st.sampled_from(ACTIONS), max_size=4, unique=True),
    "observability": st.fixed_dictionaries({"log_fields": st.lists(st.sampled_from(FIELDS), max_size=4, unique=True)}),
    "budgets": st.dictionaries(st.sampled_from(BUDGETS), st.integers(min_value=0, max_value=1000), max_size=3),
    "binding": st.fixed_dictionaries({"mode": st.sampled_from(sorted(MODE_RANK))}),
    "security": st.fixed_dictionaries({"consent_for": st.lists(st.sampled_from(ACTIONS), max_size=3, unique=True)}),
    "modelPolicy": st.fixed_dictionaries({}, optional={
        "max_context_tokens": st.integers(min_value=0, max_value=10**6),
        "max_output_tokens": st.integers(min_value=0, max_value=4096),
        "allow": st.lists(st.sampled_from(["a", "b", "c@>=1", "c@<2"]), min_size=1, max_size=3, unique=True)}),
    "memory": st.fixed_dictionaries({"retention_days": st.integers(min_value=0, max_value=3650)}),
})


@settings(max_examples=300, deadline=None)
@given(st.lists(layer_doc, min_size=1, max_size=5))
def test_layered_result_never_allows_what_an_earlier_layer_forbade(docs: list[dict[str, Any]]) -> None:
    out = merge_layers([(f"l{i}", d) for i, d in enumerate(docs)])
    data = out.data
    for doc in docs:
        if "capabilities" in doc:  # a layer's ceiling: its capabilities and what it allows with consent
            ceiling = doc["capabilities"] + doc.get("security", {}).get("consent_for", [])
            for action in data["capabilities"] + data.get("security", {}).get("consent_for", []):
                assert any(action_covers(e, action) for e in ceiling), (action, doc)
        if "observability" in doc:
            assert set(data["observability"]["log_fields"]) <= set(doc["observability"]["log_fields"])
        for key, limit in doc.get("budgets", {}).items():
            assert data["budgets"][key] <= limit
        if "binding" in doc:
            assert MODE_RANK[data["binding"]["mode"]] >= MODE_RANK[doc["binding"]["mode"]]
        for key in ("max_context_tokens", "max_output_tokens"):
            if key in doc.get("modelPolicy", {}):
                assert data["modelPolicy"][key] <= doc["modelPolicy"][key]
        if "allow" in doc.get("modelPolicy", {}) and not out.allow_conflict:  # names only ever narrow
            names = {r.split("@")[0] for r in doc["modelPolicy"]["allow"]}
            assert {r.split("@")[0] for r in data["modelPolicy"]["allow"]} <= names
        if "memory" in doc:
            assert data["memory"]["retention_days"] <= doc["memory"]["retention_days"]
        for action in doc.get("security", {}).get("consent_for", []):  # an earlier gate survives on every grant
            if any(action_covers(c, action) for c in data.get("capabilities", [])):
                assert action in data["security"]["consent_for"]
    # whatever was cut from the latest list is reported, never silently dropped
    last_caps = [d["capabilities"] for d in docs if "capabilities" in d]
    if len(last_caps) >= 1:
        assert set(data["capabilities"]) | {w.item for w in out.widenings if w.key == "capabilities"} >= set(last_caps[-1])


def _hrt(name: str, model: str, **slo: Any) -> str:
    return (f"apiVersion: agentos/v0.2\nkind: AgentContract\nname: {name}\ntenant: clinic\n"
            f"class: {{latency: HRT, slo: {json.dumps(slo)}}}\ncapabilities: []\n"
            f"modelPolicy: {{allow: [{model}]}}\nbinding: {{mode: strict, must: {{model: {model}}}}}\n")


def _admit(tmp: Path, *docs: str) -> dict[str, Any]:
    shutil.copy(FIX / "platform.yaml", tmp / "platform.yaml")
    paths = []
    for i, doc in enumerate(docs):
        (tmp / f"{i}.yaml").write_text(doc)
        paths.append(str(tmp / f"{i}.yaml"))
    out = CliRunner().invoke(app, ["admit", *paths, "--platform", str(tmp / "platform.yaml"), "--dry-run",
                                   "--format", "json"])
    return json.loads(out.stdout[out.stdout.index("{"):])


def test_fits_if_hints_respect_the_bindings_lower_bound(tmp_path: Path) -> None:
    hi = _hrt("hi", "tiny", wcet_ms=2, period_ms=4)
    doc = _admit(tmp_path, hi, _hrt("lo", "tiny", wcet_ms=2.5, period_ms=6, deadline_ms=4))
    [msg] = [r["message"] for r in doc["rejected"][0]["reasons"] if r["code"] == "AC511"]
    assert "fits if wcet_ms ≤ 2 (and ≥ onset_ms_p95 1 of tiny@1.0.0)" in msg
    doc = _admit(tmp_path, hi, _hrt("lo", "mid", wcet_ms=3, period_ms=6, deadline_ms=4))
    [msg] = [r["message"] for r in doc["rejected"][0]["reasons"] if r["code"] == "AC511"]
    assert "no wcet_ms fits this core: it allows ≤ 2, the bindings need ≥ onset_ms_p95 3 of mid@1.0.0" in msg
    assert "wcet_ms ≤ 2 " not in msg.replace("allows ≤ 2,", "")


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5)
                           | st.sampled_from(ACTIONS + sorted(MODE_RANK)),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                        max_size=3), max_leaves=8)
GOVERNED = ["capabilities", "policies", "security", "budgets", "modelPolicy", "memory", "observability", "binding"]
garbage_doc = st.dictionaries(st.sampled_from(GOVERNED), json_values | st.dictionaries(
    st.sampled_from(["consent_for", "tokens", "allow", "max_context_tokens", "retention_days", "log_fields", "mode",
                     "must"]), json_values, max_size=3), max_size=5)


@settings(max_examples=300, deadline=None)
@given(st.lists(garbage_doc, min_size=1, max_size=4))
def test_any_layer_values_merge_without_crashing(docs: list[dict[str, Any]]) -> None:
    """Validation reports bad values; layering must still finish on them (never a traceback)."""
    out = merge_layers([(f"l{i}", d) for i, d in enumerate(docs)])
    assert isinstance(out.data, dict)
