"""The pure rewrites: exact or refused, never guessed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agentos_contracts.migrate import rules


def test_shorthand_quantities_expand_exactly() -> None:
    assert rules.expand_shorthand("50k") == 50_000
    assert rules.expand_shorthand("1.5M") == 1_500_000
    assert rules.expand_shorthand("2G") == 2_000_000_000
    assert rules.expand_shorthand("1.0005k") is None  # 1000.5 tokens is no whole number
    assert rules.expand_shorthand("lots") is None
    assert rules.expand_shorthand(50) is None


@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(["k", "K", "m", "M", "g", "G"]))
def test_every_whole_shorthand_round_trips(n: int, suffix: str) -> None:
    factor = {"k": 10**3, "m": 10**6, "g": 10**9}[suffix.lower()]
    assert rules.expand_shorthand(f"{n}{suffix}") == n * factor


def test_paper_refs_become_explicit_ranges() -> None:
    assert rules.canonical_ref("asr_cloud_v2") == "asr_cloud@>=2.0.0,<3.0.0"
    assert rules.canonical_ref("asr_local_v2..v3") == "asr_local@>=2.0.0,<4.0.0"
    assert rules.canonical_ref("on_device_kwd_v3") == "on_device_kwd@>=3.0.0,<4.0.0"
    assert rules.canonical_ref("llm_cloud_70B") is None  # no _vN suffix: a plain name
    assert rules.canonical_ref("local/8B@>=1") is None  # already explicit
    assert rules.canonical_ref("x_v3..v2") is None  # an empty range is not rewritten


def test_paper_kind_recognises_only_the_paper_forms() -> None:
    assert rules.paper_kind({"agent": "a", "latency_class": "SRT"}) == "AgentContract"
    assert rules.paper_kind({"workflow": "w", "steps": []}) == "Workflow"
    assert rules.paper_kind({"apiVersion": "agentos/v0.1", "kind": "AgentContract"}) is None  # stays AC012
    assert rules.paper_kind({"apiVersion": "agentos/v0.2", "kind": "AgentContract"}) is None
    assert rules.paper_kind({"name": "x"}) is None  # not ours, not the paper's
    assert rules.paper_kind(["agent"]) is None


def test_inline_policies_become_rules_and_leftovers_are_reported() -> None:
    text, left = rules.policy_source("wf", "browse", 14, {"allow": ["web.fetch"], "deny": ["fs.write", "a b"],
                                                           "audit": True})
    assert "ALLOW web.fetch\n" in text
    assert 'DENY fs.write, "a b"\n' in text
    assert left == ["audit"]
