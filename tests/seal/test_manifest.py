"""seal_manifest / verify_manifest: determinism, every refusal, and tamper resistance."""

from __future__ import annotations

import base64
import copy
import json
import os
import random
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.model.manifest import BindingManifest
from agentos_contracts.seal import dsse, keys
from agentos_contracts.seal.canonical import canonicalize, sha256_digest
from agentos_contracts.seal.manifest import SealError, VerifyResult, seal_manifest, verify_manifest
from agentos_contracts.seal.statement import PAYLOAD_TYPE, make_statement, make_subject

SUBJECTS: list[tuple[str, bytes | str]] = [
    ("contract:contracts/safety.yaml", b"apiVersion: agentos/v0.2\nkind: AgentContract\n"),
    ("policy:policies/safety.compiled.json", "sha256:" + "ab" * 32),
    ("platform:platform.yaml", b"kind: Platform\n"),
]


def _codes(result: VerifyResult) -> list[str]:
    return [p.code for p in result.problems]


def _sign_statement(statement: Any, key: keys.PrivateKey, payload_type: str = PAYLOAD_TYPE) -> bytes:
    """A correctly signed envelope around any payload: isolates checks after the signature."""
    payload = statement if isinstance(statement, bytes) else canonicalize(statement)
    return dsse.dump(dsse.sign(payload_type, payload, [key]))


def _statement(predicate: dict[str, Any]) -> dict[str, Any]:
    return make_statement(predicate, [make_subject(n, c) for n, c in SUBJECTS])


# --- determinism ------------------------------------------------------------------------

def test_same_inputs_and_key_give_identical_bytes(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey) -> None:
    first = seal_manifest(hrt_predicate, SUBJECTS, signing_key)
    shuffled = dict(reversed(list(copy.deepcopy(hrt_predicate).items())))
    assert seal_manifest(shuffled, list(reversed(SUBJECTS)), signing_key) == first
    assert seal_manifest(BindingManifest.from_json(hrt_predicate), SUBJECTS, signing_key) == first
    assert first == canonicalize(json.loads(first))  # the envelope itself is canonical


def test_sealed_manifest_verifies(workflow_predicate: dict[str, Any], signing_key: keys.PrivateKey) -> None:
    sealed = seal_manifest(workflow_predicate, SUBJECTS, signing_key)
    result = verify_manifest(sealed, [signing_key.public_key()], now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert result.ok and result.problems == ()
    payload = base64.b64decode(json.loads(sealed)["payload"])
    assert result.digest == sha256_digest(payload)
    assert result.signed_by == (keys.keyid(signing_key.public_key()),)
    assert result.predicate == workflow_predicate
    assert result.manifest == BindingManifest.from_json(workflow_predicate)
    assert result.manifest is not None and result.manifest.workflow is not None
    assert [s.id for s in result.manifest.workflow.steps] == ["plan", "fetch", "approve"]


def test_any_trusted_key_suffices(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey, other_key: keys.PrivateKey) -> None:
    sealed = seal_manifest(hrt_predicate, SUBJECTS, [other_key, signing_key])
    assert verify_manifest(sealed, [signing_key.public_key()]).ok
    assert verify_manifest(seal_manifest(hrt_predicate, SUBJECTS, signing_key), [other_key.public_key(), signing_key.public_key()]).ok


def test_text_and_buffers_are_accepted(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey) -> None:
    sealed = seal_manifest(hrt_predicate, SUBJECTS, signing_key)
    public = [signing_key.public_key()]
    assert verify_manifest(sealed.decode(), public).ok
    assert verify_manifest(bytearray(sealed), public).ok and verify_manifest(memoryview(sealed), public).ok
    assert not verify_manifest("\ud800", public).ok  # a lone surrogate is a problem, not an exception


def test_envelope_whitespace_is_not_signed(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey) -> None:
    # DSSE signs PAE(type, payload), not the JSON around it: a pretty-printed copy still verifies
    sealed = seal_manifest(hrt_predicate, SUBJECTS, signing_key)
    pretty = (json.dumps(json.loads(sealed), indent=2) + "\n").encode()
    assert verify_manifest(pretty, [signing_key.public_key()]).ok


# --- refusals ---------------------------------------------------------------------------

def test_wrong_key(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey, other_key: keys.PrivateKey) -> None:
    result = verify_manifest(seal_manifest(hrt_predicate, SUBJECTS, signing_key), [other_key.public_key()])
    assert not result.ok and _codes(result) == ["AC605"] and result.manifest is None


def test_no_trusted_keys(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey) -> None:
    result = verify_manifest(seal_manifest(hrt_predicate, SUBJECTS, signing_key), [])
    assert _codes(result) == ["AC615"]


def test_unsigned_is_reported_and_fails(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey) -> None:
    sealed = seal_manifest(hrt_predicate, SUBJECTS, None)
    assert json.loads(sealed)["signatures"] == []
    result = verify_manifest(sealed, [signing_key.public_key()])
    assert not result.ok and result.errors == ["manifest is unsigned"] and result.manifest is None
    allowed = verify_manifest(sealed, [], allow_unsigned=True)
    assert allowed.ok and allowed.signed_by == () and allowed.manifest is not None


def test_allow_unsigned_never_excuses_a_bad_signature(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey, other_key: keys.PrivateKey) -> None:
    sealed = seal_manifest(hrt_predicate, SUBJECTS, other_key)
    assert not verify_manifest(sealed, [signing_key.public_key()], allow_unsigned=True).ok


def test_wrong_payload_type(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey) -> None:
    sealed = _sign_statement(_statement(hrt_predicate), signing_key, payload_type="application/json")
    result = verify_manifest(sealed, [signing_key.public_key()])
    assert _codes(result) == ["AC603"] and "application/json" in result.errors[0]


def test_bad_signature_under_the_trusted_keyid(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey) -> None:
    doc = json.loads(seal_manifest(hrt_predicate, SUBJECTS, signing_key))
    doc["signatures"][0]["sig"] = base64.b64encode(bytes(64)).decode()
    assert _codes(verify_manifest(json.dumps(doc).encode(), [signing_key.public_key()])) == ["AC606"]


def test_expired_manifest(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey) -> None:
    sealed = seal_manifest({**hrt_predicate, "expiresAt": "2025-06-01T00:00:00Z"}, SUBJECTS, signing_key)
    public = [signing_key.public_key()]
    assert _codes(verify_manifest(sealed, public)) == ["AC612"]  # default: the current time
    assert _codes(verify_manifest(sealed, public, now=datetime(2025, 6, 1, tzinfo=timezone.utc))) == ["AC612"]
    assert verify_manifest(sealed, public, now=datetime(2025, 5, 31, 23, 59, 59)).ok  # naive means UTC
    offset = seal_manifest({**hrt_predicate, "expiresAt": "2025-06-01T02:00:00+02:00"}, SUBJECTS, signing_key)
    assert _codes(verify_manifest(offset, public, now=datetime(2025, 6, 1, 0, 0, 1, tzinfo=timezone.utc))) == ["AC612"]


def test_issued_after_expiry(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey) -> None:
    pred = {**hrt_predicate, "issuedAt": "2025-02-01T00:00:00Z", "expiresAt": "2025-01-01T00:00:00Z"}
    result = verify_manifest(seal_manifest(pred, SUBJECTS, signing_key), [signing_key.public_key()], now=datetime(2024, 1, 1))
    assert _codes(result) == ["AC616"]


def test_invalid_calendar_date(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey) -> None:
    sealed = seal_manifest({**hrt_predicate, "expiresAt": "2025-13-01T00:00:00Z"}, SUBJECTS, signing_key)
    assert _codes(verify_manifest(sealed, [signing_key.public_key()])) == ["AC616"]


def test_sequence_against_minimum(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey) -> None:
    public = [signing_key.public_key()]
    sealed = seal_manifest({**hrt_predicate, "sequence": 4}, SUBJECTS, signing_key)
    assert verify_manifest(sealed, public, min_sequence=4).ok
    assert verify_manifest(sealed, public).ok
    result = verify_manifest(sealed, public, min_sequence=5)
    assert _codes(result) == ["AC613"] and result.errors == ["manifest sequence 4 is below the minimum 5"]
    unsequenced = seal_manifest(hrt_predicate, SUBJECTS, signing_key)
    assert _codes(verify_manifest(unsequenced, public, min_sequence=1)) == ["AC614"]


@pytest.mark.parametrize(("version", "code"), [(2, "AC609"), (0, "AC609"), ("1", "AC609"), (True, "AC609"), (None, "AC609")])
def test_unknown_format_version(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey, version: object, code: str) -> None:
    sealed = _sign_statement(_statement({**hrt_predicate, "formatVersion": version}), signing_key)
    result = verify_manifest(sealed, [signing_key.public_key()])
    assert _codes(result) == [code]  # reported as such, not as schema noise
    assert "formatVersion" in result.errors[0]


def test_unknown_semantics_version(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey) -> None:
    sealed = _sign_statement(_statement({**hrt_predicate, "semanticsVersion": "agentos/v9"}), signing_key)
    assert _codes(verify_manifest(sealed, [signing_key.public_key()])) == ["AC610"]


def test_wrong_statement_and_predicate_types(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey) -> None:
    public = [signing_key.public_key()]
    for key, value in (("_type", "https://in-toto.io/Statement/v0.1"), ("predicateType", "https://slsa.dev/provenance/v1")):
        statement = {**_statement(hrt_predicate), key: value}
        result = verify_manifest(_sign_statement(statement, signing_key), public)
        assert _codes(result) == ["AC608"] and value in result.errors[0]
    assert _codes(verify_manifest(_sign_statement([1, 2], signing_key), public)) == ["AC608"]


def test_schema_violations_are_located(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey) -> None:
    bad = copy.deepcopy(hrt_predicate)
    bad["resolved"]["placement"][0]["core"] = -1
    del bad["budgets"]
    result = verify_manifest(_sign_statement(_statement(bad), signing_key), [signing_key.public_key()])
    assert set(_codes(result)) == {"AC611"}
    assert any("`/predicate/resolved/placement/0/core`" in e for e in result.errors)
    assert any("'budgets' is a required property" in e for e in result.errors)


def test_payload_must_be_canonical(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey) -> None:
    pretty = json.dumps(_statement(hrt_predicate), indent=1).encode()
    result = verify_manifest(_sign_statement(pretty, signing_key), [signing_key.public_key()])
    assert _codes(result) == ["AC607"] and "canonical" in result.errors[0]


def test_payload_with_duplicate_keys(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey) -> None:
    text = canonicalize(_statement(hrt_predicate)).replace(b'{"_type":', b'{"_type":"x","_type":', 1)
    assert _codes(verify_manifest(_sign_statement(text, signing_key), [signing_key.public_key()])) == ["AC607"]


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"", "AC601"), (b"\xff\xfe", "AC601"), (b"[" * 100_000, "AC601"), (b"{}", "AC602"), (b"[]", "AC602"),
     (b'{"payloadType":"application/vnd.in-toto+json","payload":"QR==","signatures":[]}', "AC602"),
     (b'{"payloadType":"a","payloadType":"b"}', "AC601"), (b'{"x": NaN}', "AC601"), (b"null", "AC602")],
)
def test_malformed_input_is_a_problem_not_an_exception(data: bytes, code: str) -> None:
    result = verify_manifest(data, [])
    assert not result.ok and _codes(result)[0] == code


_STRANGER = keys.generate_private_key().public_key()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["payload", "payloadType", "signatures", "keyid", "sig", "x"]), inner, max_size=4),
    max_leaves=12,
).map(lambda v: json.dumps(v).encode()))
def test_verify_never_raises(data: bytes) -> None:
    result = verify_manifest(data, [_STRANGER])
    assert not result.ok and result.problems


# --- seal refuses what verify would refuse ----------------------------------------------

def test_seal_refuses_an_invalid_predicate(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey) -> None:
    with pytest.raises(SealError, match="'name' is a required property"):
        seal_manifest({k: v for k, v in hrt_predicate.items() if k != "name"}, SUBJECTS, signing_key)
    with pytest.raises(SealError):
        seal_manifest({**hrt_predicate, "formatVersion": 2}, SUBJECTS, signing_key)
    with pytest.raises(SealError, match="not a JSON number|nan"):
        seal_manifest({**hrt_predicate, "slo": {"wcet_ms": float("nan")}}, SUBJECTS, signing_key)
    with pytest.raises(SealError, match="not a sha256 digest"):
        seal_manifest(hrt_predicate, [("contract", "sha256:bad")], signing_key)
    with pytest.raises(SealError, match="at least one subject"):
        seal_manifest(hrt_predicate, [], signing_key)


# --- tamper resistance ------------------------------------------------------------------

def _mutations(position: int, original: int, rnd: random.Random) -> set[int]:
    """Flip the lowest bit (hits base64 twins such as Q/R), flip case, and one random other byte."""
    out = {original ^ 0x01, original ^ 0x20, rnd.choice([b for b in range(256) if b != original])}
    out.discard(original)
    return out


def _small_manifest(predicate: dict[str, Any], key: keys.PrivateKey) -> bytes:
    small = copy.deepcopy(predicate)
    small.update(policy=None, provenance={}, requested={"mode": "strict"})
    return seal_manifest(small, SUBJECTS[:1], key)


def test_every_single_byte_change_is_rejected(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey) -> None:
    # a small but complete manifest: every byte position, three substitutions each
    sealed = _small_manifest(hrt_predicate, signing_key)
    public = [signing_key.public_key()]
    assert verify_manifest(sealed, public).ok
    rnd = random.Random(8785)
    accepted: list[tuple[int, int]] = []
    checked = 0
    for position, original in enumerate(sealed):
        for replacement in _mutations(position, original, rnd):
            tampered = sealed[:position] + bytes([replacement]) + sealed[position + 1:]
            checked += 1
            if verify_manifest(tampered, public).ok:
                accepted.append((position, replacement))
    assert accepted == []
    assert checked >= 2 * len(sealed)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("AGENTOS_EXHAUSTIVE"), reason="about a minute; set AGENTOS_EXHAUSTIVE=1")
def test_every_byte_value_at_every_position_is_rejected(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey) -> None:
    sealed = _small_manifest(hrt_predicate, signing_key)
    public = [signing_key.public_key()]
    for position, original in enumerate(sealed):
        for replacement in range(256):
            if replacement != original:
                tampered = sealed[:position] + bytes([replacement]) + sealed[position + 1:]
                assert not verify_manifest(tampered, public).ok, (position, replacement)


def test_every_value_of_the_base64_tail_bytes_is_rejected(hrt_predicate: dict[str, Any], signing_key: keys.PrivateKey) -> None:
    # the last characters of payload and sig carry padding bits: all 255 alternatives each
    sealed = seal_manifest(hrt_predicate, SUBJECTS, signing_key)
    doc = json.loads(sealed)
    public = [signing_key.public_key()]
    positions: list[int] = []
    for value in (doc["payload"], doc["signatures"][0]["sig"]):
        end = sealed.index(value.encode()) + len(value)
        positions += range(end - 4, end)
    for position in positions:
        for replacement in range(256):
            if replacement != sealed[position]:
                tampered = sealed[:position] + bytes([replacement]) + sealed[position + 1:]
                assert not verify_manifest(tampered, public).ok, (position, replacement)
