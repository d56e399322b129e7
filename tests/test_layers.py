"""The architecture is a test: every import follows the layer table of design/style.md §3."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "agentos_contracts"

LAYER = {
    "diagnostics": 0, "codes": 0, "resources": 0, "schemacheck": 0, "model": 0, "__init__": 0,
    "native_output": 0, "config": 0, "suppression": 0, "codedocs": 0,  # stdlib only: solver output guard, config, docs
    "documents": 1,
    "policy": 2, "sched": 2,
    "validate": 3, "binding": 3, "seal": 3, "migrate": 3,
    "admit": 4, "incremental": 4, "runtime": 4, "gateway": 4, "k8s": 4, "fleet": 4,
    "report": 5,
    "cli": 6, "__main__": 6,
}
# the few places a heavy or special dependency may be imported from
ONLY_IN = {
    "lark": ("policy/parser.py",),
    "pulp": ("sched/partition.py", "binding/milp.py"),
    "highspy": ("sched/partition.py", "binding/milp.py"),
    "networkx": ("validate/workflow.py",),
    "cryptography": ("seal/",),
    "typer": ("cli/",),
    "rich": ("cli/", "report/text.py"),
    "yaml": ("documents/",),
    "ruamel": ("migrate/rewrite.py", "migrate/files.py"),
    "starlette": ("k8s/server.py", "fleet/server.py"),
    "uvicorn": ("k8s/server.py", "fleet/server.py", "gateway/server.py"),
    "jsonschema": ("validate/schema.py", "seal/", "runtime/", "policy/cases.py"),
    "confluent_kafka": ("fleet/ship.py", "fleet/kafka.py"),
    "pymerkle": ("fleet/merkle.py",),
    "orjson": ("fleet/events.py",),
    "mcp": ("gateway/",),
    "mcp_types": ("gateway/",),
}
# fleet reads and checks audit logs: the runtime's audit-log modules and seal, nothing that enforces
FLEET_MAY_USE = {"diagnostics", "codes", "model", "seal", "fleet", "runtime.audit", "runtime.chain",
                 "runtime.logstore", "runtime.locks"}
# the gateway sits beside the runtime and drives it; it never binds, parses policies or solves
GATEWAY_MAY_USE = {"diagnostics", "codes", "resources", "schemacheck", "model", "seal", "runtime", "gateway",
                   "__version__"}
RUNTIME_MAY_USE = {"diagnostics", "codes", "resources", "schemacheck", "model", "seal", "runtime",
                   "policy.ir", "policy.evaluator", "policy"}


def modules() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


def stage_of(rel: str) -> str:
    first = rel.split("/")[0]
    return first[:-3] if first.endswith(".py") else first


def imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
            if node.module == "agentos_contracts":
                out.extend(f"agentos_contracts.{a.name}" for a in node.names)
    return out


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(PKG).as_posix())
def test_imports_follow_the_layers(path: Path) -> None:
    rel = path.relative_to(PKG).as_posix()
    me = stage_of(rel)
    problems = []
    for mod in imports(path):
        top = mod.split(".")[0]
        if top == "agentos_contracts":
            parts = mod.split(".")
            if len(parts) == 1:
                continue
            target = parts[1]
            if target == "cli" and me not in ("cli", "__main__"):
                problems.append(f"{mod}: nothing imports the CLI")
            elif LAYER.get(target, 0) > LAYER[me]:
                problems.append(f"{mod}: layer {LAYER[target]} imported from layer {LAYER[me]}")
            elif me == "runtime" and target not in RUNTIME_MAY_USE and ".".join(parts[1:3]) not in RUNTIME_MAY_USE:
                problems.append(f"{mod}: the runtime uses only seal, policy.ir/evaluator and layer 0")
            elif me == "runtime" and target == "policy" and len(parts) > 2 and parts[2] not in ("ir", "evaluator"):
                problems.append(f"{mod}: the runtime never loads the policy compiler")
            elif me == "fleet" and target not in FLEET_MAY_USE and ".".join(parts[1:3]) not in FLEET_MAY_USE:
                problems.append(f"{mod}: fleet uses only seal and the runtime's audit-log modules")
            elif me == "gateway" and target not in GATEWAY_MAY_USE:
                problems.append(f"{mod}: the gateway uses only the runtime, seal and layer 0")
            elif me == "model" and target not in ("model", "diagnostics"):
                problems.append(f"{mod}: the model uses the stdlib and diagnostics.Span only")
        elif top in ONLY_IN and not any(rel.startswith(p) for p in ONLY_IN[top]):
            problems.append(f"{mod}: only {', '.join(ONLY_IN[top])} may import {top}")
    assert not problems, problems
