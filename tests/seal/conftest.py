"""Shared fixtures for the seal tests: predicates from tests/fixtures/seal and keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentos_contracts.seal import keys

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "seal"


def load_predicate(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "valid" / f"{name}.predicate.json").read_text("utf-8"))


@pytest.fixture
def hrt_predicate() -> dict[str, Any]:
    return load_predicate("hrt-agent")


@pytest.fixture
def workflow_predicate() -> dict[str, Any]:
    return load_predicate("workflow")


@pytest.fixture(scope="session")
def signing_key() -> keys.PrivateKey:
    # a fixed key (RFC 8032 test 1 secret) keeps manifests byte-stable across runs
    return keys.PrivateKey.from_private_bytes(
        bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    )


@pytest.fixture(scope="session")
def other_key() -> keys.PrivateKey:
    return keys.generate_private_key()

