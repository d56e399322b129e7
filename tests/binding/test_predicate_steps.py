"""Each workflow step's own ceiling in the manifest: its agent's, narrowed by the step, consent kept."""

from __future__ import annotations

from typing import Any

from agentos_contracts.binding.layering import layers_for
from agentos_contracts.binding.options import Candidates, Choice, Unit
from agentos_contracts.binding.predicate import Bound, step_ceiling
from agentos_contracts.model.workflow import HITL, Step
from agentos_contracts.validate.build import build_contract

# the tenant asks consent for deletions; the agent itself lists no consent at all
TENANTS = [{"name": "records", "defaults": {"security": {"consent_for": ["notes.delete"]}}}]
OVERRIDE = {"capabilities": ["notes.read", "notes.delete"], "security": {"consent_for": ["notes.write"]}}


def _bound(kit: Any, data: dict[str, Any], request: dict[str, Any] | None) -> tuple[Bound, Any]:
    plat = kit.platform(tenants=TENANTS)
    layered = layers_for(plat, data, request)
    unit = Unit(key="wf/clean", label="wf step `clean`", group="Workflow:wf", order=0,
                contract=build_contract(layered.data, "cleaner.yaml"))
    choice = Choice(model=None, tools=(), store=None, node=plat.nodes[0])
    own = build_contract(layers_for(plat, data).data, "cleaner.yaml")
    return Bound(candidates=Candidates(unit=unit), choice=choice, layered=layered), own


def _cleaner(kit: Any, capabilities: list[str]) -> dict[str, Any]:
    return kit.contract("cleaner", tenant="records", capabilities=capabilities)


def test_override_narrows_capabilities_and_keeps_the_agents_consent(kit: Any) -> None:
    bound, own = _bound(kit, _cleaner(kit, ["notes.read", "notes.write", "notes.delete"]), OVERRIDE)
    step = Step(id="clean", agent="cleaner", override=OVERRIDE)
    # consent is a union: the tenant's notes.delete survives the override's own list
    assert bound.candidates.unit.contract.consent_for == ("notes.delete", "notes.write")
    assert step_ceiling(step, bound, own) == (("notes.read", "notes.delete"), ("notes.delete", "notes.write"))
    assert step_ceiling(step, bound) == (("notes.read", "notes.delete"), ("notes.delete", "notes.write"))


def test_the_agents_consent_outside_the_step_is_never_a_grant(kit: Any) -> None:
    override = {"capabilities": ["notes.read"], "security": {"consent_for": ["notes.write"]}}
    bound, own = _bound(kit, _cleaner(kit, ["notes.read", "notes.write", "notes.delete"]), override)
    step = Step(id="clean", agent="cleaner", override=override)
    assert step_ceiling(step, bound, own) == (("notes.read",), ("notes.write",))


def test_patterns_cover_the_agents_consent(kit: Any) -> None:
    override = {"capabilities": ["notes.*"], "security": {"consent_for": ["notes.write"]}}
    bound, own = _bound(kit, _cleaner(kit, ["notes.*"]), override)
    assert step_ceiling(Step(id="clean", agent="cleaner", override=override), bound, own) == (
        ("notes.*",), ("notes.delete", "notes.write"))


def test_without_an_override_the_step_gets_its_agents_ceiling(kit: Any) -> None:
    bound, own = _bound(kit, _cleaner(kit, ["notes.read", "notes.delete"]), None)
    assert step_ceiling(Step(id="clean", agent="cleaner"), bound, own) == (("notes.read", "notes.delete"),
                                                                           ("notes.delete",))


def test_hitl_steps_may_only_do_what_they_approve_and_unbound_steps_nothing() -> None:
    gate = Step(id="ok", kind=HITL, consent_for=("email.send", "email.send"))
    assert step_ceiling(gate, None) == (("email.send",), ("email.send",))
    assert step_ceiling(Step(id="lost", agent="ghost"), None) == ((), ())
