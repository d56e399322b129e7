"""C2SP signed notes with Ed25519: the signature format transparency-log checkpoints use.

Why this format: a checkpoint signed as a note (c2sp.org/signed-note) can be checked by
existing transparency-log tooling, and by hand: the text is plain lines, the signature
line names the key by a 4-byte hash of its name and public key. The signature covers the
note text exactly (which ends in a newline); nothing else is signed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from agentos_contracts.seal import keys as keys_

ED25519_ALG = b"\x01"  # the signature type byte of Ed25519 in signed notes
_DASH = "\u2014"  # an em dash opens every signature line


@dataclass(frozen=True, slots=True, kw_only=True)
class NoteSignature:
    """One signature line: the key name, the 4-byte key hash and the signature bytes."""

    name: str
    key_hash: bytes
    signature: bytes


def raw_public_key(key: keys_.PublicKey) -> bytes:
    """The 32 raw bytes of an Ed25519 public key (what the key hash and verifiers use)."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_hash(name: str, key: keys_.PublicKey) -> bytes:
    """First 4 bytes of SHA-256(name || 0x0A || 0x01 || public key): how a note names its signer."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + ED25519_ALG + raw_public_key(key)).digest()[:4]


def verifier_key(name: str, key: keys_.PublicKey) -> str:
    """The text form ``name+hash+base64(0x01 || key)`` that note tooling takes as a verifier key."""
    blob = base64.b64encode(ED25519_ALG + raw_public_key(key)).decode("ascii")
    return f"{name}+{key_hash(name, key).hex()}+{blob}"


def sign_note(text: str, name: str, key: keys_.PrivateKey) -> str:
    """``text`` (must end in a newline) followed by a blank line and one signature line."""
    if not text.endswith("\n") or "\n\n" in text:
        raise ValueError("note text must end in a newline and hold no blank line")
    if not name or any(c.isspace() or c == "+" for c in name):
        raise ValueError(f"note key name `{name}` must be non-empty, without spaces or `+`")
    sig = key.sign(text.encode("utf-8"))
    blob = base64.b64encode(key_hash(name, key.public_key()) + sig).decode("ascii")
    return f"{text}\n{_DASH} {name} {blob}\n"


def split_note(note: str) -> tuple[str, list[NoteSignature]] | None:
    """The signed text and its signature lines; ``None`` when the note is malformed."""
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        return None
    text, block = note[: cut + 1], note[cut + 2:]
    sigs: list[NoteSignature] = []
    for line in block.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != _DASH:
            return None
        try:
            raw = base64.b64decode(parts[2].encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            return None
        if len(raw) < 5:
            return None
        sigs.append(NoteSignature(name=parts[1], key_hash=raw[:4], signature=raw[4:]))
    return (text, sigs) if sigs else None


def verify_note(note: str, name: str, key: keys_.PublicKey) -> str | None:
    """The note's text when a signature by ``name``/``key`` verifies; ``None`` otherwise."""
    parsed = split_note(note)
    if parsed is None:
        return None
    text, sigs = parsed
    want = key_hash(name, key)
    for sig in sigs:
        if sig.name != name or sig.key_hash != want:
            continue
        try:
            key.verify(sig.signature, text.encode("utf-8"))
        except InvalidSignature:
            continue
        return text
    return None
