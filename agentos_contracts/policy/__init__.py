"""The policy DSL: parse, check, compile, decide (design: policy-dsl.md).

Importing this package loads nothing heavy: compiling imports the parser (and lark)
on first use, and the runtime path (``ir`` + ``evaluator``) never loads lark.

    policy = compile_files(["doc-rag.policy"], contract=contract_data)
    policy.decide("web.fetch", {"risk_score": 0.2, "args": {"host": "city.gov"}})
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

if TYPE_CHECKING:
    from agentos_contracts.diagnostics import Diagnostic
    from agentos_contracts.policy.evaluator import CompiledPolicy, Decision

__all__ = ["CompiledPolicy", "Decision", "check_policy_files", "compile_files", "load_compiled"]


def compile_files(paths: Sequence[str], contract: Mapping[str, Any] | None = None, *,
                  tool_schemas: Mapping[str, Any] | None = None) -> CompiledPolicy:
    """Compile policy files (+ the contract's data, + tools' MCP inputSchemas) into a deciding policy.

    With errors the result's ``ok`` is False, ``diagnostics`` says why, and it denies everything.
    With a contract and no paths, each capability is allowed unconditionally (the design note).
    """
    from agentos_contracts.policy import compiler

    return compiler.compile_files(paths, contract, tool_schemas=tool_schemas)


def load_compiled(path: str) -> CompiledPolicy:
    """Load a compiled document; an unreadable, unknown-version or malformed one denies everything."""
    from agentos_contracts.policy import evaluator

    return evaluator.load_compiled(path)


def check_policy_files(paths: Sequence[str], contract: Mapping[str, Any] | None = None, *,
                       tool_schemas: Mapping[str, Any] | None = None) -> list[Diagnostic]:
    """Parse and check policies (no output written); `agentos validate` calls this lazily."""
    from agentos_contracts.policy import compiler

    return compiler.check_policy_files(paths, contract, tool_schemas=tool_schemas)


def __getattr__(name: str) -> Any:
    if name in ("CompiledPolicy", "Decision"):
        from agentos_contracts.policy import evaluator

        return getattr(evaluator, name)
    raise AttributeError(name)
