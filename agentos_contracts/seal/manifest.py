"""Seal and verify binding manifests: the one API admission, ``agentos verify`` and the runtime share.

``seal_manifest`` turns a predicate into envelope bytes that are a pure function of
their inputs (JCS payload, deterministic Ed25519, canonical envelope), so admitting
twice gives the same file. ``verify_manifest`` never raises on bad input: every
problem comes back in ``VerifyResult.problems`` with its stable code, and ``ok`` is
true only when nothing at all was wrong (fail closed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

from agentos_contracts.model.manifest import BindingManifest
from agentos_contracts.seal import dsse, schema
from agentos_contracts.seal import keys as keys_
from agentos_contracts.seal.canonical import CanonicalError, canonicalize, json_int, sha256_digest
from agentos_contracts.seal.semantics import Problem, check_statement_header, check_time_and_sequence
from agentos_contracts.seal.statement import PAYLOAD_TYPE, Subject, make_statement, make_subject


class SealError(ValueError):
    """The caller asked to seal something that is not a valid manifest (a bug upstream)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyResult:
    """Everything verify found; ``statement``, ``predicate`` are set once the payload parsed."""

    ok: bool
    digest: str  # sha256:<hex> of the payload bytes; "" when the payload could not be decoded
    problems: tuple[Problem, ...] = ()
    signed_by: tuple[str, ...] = ()  # key ids of the trusted keys whose signature verified
    statement: dict[str, Any] | None = field(default=None, hash=False, compare=False)
    predicate: dict[str, Any] | None = field(default=None, hash=False, compare=False)
    manifest: BindingManifest | None = None  # only when ok

    @property
    def errors(self) -> list[str]:
        return [p.message for p in self.problems]


def seal_manifest(
    predicate: Mapping[str, Any] | BindingManifest,
    subjects: Iterable[tuple[str, bytes | str] | Subject],
    key: keys_.PrivateKey | Sequence[keys_.PrivateKey] | None,
) -> bytes:
    """Canonical DSSE envelope bytes around the statement; ``key=None`` seals unsigned (on request only).

    Subjects are ``(name, content bytes or "sha256:<hex>")``. Raises ``SealError`` when the
    predicate breaks the manifest schema or has no canonical form: a manifest verify would
    refuse is never written.
    """
    doc = predicate.to_json() if isinstance(predicate, BindingManifest) else dict(predicate)
    problems = schema.predicate_errors(doc)
    if problems:
        raise SealError("; ".join(problems))
    try:
        subs = [s if isinstance(s, Subject) else make_subject(s[0], s[1]) for s in subjects]
        payload = canonicalize(make_statement(doc, subs))
    except (CanonicalError, ValueError) as exc:
        raise SealError(str(exc)) from None
    signers: Sequence[keys_.PrivateKey] = () if key is None else (key,) if isinstance(key, keys_.PrivateKey) else key
    return dsse.dump(dsse.sign(PAYLOAD_TYPE, payload, signers))


def verify_manifest(
    envelope_bytes: bytes | bytearray | memoryview | str,
    trusted_public_keys: Sequence[keys_.PublicKey],
    *,
    now: datetime | None = None,
    min_sequence: int | None = None,
    allow_unsigned: bool = False,
) -> VerifyResult:
    """Check a manifest from its bytes: shape, payload type, signature, statement, schema, expiry, sequence.

    ``now`` defaults to the current time (expiry is always checked). A signature counts
    only from a key in ``trusted_public_keys`` whose key id it names. ``allow_unsigned``
    accepts a manifest with no signatures at all; a signature that fails never passes.
    """
    data = envelope_bytes.encode("utf-8", "surrogatepass") if isinstance(envelope_bytes, str) else bytes(envelope_bytes)
    try:
        return _verify(data, trusted_public_keys, now, min_sequence, allow_unsigned)
    except RecursionError:
        return VerifyResult(ok=False, digest="", problems=(Problem("AC601", "manifest is not valid JSON: nested too deeply"),))


def _verify(
    data: bytes,
    trusted: Sequence[keys_.PublicKey],
    now: datetime | None,
    min_sequence: int | None,
    allow_unsigned: bool,
) -> VerifyResult:
    problems: list[Problem] = []

    def fail(digest: str = "", **extra: Any) -> VerifyResult:
        return VerifyResult(ok=False, digest=digest, problems=tuple(problems), **extra)

    doc, reason = parse_json(data)
    if reason:
        problems.append(Problem("AC601", f"manifest is not valid JSON: {reason}"))
        return fail()
    if isinstance(doc, dict) and isinstance(doc.get("payloadType"), str) and doc["payloadType"] != PAYLOAD_TYPE:
        problems.append(Problem("AC603", f"payload type is `{doc['payloadType']}`, expected `{PAYLOAD_TYPE}`"))
        return fail()
    problems += [Problem("AC602", m) for m in schema.envelope_errors(doc)]
    if problems:
        return fail()
    envelope, shape = dsse.from_json(doc)  # what a schema cannot see: base64 in its one canonical spelling
    if envelope is None:
        problems += [Problem("AC602", m) for m in shape]
        return fail()
    digest = sha256_digest(envelope.payload)

    signed_by: tuple[str, ...] = ()
    if not envelope.signatures:
        if not allow_unsigned:
            problems.append(Problem("AC604", "manifest is unsigned"))
    elif not trusted:
        problems.append(Problem("AC615", "no trusted public key given"))
        return fail(digest)
    else:
        signed_by = tuple(dsse.verified_keyids(envelope, trusted))
        if not signed_by:
            problems.append(_signature_problem(envelope, trusted))
            return fail(digest)  # altered or foreign content: read no further

    statement, reason = parse_json(envelope.payload)
    if reason:
        problems.append(Problem("AC607", f"payload is not valid JSON: {reason}"))
        return fail(digest, signed_by=signed_by)
    header = check_statement_header(statement)
    if header:
        problems += header
        return fail(digest, signed_by=signed_by, statement=_dict_or_none(statement))
    shape_problems = [Problem("AC611", m) for m in schema.statement_errors(statement)]
    problems += shape_problems
    predicate = statement.get("predicate")
    if not shape_problems:  # the checks below rely on the schema's shape
        problems += _canonical_problem(statement, envelope.payload)
        problems += check_time_and_sequence(predicate, now or datetime.now(timezone.utc), min_sequence)
    ok = not problems
    return VerifyResult(
        ok=ok,
        digest=digest,
        problems=tuple(problems),
        signed_by=signed_by,
        statement=statement,
        predicate=_dict_or_none(predicate),
        manifest=BindingManifest.from_json(predicate) if ok else None,
    )


def parse_json(data: bytes) -> tuple[Any, str]:
    """Strict JSON from UTF-8 bytes: no duplicate keys, no NaN/Infinity; ``(value, "")`` or ``(None, reason)``.

    Duplicate keys are refused because two parsers could keep different copies, and a
    signature over the bytes would then vouch for two meanings.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant, parse_int=json_int), ""
    except _DuplicateKey as exc:
        return None, f"duplicate key `{exc.args[0]}`"
    except json.JSONDecodeError as exc:
        return None, f"{exc.msg.lower()} at line {exc.lineno} column {exc.colno}"
    except ValueError as exc:
        return None, str(exc)


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"`{name}` is not a JSON number")


def _signature_problem(envelope: dsse.Envelope, trusted: Sequence[keys_.PublicKey]) -> Problem:
    trusted_ids = {keys_.keyid(k) for k in trusted}
    named = [s.keyid for s in envelope.signatures if s.keyid in trusted_ids]
    if named:
        return Problem("AC606", f"signature by key `{named[0][:16]}` does not verify")
    ids = ", ".join(f"`{s.keyid[:16]}`" for s in envelope.signatures)
    return Problem("AC605", f"no signature by a trusted key (signed by {ids})")


def _canonical_problem(statement: Any, payload: bytes) -> list[Problem]:
    try:
        if canonicalize(statement) == payload:
            return []
    except CanonicalError as exc:
        return [Problem("AC607", f"payload has no canonical form: {exc}")]
    return [Problem("AC607", "payload is not in canonical form (RFC 8785)")]


def _dict_or_none(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None
