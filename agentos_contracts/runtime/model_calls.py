"""The runtime's checks beside the decision path: model calls, memory namespaces, tool results.

Each is recorded in the audit log like a tool decision, so what was refused (and why)
is as visible as what ran. Kept out of ``engine`` so the engine stays the one place
that sequences a call: decide → consent → run → record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

from agentos_contracts.runtime.authorize import Decision, args_digest
from agentos_contracts.runtime.controls import PolicyDenied
from agentos_contracts.runtime.governed import MEMORY_RULE, MODEL_RULE, memory_problem, model_call_problem
from agentos_contracts.runtime.results import check_tool_result

if TYPE_CHECKING:
    from agentos_contracts.runtime.engine import Runtime


class ToolResultRejected(Exception):
    """A tool returned a result that breaks its sealed MCP outputSchema; it was withheld from the agent."""

    def __init__(self, action: str, reason: str) -> None:
        self.action = action
        self.reason = reason
        super().__init__(reason)


def held_to_memory(rt: Runtime, action: str, args: dict[str, Any], *, force: bool, step: str | None,
                   agent: str | None) -> Decision | None:
    """A recorded deny when a memory tool's call names another namespace (None: go on to decide)."""
    problem = memory_problem(rt.manifest, action, args, force=force, step=step)
    if problem is None:
        return None
    try:
        digest = args_digest(args)
    except Exception:  # no canonical form: the deny stands without a digest
        digest = ""
    rt.record("tool.denied", agent=agent, action=str(action), decision="deny", stage="memory", rules=[MEMORY_RULE],
              reason=problem, args_digest=digest or None, step=step, retain=args if digest else None)
    return Decision(effect="deny", rules=(MEMORY_RULE,), reason=problem, stage="memory", action=action,
                    args_digest=digest)


def result_withheld(rt: Runtime, action: str, result: Any, decision: Decision, *, step: str | None,
                    agent: str | None) -> ToolResultRejected | None:
    """Check an MCP CallToolResult (a mapping) against the sealed outputSchema; record and return the refusal."""
    if not isinstance(result, Mapping) or not any(t.name == action for t in rt.manifest.resolved.tools):
        return None
    reason = check_tool_result(rt.loaded, action, result)
    if reason is None:
        return None
    rt.record("tool.failed", agent=agent, action=action, step=step, args_digest=decision.args_digest,
              outcome="withheld", error="ToolResultRejected", reason=reason)
    return ToolResultRejected(action, reason)


def authorize_model(rt: Runtime, model: str | None, input_tokens: Any, max_output_tokens: Any, *,
                    step: str | None, agent: str | None) -> Decision:
    """Decide one model call against the sealed modelPolicy (the step's in a workflow) and record it."""
    unit = model or next((m.name for m in rt.manifest.resolved.models), "model")
    action = f"model:{unit}"
    usage = {"input_tokens": str(input_tokens), "max_output_tokens": str(max_output_tokens)}
    problem = model_call_problem(rt.manifest, unit, input_tokens, max_output_tokens, step)
    if problem is None and step is None and rt.manifest.workflow is not None:
        problem = "a call against a workflow manifest must name its step"
    if problem is not None:
        rt.record("model.denied", agent=agent, action=action, decision="deny", stage="model", rules=[MODEL_RULE],
                  reason=problem, step=step, usage=usage)
        return Decision(effect="deny", rules=(MODEL_RULE,), reason=problem, stage="model", action=action,
                        args_digest="")
    rt.record("model.allowed", agent=agent, action=action, decision="allow", stage="model", rules=[MODEL_RULE],
              step=step, usage=usage)
    return Decision(effect="allow", rules=(MODEL_RULE,), reason="within the sealed modelPolicy", stage="model",
                    action=action, args_digest="")


def guarded_model_call(rt: Runtime, model: str, input_tokens: Any, max_output_tokens: Any,
                       fn: Callable[[], Any] | None, *, step: str | None, agent: str | None) -> Any:
    """Decide, then run ``fn()`` inside the runtime's timed model unit (breakers, fallbacks, canary)."""
    decision = authorize_model(rt, model, input_tokens, max_output_tokens, step=step, agent=agent)
    if decision.effect != "allow":
        raise PolicyDenied(decision)
    if fn is None:
        return None
    try:
        with rt.watch.model_call(None, model=model):
            result = fn()
    except Exception as exc:
        rt.record("model.failed", agent=agent, action=decision.action, step=step, outcome="error",
                  error=type(exc).__name__)
        raise
    rt.record("model.completed", agent=agent, action=decision.action, step=step, outcome="ok")
    return result
