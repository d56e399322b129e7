"""What the runtime enforces from the manifest's layered sections: model limits and memory namespaces.

The manifest seals ``modelPolicy`` and ``memory`` so they are promises the runtime keeps
(documents.md, "Everything sealed is enforced"): a model call whose input exceeds
``maxContextTokens`` or that asks for more than ``maxOutputTokens`` is refused before it
runs, and a memory tool is held to the sealed namespace (forced when a call names none,
refused when it names another). Reasons name limits and arguments, never values other
than the numbers compared.
"""

from __future__ import annotations

from typing import Any, Mapping

from agentos_contracts.model.manifest import BindingManifest

WORKFLOW_RULE = "workflow:step-required"
MEMORY_RULE = "manifest:memory.namespace"
MODEL_RULE = "manifest:modelPolicy"


def section(m: BindingManifest, key: str, step: str | None) -> Mapping[str, Any]:
    """The sealed ``modelPolicy``/``memory``/``observability`` a call is held to: its step's, else the manifest's."""
    if step is not None and m.workflow is not None:
        found = next((s for s in m.workflow.steps if s.id == step), None)
        value = getattr(found, key, None) if found is not None else None
    else:
        value = getattr(m, key)
    return value if isinstance(value, Mapping) else {}


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def model_call_problem(m: BindingManifest, model: str, input_tokens: Any, max_output_tokens: Any,
                       step: str | None = None) -> str | None:
    """None when the call fits the sealed modelPolicy, else why it is refused (fail closed on bad counts)."""
    tokens_in, tokens_out = _count(input_tokens), _count(max_output_tokens)
    if tokens_in is None or tokens_out is None:
        return "model call needs whole, non-negative `input_tokens` and `max_output_tokens`"
    policy = section(m, "model_policy", step)
    bound = {r.name for r in m.resolved.models}
    name = model.split("@", 1)[0] if isinstance(model, str) else None
    if name is None or (bound and name not in bound):
        return f"model `{model}` is not a model this manifest binds ({', '.join(sorted(bound)) or 'none'})"
    limit_in = policy.get("maxContextTokens")
    if isinstance(limit_in, int) and tokens_in > limit_in:
        return f"input of {tokens_in} tokens exceeds modelPolicy.max_context_tokens {limit_in}"
    limit_out = policy.get("maxOutputTokens")
    if isinstance(limit_out, int) and tokens_out > limit_out:
        return f"asks for {tokens_out} output tokens, above modelPolicy.max_output_tokens {limit_out}"
    return None


def memory_problem(m: BindingManifest, action: str, args: dict[str, Any], *, force: bool,
                   step: str | None = None) -> str | None:
    """Hold a memory tool to the sealed namespace: set it when absent (``force``), refuse any other."""
    memory = section(m, "memory", step)
    tools = memory.get("tools")
    if not isinstance(tools, Mapping) or action not in tools:
        return None
    arg = str(tools[action])
    namespace = memory.get("namespace")
    if not isinstance(namespace, str):
        return f"`{action}` is a memory tool and the manifest seals no memory namespace"
    if arg not in args:
        if force:
            args[arg] = namespace
            return None
        return f"`{action}` is a memory tool: argument `{arg}` must name the sealed namespace"
    if args[arg] != namespace:
        return f"`{action}` names another memory namespace in `{arg}` than the sealed `memory.namespace`"
    return None
