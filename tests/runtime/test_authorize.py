"""The decision path with the real policy evaluator: order of checks, fail-closed probes, reasons."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentos_contracts.model.manifest import PolicyRef
from agentos_contracts.runtime import ManifestRefused, Runtime
from agentos_contracts.seal.canonical import canonical_digest

SAFE = {"risk_score": 0.1, "unsafe_environment": False}


def _load(sealer, tmp_path: Path, document: dict, descriptors, **over) -> Runtime:
    ref = PolicyRef(digest=canonical_digest(document), document=document)
    return Runtime.load(sealer.seal(policy=ref, **over), sealer.pub, audit=tmp_path / "a.db", tools=descriptors)


def test_policy_decides_inside_the_ceiling(sealer, tmp_path, permit_policy, descriptors) -> None:
    with _load(sealer, tmp_path, permit_policy, descriptors) as rt:
        ok = rt.authorize("web.fetch", SAFE, {"host": "city.gov"})
        assert (ok.effect, ok.rules) == ("allow", ("permit.policy:3",))
        off = rt.authorize("web.fetch", SAFE, {"host": "evil.example"})
        assert (off.effect, off.rules) == ("deny", ()) and "no rule allows" in off.reason
        risky = rt.authorize("web.fetch", {**SAFE, "risk_score": 0.9}, {"host": "city.gov"})
        assert risky.effect == "deny"
        unsafe = rt.authorize("summarize", {**SAFE, "unsafe_environment": True})
        assert (unsafe.effect, unsafe.rules) == ("deny", ("permit.policy:5",))
        consent = rt.authorize("email.send", SAFE, {"to": "a", "body": "b"})
        assert (consent.effect, consent.rules) == ("consent", ("contract:consent_for",))


def test_ceiling_comes_before_the_policy(sealer, tmp_path, permit_policy, descriptors) -> None:
    # the manifest's ceiling is narrower than the policy's: fs.read is allowed by the policy, not by the contract
    with _load(sealer, tmp_path, permit_policy, descriptors, capabilities=("web.fetch", "summarize")) as rt:
        out = rt.authorize("fs.read", SAFE)
        assert (out.effect, out.stage, out.rules) == ("deny", "ceiling", ("contract:capabilities",))


def test_policy_deny_comes_before_schema_and_budget(sealer, tmp_path, permit_policy, descriptors) -> None:
    with _load(sealer, tmp_path, permit_policy, descriptors, budgets={"calls": 0}) as rt:
        out = rt.authorize("web.fetch", {**SAFE, "unsafe_environment": True}, {"host": 5})
        assert out.stage == "policy" and out.rules == ("permit.policy:5",)
        schema = rt.authorize("web.fetch", SAFE, {"host": "city.gov", "extra": 1})
        assert schema.stage == "schema"  # allowed by policy, refused by the inputSchema
        budget = rt.authorize("web.fetch", SAFE, {"host": "city.gov"})
        assert budget.stage == "budget"


@pytest.mark.parametrize("context, args, why", [
    ({"risk_score": 0.1}, {"host": "city.gov"}, "missing attribute under a DENY"),
    ({**SAFE, "risk_score": "low"}, {"host": "city.gov"}, "type mismatch"),
    ({**SAFE, "risk_score": float("nan")}, {"host": "city.gov"}, "NaN"),
    ({**SAFE, "unsafe_environment": None}, {"host": "city.gov"}, "null counts as absent"),
    ({**SAFE}, {}, "missing argument"),
    ({**SAFE, "args": {"host": "city.gov"}}, {"host": "evil.example"}, "args in context do not override"),
])
def test_fail_closed_probes_with_policy(sealer, tmp_path, permit_policy, descriptors, context, args, why) -> None:
    with _load(sealer, tmp_path, permit_policy, descriptors) as rt:
        assert rt.authorize("web.fetch", context, args).effect == "deny", why


def test_empty_policy_denies_everything(sealer, tmp_path, descriptors) -> None:
    from agentos_contracts.policy import ir

    empty = {"apiVersion": "agentos/v0.2", "kind": "CompiledPolicy", "formatVersion": 1, "ceiling": None,
             "rules": [], "index": ir.build_index([])}
    with _load(sealer, tmp_path, empty, descriptors) as rt:
        assert rt.authorize("summarize", SAFE).effect == "deny"


def test_policy_digest_mismatch_is_refused(sealer, tmp_path, permit_policy) -> None:
    ref = PolicyRef(digest="sha256:" + "0" * 64, document=permit_policy)
    with pytest.raises(ManifestRefused, match="does not match the digest"):
        Runtime.load(sealer.seal(policy=ref), sealer.pub, audit=tmp_path / "a.db")


def test_unknown_compiled_policy_version_is_refused(sealer, tmp_path, permit_policy) -> None:
    doc = dict(permit_policy, formatVersion=99)
    ref = PolicyRef(digest=canonical_digest(doc), document=doc)
    with pytest.raises(ManifestRefused) as info:
        Runtime.load(sealer.seal(policy=ref), sealer.pub, audit=tmp_path / "a.db")
    assert info.value.problems[0][0] == "AC341"


def test_edited_index_is_refused(sealer, tmp_path, permit_policy) -> None:
    doc = dict(permit_policy, index={"exact": {}, "prefix": {}, "all": []})  # hides the DENY rules
    ref = PolicyRef(digest=canonical_digest(doc), document=doc)
    with pytest.raises(ManifestRefused):
        Runtime.load(sealer.seal(policy=ref), sealer.pub, audit=tmp_path / "a.db")


def test_policy_from_a_pinned_file(sealer, tmp_path, permit_policy, descriptors) -> None:
    from agentos_contracts.policy import ir

    data = ir.dump(permit_policy)
    (tmp_path / "permit.compiled.json").write_bytes(data)
    ref = PolicyRef(digest=canonical_digest(permit_policy), document=None, file="permit.compiled.json")
    with Runtime.load(sealer.seal(policy=ref), sealer.pub, audit=tmp_path / "a.db", tools=descriptors) as rt:
        assert rt.authorize("summarize", SAFE).allowed
    (tmp_path / "permit.compiled.json").write_bytes(data.replace(b'"deny"', b'"allow"'))
    with pytest.raises(ManifestRefused, match="digest"):
        Runtime.load(sealer.seal(policy=ref), sealer.pub, audit=tmp_path / "b.db", tools=descriptors)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(context=st.dictionaries(st.sampled_from(["risk_score", "unsafe_environment", "user", "args"]),
                               st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=3),
                                         st.lists(st.integers(), max_size=2)), max_size=4),
       args=st.one_of(st.none(), st.dictionaries(st.sampled_from(["host", "path", "x"]),
                                                 st.one_of(st.text(max_size=12), st.integers()), max_size=3)),
       action=st.sampled_from(["web.fetch", "summarize", "fs.write", "email.send", "payment.charge", "x"]))
def test_never_allows_what_the_ceiling_or_a_deny_forbids(sealer, tmp_path_factory, permit_policy, descriptors,
                                                         context, args, action) -> None:
    """Whatever the request, an allow needs: inside the ceiling, no applicable DENY, a matching schema."""
    with _load(sealer, tmp_path_factory.mktemp("p"), permit_policy, descriptors) as rt:
        out = rt.authorize(action, context, args)
    if out.effect == "allow":
        assert action in ("web.fetch", "summarize")
        # omitting the attribute never gets around the DENY (only a non-true value does)
        assert context.get("unsafe_environment") is not None and context["unsafe_environment"] is not True
        if action == "web.fetch":
            assert isinstance(args, dict) and args.get("host") in ("city.gov", "data.city.gov")
            assert isinstance(context.get("risk_score"), (int, float)) and not isinstance(
                context.get("risk_score"), bool) and context["risk_score"] < 0.5



@pytest.mark.parametrize("args", [[1, 2], "x", 5, True])
def test_arguments_that_are_not_an_object_deny(sealer, tmp_path, permit_policy, descriptors, args) -> None:
    # summarize is allowed with no condition on args: only the request's shape can refuse it
    with _load(sealer, tmp_path, permit_policy, descriptors) as rt:
        assert rt.authorize("summarize", SAFE).effect == "allow"
        out = rt.authorize("summarize", SAFE, args)
        assert out.effect == "deny", out


@pytest.mark.parametrize("extra", [object(), {1, 2}, float("nan"), b"raw", {1: "non-string key"}])
def test_a_context_with_no_json_form_is_refused_and_recorded_never_dropped(sealer, tmp_path, permit_policy,
                                                                             descriptors, extra) -> None:
    # regression: the call was allowed and the record silently lost its context
    from agentos_contracts.runtime.logstore import iter_records, read_log

    with _load(sealer, tmp_path, permit_policy, descriptors) as rt:
        out = rt.authorize("summarize", {**SAFE, "blob": extra})
        assert out.effect == "deny" and "request context cannot be recorded" in out.reason, out
        ok = rt.authorize("summarize", SAFE)
        assert ok.effect == "allow"
    records = [r for r in iter_records(read_log(tmp_path / "a.db")) if r.get("action") == "summarize"]
    refused, allowed = records
    assert refused["decision"] == "deny" and "cannot be recorded" in refused["reason"]
    assert allowed["decision"] == "allow" and allowed["context"] == SAFE
