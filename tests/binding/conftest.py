"""Helpers for the binding tests: small platforms and contracts built from plain dicts."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from agentos_contracts.binding.candidates import build_candidates
from agentos_contracts.binding.layering import merge_layers
from agentos_contracts.binding.options import Candidates, Unit
from agentos_contracts.model.platform import Platform
from agentos_contracts.validate.build import build_contract, build_platform

BASE_PLATFORM: dict[str, Any] = {
    "apiVersion": "agentos/v0.2", "kind": "Platform", "name": "unit", "orchestration_overhead_ms": 10,
    "nodes": [
        {"name": "edge-a", "placement": "edge", "cores": 1, "mem": "4GiB", "scheduler": "RM"},
        {"name": "edge-b", "placement": "edge", "cores": 1, "mem": "4GiB", "scheduler": "RM"},
        {"name": "prem-a", "placement": "on-prem", "cores": 8, "mem": "32GiB"},
    ],
    "models": [
        {"name": "llm", "version": "1.0.0", "placement": "on-prem", "node": "prem-a", "onset_ms_p95": 100,
         "tokens_per_s": 200, "cost_per_1k_tokens": 0.02, "capacity_tokens_per_min": 60000},
        {"name": "llm", "version": "1.1.0", "placement": "on-prem", "node": "prem-a", "onset_ms_p95": 80,
         "tokens_per_s": 250, "cost_per_1k_tokens": 0.02, "capacity_tokens_per_min": 60000},
        {"name": "cheap", "version": "1.0.0", "placement": "cloud", "onset_ms_p95": 150, "tokens_per_s": 400,
         "cost_per_1k_tokens": 0.001, "capacity_tokens_per_min": 1000000},
    ],
    "tools": [
        {"name": "notes.read", "version": "1.0.0", "rtt_ms_p95": 5, "placement": "on-prem"},
        {"name": "notes.read", "version": "1.0.0", "rtt_ms_p95": 1, "placement": "edge"},
    ],
}


def contract(name: str, latency: str = "SRT", **extra: Any) -> dict[str, Any]:
    slo = {"SRT": {"onset_ms": 300, "turn_ms": 2000}, "DT": {"tokens_per_hour": 60000},
           "HRT": {"wcet_ms": 1, "period_ms": 10}}[latency]
    data: dict[str, Any] = {"apiVersion": "agentos/v0.2", "kind": "AgentContract", "name": name,
                            "class": {"latency": latency, "slo": slo}, "capabilities": ["notes.read"]}
    data.update(extra)
    return data


def platform(**changes: Any) -> Platform:
    data = copy.deepcopy(BASE_PLATFORM)
    data.update(changes)
    return build_platform(data, "platform.yaml")


def unit(data: dict[str, Any], plat: Platform, order: int = 0, group: str | None = None) -> Unit:
    layered = merge_layers([("platform", plat.defaults), ("contract", data)])
    return Unit(key=data["name"], label=data["name"], group=group or data["name"], order=order,
                contract=build_contract(layered.data, "c.yaml"))


def candidates(data: dict[str, Any], plat: Platform | None = None, order: int = 0) -> Candidates:
    plat = plat or platform()
    return build_candidates(unit(data, plat, order), plat)


@pytest.fixture
def base() -> Platform:
    return platform()


class Kit:
    """The helpers above as a fixture (test modules cannot import conftest under importlib mode)."""

    BASE = BASE_PLATFORM
    contract = staticmethod(contract)
    platform = staticmethod(platform)
    unit = staticmethod(unit)
    candidates = staticmethod(candidates)


@pytest.fixture
def kit() -> type[Kit]:
    return Kit
