"""Runtime test fixtures: real Ed25519 keys, manifests sealed with the seal API, real files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agentos_contracts.model.manifest import BindingManifest, Resolved, ResolvedTool
from agentos_contracts.seal import keys
from agentos_contracts.seal.canonical import canonical_digest
from agentos_contracts.seal.manifest import seal_manifest

FETCH_TOOL = {
    "name": "web.fetch",
    "description": "fetch a page from an allowed host",
    "inputSchema": {
        "type": "object",
        "properties": {"host": {"type": "string"}, "path": {"type": "string"}},
        "required": ["host"],
        "additionalProperties": False,
    },
}
EMAIL_TOOL = {
    "name": "email.send",
    "description": "send an email",
    "inputSchema": {
        "type": "object",
        "properties": {"to": {"type": "string"}, "body": {"type": "string"}},
        "required": ["to", "body"],
    },
}


@dataclass
class Sealer:
    """Seals manifests into a folder with one key pair; ``pub`` is the public key file."""

    folder: Path
    key: keys.PrivateKey
    private: Path
    pub: Path

    def predicate(self, **over: Any) -> BindingManifest:
        tools = over.pop("tools", (FETCH_TOOL, EMAIL_TOOL))
        base: dict[str, Any] = dict(
            agentos_version="0.1.0", kind="AgentContract", name="permit-helper", tenant="city",
            latency_class="SRT", binding_mode="smooth",
            capabilities=("web.fetch", "summarize", "fs.read"), consent_for=("email.send",),
            resolved=Resolved(tools=tuple(
                ResolvedTool(name=t["name"], version="1.0.0", descriptor_digest=canonical_digest(t)) for t in tools)),
        )
        base.update(over)
        return BindingManifest(**base)

    def seal(self, file: str = "m", *, signed: bool = True, key: keys.PrivateKey | None = None, **over: Any) -> Path:
        data = seal_manifest(self.predicate(**over), [("contract:test.yaml", b"contract")],
                             (key or self.key) if signed else None)
        path = self.folder / f"{file}.manifest.json"
        path.write_bytes(data)
        return path


@pytest.fixture()
def sealer(tmp_path: Path) -> Sealer:
    key = keys.generate_private_key()
    private, pub = keys.save_key_pair(key, tmp_path / "keys", "signer")
    return Sealer(folder=tmp_path, key=key, private=private, pub=pub)


@pytest.fixture()
def descriptors() -> list[dict[str, Any]]:
    return [FETCH_TOOL, EMAIL_TOOL]



PERMIT_POLICY = Path(__file__).resolve().parents[1] / "fixtures" / "runtime" / "permit.policy"
PERMIT_CONTRACT = {"name": "permit-helper", "capabilities": ["web.fetch", "summarize", "fs.read"],
                   "security": {"consent_for": ["email.send"]}}


def permit_policy_document() -> dict[str, Any]:
    """tests/fixtures/runtime/permit.policy compiled with the real compiler, under the test contract."""
    from agentos_contracts.policy.compiler import compile_sources

    result = compile_sources([("permit.policy", PERMIT_POLICY.read_bytes())], PERMIT_CONTRACT,
                             tool_schemas={t["name"]: t["inputSchema"] for t in (FETCH_TOOL, EMAIL_TOOL)})
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.policy.document is not None
    return dict(result.policy.document.data)


@pytest.fixture()
def permit_policy() -> dict[str, Any]:
    return permit_policy_document()
