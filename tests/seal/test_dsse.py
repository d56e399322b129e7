"""DSSE v1: the PAE vector from the spec, signing, and the strict reading of envelopes."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest

from agentos_contracts.seal import dsse, keys


def test_pae_matches_the_spec_example() -> None:
    # protocol.md of secure-systems-lab/dsse
    assert dsse.pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_pae_counts_bytes_not_characters() -> None:
    assert dsse.pae("", b"") == b"DSSEv1 0  0 "
    assert dsse.pae("t\u00e9", b"\x00\xff") == b"DSSEv1 3 t\xc3\xa9 2 \x00\xff"


def test_ed25519_matches_rfc8032_test_1(signing_key: keys.PrivateKey) -> None:
    # RFC 8032 section 7.1, TEST 1: empty message; proves the signer is pure, deterministic Ed25519
    public = signing_key.public_key().public_bytes_raw()
    assert public.hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert signing_key.sign(b"").hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )


def test_sign_is_deterministic_and_verifies(signing_key: keys.PrivateKey) -> None:
    env1 = dsse.sign("application/x-test", b"payload", [signing_key])
    env2 = dsse.sign("application/x-test", b"payload", [signing_key])
    assert dsse.dump(env1) == dsse.dump(env2)
    assert env1.signatures[0].keyid == keys.keyid(signing_key.public_key())
    assert dsse.verified_keyids(env1, [signing_key.public_key()]) == [env1.signatures[0].keyid]


def test_signature_covers_the_payload_type(signing_key: keys.PrivateKey) -> None:
    env = dsse.sign("application/x-a", b"payload", [signing_key])
    swapped = dsse.Envelope(payload_type="application/x-b", payload=env.payload, signatures=env.signatures)
    assert dsse.verified_keyids(swapped, [signing_key.public_key()]) == []


def test_wrong_key_and_relabelled_keyid_do_not_verify(signing_key: keys.PrivateKey, other_key: keys.PrivateKey) -> None:
    env = dsse.sign("t", b"p", [signing_key])
    assert dsse.verified_keyids(env, [other_key.public_key()]) == []
    relabelled = dsse.Envelope(
        payload_type="t", payload=b"p",
        signatures=(dsse.Signature(keyid=keys.keyid(other_key.public_key()), sig=env.signatures[0].sig),),
    )
    assert dsse.verified_keyids(relabelled, [signing_key.public_key(), other_key.public_key()]) == []


def test_round_trip_through_json(signing_key: keys.PrivateKey, other_key: keys.PrivateKey) -> None:
    env = dsse.sign("t", b"\x00binary\xff", [signing_key, other_key])
    back, errors = dsse.from_json(dsse.to_json(env))
    assert errors == [] and back == env
    assert set(dsse.to_json(env)) == {"payloadType", "payload", "signatures"}


@pytest.mark.parametrize(
    "text",
    ["QR==",  # non-zero padding bits: decodes like "QQ==" but is a second spelling
     "QQ", "QQ=", "Q Q==", "QQ==\n", "-_8=", "+/8", "QQ==QQ==", "\u00e9A=="],
)
def test_only_canonical_base64_is_read(text: str) -> None:
    assert dsse.b64decode(text) is None


def test_canonical_base64_is_read() -> None:
    for data in (b"", b"A", b"AB", b"ABC", bytes(range(256))):
        assert dsse.b64decode(base64.b64encode(data).decode()) == data


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [([], "not a JSON object"),
     ({"payloadType": "t", "payload": "QQ==", "signatures": [], "x": 1}, "unknown key"),
     ({"payloadType": 1, "payload": "QQ==", "signatures": []}, "payloadType"),
     ({"payloadType": "t", "payload": "QR==", "signatures": []}, "payload"),
     ({"payloadType": "t", "payload": "QQ==", "signatures": {}}, "signatures"),
     ({"payloadType": "t", "payload": "QQ==", "signatures": [{"keyid": "k"}]}, "signatures[0]"),
     ({"payloadType": "t", "payload": "QQ==", "signatures": [{"keyid": "k", "sig": "QR=="}]}, "signatures[0]")],
)
def test_malformed_envelopes_are_explained(doc: object, fragment: str) -> None:
    env, errors = dsse.from_json(doc)
    assert env is None and any(fragment in e for e in errors)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_verifies_our_signature_over_pae(tmp_path: Path, signing_key: keys.PrivateKey) -> None:
    # independent check of PAE + Ed25519: OpenSSL accepts what we sign, and refuses a changed payload
    env = dsse.sign("application/vnd.in-toto+json", b'{"_type":"x"}', [signing_key])
    (tmp_path / "k.pub").write_bytes(keys.public_key_pem(signing_key.public_key()))
    (tmp_path / "sig.bin").write_bytes(env.signatures[0].sig)
    results = []
    for payload in (env.payload, env.payload + b" "):
        (tmp_path / "pae.bin").write_bytes(dsse.pae(env.payload_type, payload))
        run = subprocess.run(
            ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "k.pub"), "-rawin",
             "-in", str(tmp_path / "pae.bin"), "-sigfile", str(tmp_path / "sig.bin")],
            capture_output=True,
        )
        results.append(run.returncode)
    assert results[0] == 0 and results[1] != 0
