"""DSSE v1 envelopes (github.com/secure-systems-lab/dsse): sign and verify a typed payload.

The signature covers PAE(payloadType, payload), never the JSON around it, so the type
cannot be swapped and there is no re-serialisation ambiguity. We write base64 in its
standard alphabet with padding, and read only that exact canonical spelling: a second
spelling of the same bytes (non-zero padding bits, missing padding) would let a file
change without its signature noticing.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Sequence

from cryptography.exceptions import InvalidSignature

from agentos_contracts.seal import keys as keys_
from agentos_contracts.seal.canonical import canonicalize


@dataclass(frozen=True, slots=True, kw_only=True)
class Signature:
    keyid: str
    sig: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...] = ()


def pae(payload_type: str, payload: bytes) -> bytes:
    """Pre-Authentication Encoding: ``"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body``.

    LEN is the byte length in ASCII decimal without leading zeros.
    """
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(payload), payload)


def sign(payload_type: str, payload: bytes, signers: Sequence[keys_.PrivateKey]) -> Envelope:
    """An envelope signed by each key (none: unsigned, which verifiers refuse unless told)."""
    message = pae(payload_type, payload)
    sigs = tuple(Signature(keyid=keys_.keyid(k.public_key()), sig=k.sign(message)) for k in signers)
    return Envelope(payload_type=payload_type, payload=payload, signatures=sigs)


def to_json(envelope: Envelope) -> dict[str, Any]:
    return {
        "payloadType": envelope.payload_type,
        "payload": b64encode(envelope.payload),
        "signatures": [{"keyid": s.keyid, "sig": b64encode(s.sig)} for s in envelope.signatures],
    }


def dump(envelope: Envelope) -> bytes:
    """The envelope as canonical (JCS) bytes, so sealing twice gives the same file."""
    return canonicalize(to_json(envelope))


def from_json(doc: Any) -> tuple[Envelope | None, list[str]]:
    """Decode an envelope's JSON form; on any problem, no envelope and the reasons."""
    if not isinstance(doc, dict):
        return None, ["envelope is not a JSON object"]
    errors: list[str] = []
    extra = sorted(set(doc) - {"payloadType", "payload", "signatures"})
    if extra:
        errors.append("envelope has unknown key(s) " + ", ".join(f"`{k}`" for k in extra))
    ptype, body, sigs = doc.get("payloadType"), doc.get("payload"), doc.get("signatures")
    if not isinstance(ptype, str):
        errors.append("envelope `payloadType` is missing or not a string")
    payload = b64decode(body) if isinstance(body, str) else None
    if payload is None:
        errors.append("envelope `payload` is missing or not canonical base64")
    signatures: list[Signature] = []
    if not isinstance(sigs, list):
        errors.append("envelope `signatures` is missing or not a list")
    else:
        for i, item in enumerate(sigs):
            sig = _signature(item)
            if sig is None:
                errors.append(f"envelope `signatures[{i}]` needs string `keyid` and canonical base64 `sig`")
            else:
                signatures.append(sig)
    if errors:
        return None, errors
    assert isinstance(ptype, str) and payload is not None
    return Envelope(payload_type=ptype, payload=payload, signatures=tuple(signatures)), []


def verified_keyids(envelope: Envelope, trusted: Sequence[keys_.PublicKey]) -> list[str]:
    """Key ids of the trusted keys with a valid signature that names that very key id.

    The key id is matched exactly: it is not signed, so accepting a signature under any
    key id would let that part of the file change unnoticed.
    """
    by_id = {keys_.keyid(k): k for k in trusted}
    message = pae(envelope.payload_type, envelope.payload)
    good: list[str] = []
    for s in envelope.signatures:
        key = by_id.get(s.keyid)
        if key is None or s.keyid in good:
            continue
        try:
            key.verify(s.sig, message)
        except InvalidSignature:
            continue
        good.append(s.keyid)
    return good


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes | None:
    """Standard base64 with padding, accepted only in its one canonical spelling."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return None
    return data if b64encode(data) == text else None


def _signature(item: Any) -> Signature | None:
    if not isinstance(item, dict) or set(item) != {"keyid", "sig"}:
        return None
    keyid, raw = item["keyid"], item["sig"]
    if not isinstance(keyid, str) or not isinstance(raw, str):
        return None
    sig = b64decode(raw)
    return None if sig is None else Signature(keyid=keyid, sig=sig)
