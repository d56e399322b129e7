"""Ed25519 key files: our PEM, OpenSSL's PEM, file modes, and refusals."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from agentos_contracts.seal import keys
from agentos_contracts.seal.manifest import seal_manifest, verify_manifest

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    key = keys.generate_private_key()
    private_path, public_path = keys.save_key_pair(key, tmp_path / "k", "ci")
    assert (private_path.name, public_path.name) == ("ci.key", "ci.pub")
    assert private_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8
    assert public_path.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")  # SubjectPublicKeyInfo
    loaded = keys.read_private_key(private_path)
    assert keys.keyid(loaded.public_key()) == keys.keyid(keys.read_public_key(public_path)) == keys.keyid(key.public_key())


def test_private_key_is_mode_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        private_path, public_path = keys.save_key_pair(keys.generate_private_key(), tmp_path, "k")
    finally:
        os.umask(old)
    assert _mode(private_path) == 0o600
    assert _mode(public_path) == 0o644


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    first = keys.generate_private_key()
    private_path, _ = keys.save_key_pair(first, tmp_path, "k")
    before = private_path.read_bytes()
    with pytest.raises(FileExistsError):
        keys.save_key_pair(keys.generate_private_key(), tmp_path, "k")
    assert private_path.read_bytes() == before
    (tmp_path / "only.pub").write_text("x")  # either file existing is enough to refuse
    with pytest.raises(FileExistsError):
        keys.save_key_pair(first, tmp_path, "only")
    assert not (tmp_path / "only.key").exists()


def test_force_replaces_and_keeps_0600(tmp_path: Path) -> None:
    private_path, _ = keys.save_key_pair(keys.generate_private_key(), tmp_path, "k")
    os.chmod(private_path, 0o644)
    second = keys.generate_private_key()
    keys.save_key_pair(second, tmp_path, "k", force=True)
    assert _mode(private_path) == 0o600
    assert keys.keyid(keys.read_private_key(private_path).public_key()) == keys.keyid(second.public_key())
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_keyid_is_sha256_of_spki_der() -> None:
    key = keys.generate_private_key().public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert keys.keyid(key) == hashlib.sha256(der).hexdigest()
    assert len(der) == 44  # 12-byte Ed25519 SPKI header + 32-byte key


@pytest.mark.parametrize(
    ("data", "fragment"),
    [(b"garbage", "not a PEM private key"),
     (b"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n", "public key"),
     (b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", "encrypted")],
)
def test_bad_private_keys_are_refused(data: bytes, fragment: str) -> None:
    with pytest.raises(keys.KeyFileError, match=fragment):
        keys.load_private_key(data)


def test_other_algorithms_are_refused() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    for key in (rsa_key, ec_key):
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        with pytest.raises(keys.KeyFileError, match="not Ed25519"):
            keys.load_private_key(pem)
        pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        with pytest.raises(keys.KeyFileError, match="not Ed25519"):
            keys.load_public_key(pub)


def test_public_loader_refuses_private_keys_and_garbage(tmp_path: Path) -> None:
    with pytest.raises(keys.KeyFileError, match="private key"):
        keys.load_public_key(keys.private_key_pem(keys.generate_private_key()))
    with pytest.raises(keys.KeyFileError, match="not a PEM public key"):
        keys.load_public_key("nope")
    with pytest.raises(keys.KeyFileError, match="cannot read"):
        keys.read_public_key(tmp_path / "missing.pub")


@needs_openssl
def test_openssl_generated_keys_work(tmp_path: Path, hrt_predicate: dict[str, object]) -> None:
    assert OPENSSL is not None
    private_path, public_path = tmp_path / "o.key", tmp_path / "o.pub"
    subprocess.run([OPENSSL, "genpkey", "-algorithm", "ed25519", "-out", str(private_path)], check=True, capture_output=True)
    subprocess.run([OPENSSL, "pkey", "-in", str(private_path), "-pubout", "-out", str(public_path)], check=True, capture_output=True)
    der = subprocess.run([OPENSSL, "pkey", "-pubin", "-in", str(public_path), "-outform", "DER"], check=True, capture_output=True).stdout
    private, public = keys.read_private_key(private_path), keys.read_public_key(public_path)
    assert keys.keyid(public) == keys.keyid(private.public_key()) == hashlib.sha256(der).hexdigest()
    sealed = seal_manifest(hrt_predicate, [("contract:c.yaml", b"c")], private)
    assert verify_manifest(sealed, [public]).ok


@needs_openssl
def test_openssl_reads_our_keys(tmp_path: Path) -> None:
    assert OPENSSL is not None
    private_path, public_path = keys.save_key_pair(keys.generate_private_key(), tmp_path, "ours")
    derived = subprocess.run([OPENSSL, "pkey", "-in", str(private_path), "-pubout"], check=True, capture_output=True).stdout
    assert derived == public_path.read_bytes()
