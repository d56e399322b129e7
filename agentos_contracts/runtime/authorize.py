"""Deciding one call: ceiling → compiled policy → MCP argument schema → budgets; consent is the last word.

A call made inside a workflow step meets the step's own ceiling first (its agent's
capabilities, narrowed by the step), then the manifest's: least privilege across
delegations, so one step never borrows another agent's grants.

Budgets come before consent so a person is never asked to approve a call the budget
would refuse. Every step fails closed: an exception anywhere is a deny whose reason
names the stage and the error type (never its message, which could quote arguments).
Reasons name rules, attributes and schema keywords, never argument values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol, Sequence

from agentos_contracts.runtime.budgets import Budgets
from agentos_contracts.seal.canonical import canonicalize, sha256_digest

ACTION = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z][A-Za-z0-9_-]*)*")
CEILING_RULE = "contract:capabilities"
CONSENT_RULE = "contract:consent_for"
STEP_RULE = "step:{}:capabilities"
MAX_NAMES = 4096  # bound on remembered well-formed action names
STAGES = ("ceiling", "policy", "schema", "budget", "error")
_UNBOUND: Any = object()  # marks an action with no bound tool in ``Authorizer.tools``


class PolicyDecision(Protocol):
    @property
    def effect(self) -> str: ...

    @property
    def rules(self) -> Sequence[str]: ...

    @property
    def reason(self) -> str: ...


class Policy(Protocol):
    def decide(self, action: str, context: Mapping[str, Any], args: Mapping[str, Any] | None = None) -> PolicyDecision:
        """``policy.evaluator.CompiledPolicy.decide``: args are seen at ``context["args"]``."""


class ArgsValidator(Protocol):
    def problem(self, args: Mapping[str, Any]) -> str | None: ...


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class Decision:
    """What the runtime decided and which stage decided it; ``effect`` is allow, deny or consent."""

    effect: str
    rules: tuple[str, ...]
    reason: str
    stage: str
    action: str
    args_digest: str

    def __init__(self, *, effect: str, rules: tuple[str, ...], reason: str, stage: str, action: str,
                 args_digest: str) -> None:
        # one per decision: the slots' own setters, a third cheaper than the frozen __init__'s
        # object.__setattr__ calls; the instance stays frozen for everyone else
        put = _DECISION_SLOTS
        put[0](self, effect)
        put[1](self, rules)
        put[2](self, reason)
        put[3](self, stage)
        put[4](self, action)
        put[5](self, args_digest)

    @property
    def allowed(self) -> bool:
        return self.effect == "allow"

    def to_json(self) -> dict[str, Any]:
        return {"decision": self.effect, "rules": list(self.rules), "reason": self.reason, "stage": self.stage}


_DECISION_SLOTS = tuple(Decision.__dict__[f].__set__
                        for f in ("effect", "rules", "reason", "stage", "action", "args_digest"))


def target_matches(target: str, action: str) -> bool:
    """`*` matches all; `name.*` every action under `name.` (not `name`); anything else exactly."""
    if target == "*":
        return True
    if target.endswith(".*"):
        return action.startswith(target[:-1])
    return target == action


class Targets:
    """A target list compiled for lookup: exact names in a set, `name.*` prefixes, `*`.

    Answers are remembered per action (up to ``MAX_NAMES``): the prefix scan is a
    generator, about a microsecond, and a runtime sees the same few actions again and again.
    """

    __slots__ = ("exact", "prefixes", "every", "targets", "_seen")

    def __init__(self, targets: Sequence[str]) -> None:
        self.targets = tuple(targets)
        self.every = "*" in self.targets
        self.prefixes = tuple(t[:-1] for t in self.targets if t.endswith(".*"))
        self.exact = frozenset(t for t in self.targets if t != "*" and not t.endswith(".*"))
        self._seen: dict[str, bool] = {}

    def matches(self, action: str) -> bool:
        found = self._seen.get(action) if action.__class__ is str else None
        if found is not None:
            return found
        found = self.every or action in self.exact or any(action.startswith(p) for p in self.prefixes)
        if action.__class__ is str and len(self._seen) < MAX_NAMES:
            self._seen[action] = found
        return found


def args_digest(args: Mapping[str, Any]) -> str:
    return sha256_digest(canonicalize(args if args.__class__ is dict else dict(args)))  # canonicalize never mutates


class StepCeiling:
    """One workflow step's ceiling (capabilities ∪ consentFor) and its consent targets."""

    __slots__ = ("within", "consent")

    def __init__(self, capabilities: Sequence[str], consent_for: Sequence[str]) -> None:
        self.within = Targets(tuple(capabilities) + tuple(consent_for))
        self.consent = Targets(consent_for)


def step_rule(step: str) -> str:
    return STEP_RULE.format(step)


class Authorizer:
    """The decision path, built once per manifest; ``decide`` is pure apart from reading the budgets."""

    def __init__(self, *, capabilities: Sequence[str], consent_for: Sequence[str], policy: Policy | None,
                 tools: Mapping[str, ArgsValidator | None], budgets: Budgets,
                 steps: Mapping[str, StepCeiling] | None = None, unchecked: Sequence[str] = ()) -> None:
        self.ceiling = tuple(capabilities) + tuple(consent_for)
        # actions that may run with no bound tool: those the ceiling names exactly, and the manifest's unchecked
        # actions; an action reached only through a glob (`payment.*`) has no descriptor and is denied
        self.unchecked = frozenset(unchecked) | {a for a in self.ceiling if "*" not in a}
        self.consent_for = tuple(consent_for)
        self._ceiling = Targets(self.ceiling)
        self._consent = Targets(self.consent_for)
        self.steps: Mapping[str, StepCeiling] = dict(steps or {})
        self.policy = policy
        self.tools = tools
        self.budgets = budgets
        self._names: set[str] = set()

    def decide(self, action: str, context: Mapping[str, Any], args: Mapping[str, Any], *,
               step: str | None = None, consent_for: Sequence[str] = (), tokens: Any = 0, cost: Any = 0,
               at: int | None = None, digest: Callable[[Mapping[str, Any]], str] = args_digest) -> Decision:
        """Decide; ``step`` applies that workflow step's ceiling and consent list first (an unknown
        step is denied); ``consent_for`` adds targets that need consent here."""
        stage = "error"
        try:
            digest_text = digest(args)
        except Exception as exc:  # arguments with no canonical form cannot be bound to anything
            return Decision(effect="deny", rules=(), reason=f"arguments have no canonical form ({type(exc).__name__})",
                            stage="error", action=str(action), args_digest="")
        try:
            stage = "ceiling"
            if action.__class__ is not str or action not in self._names:
                if not isinstance(action, str) or not ACTION.fullmatch(action):
                    return self._deny("malformed action name", stage, action, digest_text)
                if len(self._names) < MAX_NAMES:  # well-formed names seen, so the pattern runs once per name
                    self._names.add(action)
            outside = self.outside(action, step)
            if outside is not None:
                return self._deny(outside[1], stage, action, digest_text, outside[0])
            stage = "policy"
            effect, rules, reason = self._policy(action, context, args)
            if effect == "deny":
                return Decision(effect="deny", rules=rules, reason=reason, stage=stage, action=action,
                                args_digest=digest_text)
            if effect == "allow" and (self._consent.matches(action)
                                      or (step is not None and self._step_consent(action, step))
                                      or (consent_for and any(target_matches(t, action) for t in consent_for))):
                effect, rules, reason = "consent", (CONSENT_RULE,), f"`{action}` needs consent ({CONSENT_RULE})"
            stage = "schema"
            validator = self.tools.get(action, _UNBOUND)
            if validator is not _UNBOUND:
                problem = validator.problem(args) if validator is not None \
                    else f"no MCP input schema is known for bound tool `{action}`"
                if problem is not None:
                    return self._deny(problem, stage, action, digest_text)
            elif action not in self.unchecked:  # reached through a glob only: no tool, no argument check
                return self._deny(f"`{action}` names no bound tool and is not an unchecked action of the manifest",
                                  stage, action, digest_text)
            stage = "budget"
            over = self.budgets.check(calls=1, tokens=tokens, cost=cost, at=at)
            if over is not None:
                return self._deny(over, stage, action, digest_text)
            return Decision(effect=effect, rules=rules, reason=reason, stage="policy", action=action,
                            args_digest=digest_text)
        except Exception as exc:  # fail closed, whatever broke
            return self._deny(f"{stage} check failed ({type(exc).__name__}): denied", "error", str(action), digest_text)

    def outside(self, action: str, step: str | None = None) -> tuple[tuple[str, ...], str] | None:
        """``(rules, reason)`` when ``action`` is beyond the step's ceiling (checked first) or the manifest's.

        A workflow manifest's calls must name their step: the union of all steps' ceilings
        is never a step's (documents.md, "Workflow scopes").
        """
        if step is None and self.steps:
            return ("workflow:step-required",), "a call against a workflow manifest must name its step"
        if step is not None:
            ceiling = self.steps.get(step) if isinstance(step, str) else None
            if ceiling is None:
                return (step_rule(str(step)),), f"step `{step}` is not a step of this manifest"
            if not ceiling.within.matches(action):
                return (step_rule(step),), f"`{action}` is outside the capabilities of step `{step}`"
        if not self._ceiling.matches(action):
            return (CEILING_RULE,), f"`{action}` is outside the contract's capabilities"
        return None

    def _step_consent(self, action: str, step: str | None) -> bool:
        return step is not None and self.steps[step].consent.matches(action)

    def _policy(self, action: str, context: Mapping[str, Any], args: Mapping[str, Any]) -> tuple[str, tuple[str, ...], str]:
        # exact dicts first: an isinstance check against typing's Mapping costs microseconds
        if not (context.__class__ is dict or isinstance(context, Mapping)) \
                or not (args.__class__ is dict or isinstance(args, Mapping)):
            return "deny", (), "request context and arguments must be JSON objects"
        if self.policy is None:  # no policy named: each capability allowed, consent_for needs consent
            if self._consent.matches(action):
                return "consent", (CONSENT_RULE,), f"`{action}` needs consent ({CONSENT_RULE})"
            return "allow", (CEILING_RULE,), f"allowed by {CEILING_RULE}"
        decision = self.policy.decide(action, context, args)
        effect = decision.effect
        if effect not in ("allow", "deny", "consent"):
            return "deny", tuple(decision.rules), f"policy returned unknown effect `{effect}`"
        return effect, tuple(decision.rules), decision.reason

    @staticmethod
    def _deny(reason: str, stage: str, action: str, digest_text: str, rules: tuple[str, ...] = ()) -> Decision:
        return Decision(effect="deny", rules=rules, reason=reason, stage=stage, action=action, args_digest=digest_text)
