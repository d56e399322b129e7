"""The example policies compile for the contracts that name them, and their cases pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentos_contracts.documents.discover import read_source
from agentos_contracts.documents.loader import load_source
from agentos_contracts.policy.compiler import compile_paths
from agentos_contracts.policy.tools import schemas_from_platform

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = sorted((ROOT / "contracts").glob("*.yaml"))


def data(path: Path) -> dict:
    source, _ = read_source(str(path))
    assert source is not None
    return load_source(source).documents[0].data


@pytest.mark.parametrize("contract_path", CONTRACTS, ids=lambda p: p.stem)
def test_each_contract_s_policies_compile_against_it(contract_path: Path) -> None:
    contract = data(contract_path)
    tools = schemas_from_platform(data(ROOT / "contracts" / "platforms" / "city-edge.yaml"))
    files = [str(contract_path.parent / p) for p in contract.get("policies", [])]
    assert files and all(Path(f).is_file() for f in files)
    result = compile_paths(files, contract, tool_schemas=tools)
    assert result.ok, result.diagnostics
    # only a policy shared by several agents may reach outside one agent's ceiling
    assert {d.code for d in result.diagnostics} <= {"AC333"}, result.diagnostics
    if any(d.code == "AC333" for d in result.diagnostics):
        assert contract["name"] in ("planner", "browser-agent", "doc-rag-planner-hrt")


def test_every_example_policy_has_a_case_file() -> None:
    policies = {p.stem for p in (ROOT / "contracts" / "policies").glob("*.policy")}
    cases = {p.name.removesuffix(".cases.yaml") for p in (ROOT / "contracts" / "policies").glob("*.cases.yaml")}
    assert policies == {"doc-rag-planner", "safety-kill-switch", "speech-copilot", "city-permit", "overnight-indexer"}
    assert policies <= cases
