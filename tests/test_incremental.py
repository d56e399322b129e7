"""Incremental admission (``Admission``) against the batch command with ``--existing`` manifests.

The session verifies the reservations once and then decides one document at a time; its
answer must be the one ``admit`` gives for the same document with the same manifests,
byte for byte, and what it commits must count against the next document.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agentos_contracts.admit import AdmitOptions, admit
from agentos_contracts.incremental import Admission, AdmissionSetupError
from agentos_contracts.seal import keys

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "admit"
PLATFORM = str(FIX / "platform.yaml")
CLOCK = {"issued_at": "2025-01-01T00:00:00Z", "sequence": 1}


@pytest.fixture(scope="module")
def key() -> keys.PrivateKey:
    return keys.generate_private_key()


def _write(result, folder: Path) -> None:  # type: ignore[no-untyped-def]
    folder.mkdir(exist_ok=True)
    for a in result.admitted:
        (folder / f"{a.name}.manifest.json").write_bytes(a.envelope)


def test_one_document_decides_as_the_batch_command_with_existing_manifests(tmp_path: Path, key: keys.PrivateKey) -> None:
    valid = sorted((FIX / "valid").glob("*.yaml"))
    first, rest = valid[:-1], valid[-1]
    before = admit([str(p) for p in first], PLATFORM, AdmitOptions(key=key, **CLOCK))  # type: ignore[arg-type]
    _write(before, tmp_path / "held")
    options = AdmitOptions(key=key, existing=(str(tmp_path / "held"),), trusted_keys=(key.public_key(),), **CLOCK)  # type: ignore[arg-type]
    batch = admit([str(rest)], PLATFORM, options)
    session = Admission(PLATFORM, options)
    one = session.admit([str(rest)])
    assert [a.envelope for a in one.admitted] == [a.envelope for a in batch.admitted]
    assert [(r.name, r.verdict, r.reasons) for r in one.rejected] == [(r.name, r.verdict, r.reasons) for r in batch.rejected]
    assert [d.code for d in one.diagnostics] == [d.code for d in batch.diagnostics]


def test_committed_reservations_count_against_the_next_document(tmp_path: Path, key: keys.PrivateKey) -> None:
    bound = FIX / "invalid" / "AC509-token-capacity.yaml"  # two agents; the model has tokens for one
    session = Admission(PLATFORM, AdmitOptions(key=key, **CLOCK))  # type: ignore[arg-type]
    docs = bound.read_text(encoding="utf-8").split("\n---\n")
    assert len(docs) == 2
    paths = []
    for i, text in enumerate(docs):
        p = tmp_path / f"agent{i}.yaml"
        p.write_text(text, encoding="utf-8")
        paths.append(str(p))
    first = session.admit([paths[0]])
    assert first.ok and len(first.admitted) == 1
    assert session.admit([paths[1]]).ok  # not committed: the tokens are still free
    session.commit(first)
    second = session.admit([paths[1]])
    assert [r.verdict for r in second.rejected] == ["rejected"]
    assert any(x.code == "AC509" for x in second.rejected[0].reasons)
    again = session.admit([paths[0]])
    assert not again.ok and any("already admitted" in d.message for d in again.diagnostics)


def test_an_unusable_platform_is_a_setup_error(tmp_path: Path) -> None:
    bad = tmp_path / "platform.yaml"
    bad.write_text("apiVersion: agentos/v0.2\nkind: Platform\nname: p\nnodes: 3\n", encoding="utf-8")
    with pytest.raises(AdmissionSetupError) as info:
        Admission(str(bad))
    assert info.value.diagnostics and all(d.code.startswith("AC") for d in info.value.diagnostics)


def test_a_committed_namespace_is_not_given_to_another_tenant(tmp_path: Path, key: keys.PrivateKey) -> None:
    """What a session committed counts for tenant isolation, as an admitted manifest does in batch."""
    gov = Path(__file__).resolve().parent / "fixtures" / "governance"
    for name in ("platform.yaml", "own.policy", "tenant.policy"):
        if (gov / name).exists():
            (tmp_path / name).write_text((gov / name).read_text(encoding="utf-8"), encoding="utf-8")
    owner = (gov / "agent.yaml").read_text(encoding="utf-8").replace("policies: [own.policy]\n", "") \
        .replace("capabilities: [web.fetch, payment.charge, notes.remember]", "capabilities: [web.fetch]") \
        .replace("budgets: {cost_per_day: 999}\n", "memory: {namespace: shop-notes}\n")
    intruder = owner.replace("name: shopper", "name: intruder").replace("tenant: shop\n", "tenant: clinic\n")
    (tmp_path / "owner.yaml").write_text(owner, encoding="utf-8")
    (tmp_path / "intruder.yaml").write_text(intruder, encoding="utf-8")
    session = Admission(str(tmp_path / "platform.yaml"), AdmitOptions(key=key, **CLOCK))  # type: ignore[arg-type]
    first = session.admit([str(tmp_path / "owner.yaml")])
    assert first.ok, [d.message for d in first.diagnostics] + [r.message for x in first.rejected for r in x.reasons]
    assert session.admit([str(tmp_path / "intruder.yaml")]).ok  # nothing committed yet
    session.commit(first)
    after = session.admit([str(tmp_path / "intruder.yaml")])
    assert [r.code for x in after.rejected for r in x.reasons] == ["AC541"]
