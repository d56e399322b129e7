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
from typing import Any, Callable, Mapping, NamedTuple, Protocol, Sequence

from agentos_contracts.runtime.budgets import Budgets
from agentos_contracts.seal.canonical import object_digest

ACTION = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z][A-Za-z0-9_-]*)*")
CEILING_RULE = "contract:capabilities"
CONSENT_RULE = "contract:consent_for"
STEP_RULE = "step:{}:capabilities"
MAX_NAMES = 4096  # bound on remembered well-formed action names
STAGES = ("ceiling", "policy", "schema", "budget", "error")
_UNBOUND: Any = object()  # marks an action with no bound tool in ``Authorizer.tools``
NOT_OBJECTS = "request context and arguments must be JSON objects"
ALLOWED_BY_CEILING = f"allowed by {CEILING_RULE}"


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


class Decision(NamedTuple):
    """What the runtime decided and which stage decided it; ``effect`` is allow, deny or consent.

    An immutable record made once per call on the hot path: a named tuple is built by one C
    call (``tuple.__new__``), about a fifth of what a frozen dataclass's ``__init__`` costs.
    """

    effect: str
    rules: tuple[str, ...]
    reason: str
    stage: str
    action: str
    args_digest: str

    @property
    def allowed(self) -> bool:
        return self.effect == "allow"

    def to_json(self) -> dict[str, Any]:
        return {"decision": self.effect, "rules": list(self.rules), "reason": self.reason, "stage": self.stage}


_new = tuple.__new__  # Decision from a tuple in field order, skipping the generated __new__'s frame


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
    return object_digest(args if args.__class__ is dict else dict(args))  # neither path mutates


class StepCeiling:
    """One workflow step's ceiling (capabilities ∪ consentFor) and its consent targets."""

    __slots__ = ("within", "consent")

    def __init__(self, capabilities: Sequence[str], consent_for: Sequence[str]) -> None:
        self.within = Targets(tuple(capabilities) + tuple(consent_for))
        self.consent = Targets(consent_for)


# an action's route: the ceiling's refusal (rules, reason) or None, whether the contract asks consent for it,
# its argument check (a validator, a fixed refusal, or None when there is nothing to check) and that
# validator's compiled check when it has one
_Route = tuple[tuple[tuple[str, ...], str] | None, bool, "ArgsValidator | str | None", "Callable[[Any], Any] | None"]


def step_rule(step: str) -> str:
    return STEP_RULE.format(step)


class Authorizer:
    """The decision path, built once per manifest; ``decide`` is pure apart from reading the budgets.

    What depends only on the action (and the step), never on the request, is worked out once
    per action and kept as its *route*: the ceiling's refusal, whether the contract asks
    consent for it, and how its arguments are checked. A call then costs one look-up for all
    of that, plus the policy, the argument check and the budgets.
    """

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
        self.tools: Mapping[str, ArgsValidator | None] = dict(tools)  # a copy: routes remember its answers
        self.budgets = budgets
        self._routes: dict[str, _Route] = {}
        self._step_routes: dict[str, dict[str, _Route]] = {name: {} for name in self.steps}

    def decide(self, action: str, context: Mapping[str, Any], args: Mapping[str, Any], *,
               step: str | None = None, consent_for: Sequence[str] = (), tokens: Any = 0, cost: Any = 0,
               at: int | None = None, digest: Callable[[Mapping[str, Any]], str] = args_digest) -> Decision:
        """Decide; ``step`` applies that workflow step's ceiling and consent list first (an unknown
        step is denied); ``consent_for`` adds targets that need consent here."""
        try:
            digest_text = digest(args)
        except Exception as exc:  # arguments with no canonical form cannot be bound to anything
            return _new(Decision, ("deny", (), f"arguments have no canonical form ({type(exc).__name__})", "error",
                                   str(action), ""))
        stage = "ceiling"
        try:
            routes = self._routes if step is None else self._step_routes.get(step) if step.__class__ is str else None
            route = routes.get(action) if routes is not None and action.__class__ is str else None
            if route is None:
                route = self._route(action, step, routes)
            refusal, consent, check, quick = route
            if refusal is not None:
                return _new(Decision, ("deny", refusal[0], refusal[1], stage, action, digest_text))
            stage = "policy"
            # exact dicts first: an isinstance check against typing's Mapping costs microseconds
            if not (context.__class__ is dict or isinstance(context, Mapping)) \
                    or not (args.__class__ is dict or isinstance(args, Mapping)):
                return _new(Decision, ("deny", (), NOT_OBJECTS, stage, action, digest_text))
            policy = self.policy
            if policy is None:  # no policy named: each capability allowed, consent_for needs consent
                effect, rules, reason = "allow", (CEILING_RULE,), ALLOWED_BY_CEILING
            else:
                decided = policy.decide(action, context, args)
                effect, rules, reason = decided.effect, decided.rules, decided.reason
                if rules.__class__ is not tuple:
                    rules = tuple(rules)
                if effect == "deny":
                    return _new(Decision, ("deny", rules, reason, stage, action, digest_text))
                if effect != "allow" and effect != "consent":
                    return _new(Decision, ("deny", rules, f"policy returned unknown effect `{effect}`", stage, action,
                                           digest_text))
            if effect == "allow" and (consent or (consent_for and any(target_matches(t, action) for t in consent_for))):
                effect, rules, reason = "consent", (CONSENT_RULE,), f"`{action}` needs consent ({CONSENT_RULE})"
            stage = "schema"
            if quick is not None:  # a compiled schema check: one call, its reason made only on failure
                failed = quick(args)
                if failed is not None:
                    return _new(Decision, ("deny", (), check.explain(failed), stage, action,  # type: ignore[union-attr]
                                           digest_text))
            elif check is not None:
                problem = check if check.__class__ is str else check.problem(args)  # type: ignore[union-attr]
                if problem is not None:
                    return _new(Decision, ("deny", (), problem, stage, action, digest_text))
            stage = "budget"
            over = self.budgets.check(1, tokens, cost, at)
            if over is not None:
                return _new(Decision, ("deny", (), over, stage, action, digest_text))
            return _new(Decision, (effect, rules, reason, "policy", action, digest_text))
        except Exception as exc:  # fail closed, whatever broke
            return _new(Decision, ("deny", (), f"{stage} check failed ({type(exc).__name__}): denied", "error",
                                   str(action), digest_text))

    def inside(self, action: str) -> bool:
        """Whether ``action`` (with no step) is within the manifest's ceiling: its route's answer, kept."""
        route = self._routes.get(action) if action.__class__ is str else None
        if route is None:
            if not isinstance(action, str) or not ACTION.fullmatch(action):
                return self.outside(action) is None  # the ceiling alone: a malformed name gets no route
            route = self._route(action, None, self._routes)
        return route[0] is None

    def _route(self, action: Any, step: Any, routes: dict[str, _Route] | None) -> _Route:
        """What the ceiling, the consent list and the bound tools say of ``action`` (kept in
        ``routes`` for a well-formed name, up to ``MAX_NAMES`` of them)."""
        if not isinstance(action, str) or not ACTION.fullmatch(action):
            return ((), "malformed action name"), False, None, None
        outside = self.outside(action, step)
        consent = self._consent.matches(action) or (outside is None and step is not None
                                                    and self._step_consent(action, step))
        validator = self.tools.get(action, _UNBOUND)
        check: ArgsValidator | str | None = None
        if validator is None:
            check = f"no MCP input schema is known for bound tool `{action}`"
        elif validator is not _UNBOUND:
            check = validator
        elif action not in self.unchecked:  # reached through a glob only: no tool, no argument check
            check = f"`{action}` names no bound tool and is not an unchecked action of the manifest"
        # a validator that offers a compiled check (``quick``) and its reason (``explain``) is called once
        quick = getattr(check, "quick", None) if hasattr(check, "explain") else None
        route = (outside, consent, check, quick)
        if routes is not None and action.__class__ is str and len(routes) < MAX_NAMES:
            routes[action] = route
        return route

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
