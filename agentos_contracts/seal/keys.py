"""Ed25519 keys: generate, save and load PEM, and the key id a signature names.

Ed25519 because its signatures are deterministic (same key and payload, same bytes:
manifests stay reproducible) and its keys are small and unambiguous. Files are the
formats OpenSSL speaks: PKCS#8 private keys (written mode 0600) and
SubjectPublicKeyInfo public keys, so ``openssl genpkey -algorithm ed25519`` keys work.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PrivateKey = Ed25519PrivateKey
PublicKey = Ed25519PublicKey

_PRIVATE_MODE = 0o600
_PUBLIC_MODE = 0o644


class KeyFileError(ValueError):
    """A key file that cannot be used; the message says why and is safe to show a user."""


def generate_private_key() -> PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(key: PrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted: the file's 0600 mode is its protection, as for OpenSSH keys."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key_pem(key: PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def keyid(key: PublicKey) -> str:
    """Lowercase hex SHA-256 of the SubjectPublicKeyInfo DER: stable across PEM spellings and tools.

    Same as ``openssl pkey -pubin -in K.pub -outform DER | sha256sum``.
    """
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def load_private_key(data: bytes | str) -> PrivateKey:
    """An Ed25519 private key from PEM (PKCS#8, as keygen and OpenSSL write it); raises KeyFileError."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if b"ENCRYPTED PRIVATE KEY" in raw:
        raise KeyFileError("encrypted private keys are not supported")
    if b"PUBLIC KEY-----" in raw and b"PRIVATE KEY-----" not in raw:
        raise KeyFileError("this is a public key; signing needs the private key")
    try:
        key = serialization.load_pem_private_key(raw, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFileError(f"not a PEM private key ({_reason(exc)})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"key type is {_key_type(key)}, not Ed25519")
    return key


def load_public_key(data: bytes | str) -> PublicKey:
    """An Ed25519 public key from SubjectPublicKeyInfo PEM; raises KeyFileError.

    A private key is refused on purpose: verifiers should only ever hold public keys.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if b"PRIVATE KEY-----" in raw:
        raise KeyFileError("this is a private key; verification takes the public key (NAME.pub)")
    try:
        key = serialization.load_pem_public_key(raw)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFileError(f"not a PEM public key ({_reason(exc)})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"key type is {_key_type(key)}, not Ed25519")
    return key


def read_private_key(path: str | Path) -> PrivateKey:
    return load_private_key(_read(path))


def read_public_key(path: str | Path) -> PublicKey:
    return load_public_key(_read(path))


def save_key_pair(key: PrivateKey, directory: str | Path, name: str, *, force: bool = False) -> tuple[Path, Path]:
    """Write ``NAME.key`` (0600) and ``NAME.pub``; refuse to overwrite unless ``force``.

    The private key file is created with mode 0600 from the start (never readable by
    others, not even for a moment); with ``force`` each file is written beside its
    target and renamed over it, so an old key is replaced whole or not at all.
    """
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(folder))
    private_path, public_path = folder / f"{name}.key", folder / f"{name}.pub"
    if not force:
        for path in (private_path, public_path):
            if path.exists() or path.is_symlink():
                raise FileExistsError(str(path))
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomic(private_path, private_key_pem(key), _PRIVATE_MODE, exclusive=not force)
    _write_atomic(public_path, public_key_pem(key.public_key()), _PUBLIC_MODE, exclusive=not force)
    return private_path, public_path


def _write_atomic(path: Path, data: bytes, mode: int, *, exclusive: bool) -> None:
    if exclusive:
        # O_EXCL: fails if the path appeared since the check, so nothing is clobbered without --force
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            os.fchmod(fd, mode)  # the umask may have taken bits away; state the mode exactly
            _write_all(fd, data)
        except BaseException:
            os.unlink(path)
            raise
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        _write_all(fd, data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write_all(fd: int, data: bytes) -> None:
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _read(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read `{path}`: {exc.strerror or exc}") from None


def _reason(exc: Exception) -> str:
    text = str(exc).split("\n", 1)[0].strip().rstrip(".")
    return text[:1].lower() + text[1:] if text else type(exc).__name__


def _key_type(key: object) -> str:
    return type(key).__name__.removeprefix("_").replace("PrivateKey", "").replace("PublicKey", "") or "unknown"
