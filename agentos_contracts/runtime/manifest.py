"""Loading a sealed manifest: the seal's own verification, then what the runtime needs from it.

The runtime decides from the manifest and nothing else, so it accepts one only when
:func:`seal.manifest.verify_manifest` (the same code `agentos verify` runs) finds
nothing wrong: signature by a trusted key, payload type, statement, schema, format
and semantics versions, expiry. Unsigned manifests pass only with ``allow_unsigned``.
The compiled policy must be inline or in a file whose digest the manifest pins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

from agentos_contracts.model.manifest import BindingManifest, PolicyRef
from agentos_contracts.runtime.authorize import Policy
from agentos_contracts.seal import keys as keys_
from agentos_contracts.seal.canonical import CanonicalError, canonical_digest, sha256_digest
from agentos_contracts.seal.manifest import verify_manifest


class ManifestRefused(Exception):
    """The manifest is not one the runtime may obey; ``problems`` are ``(code, message)`` pairs."""

    def __init__(self, path: str, problems: Sequence[tuple[str, str]]) -> None:
        self.path = path
        self.problems = tuple(problems)
        first = "; ".join(f"{code} {message}" for code, message in self.problems) or "refused"
        super().__init__(f"manifest `{path}` refused: {first}")


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadedManifest:
    path: str
    digest: str
    manifest: BindingManifest
    signed_by: tuple[str, ...]
    policy: Policy | None
    policy_document: dict[str, Any] | None


def read_public_keys(paths: str | Path | Sequence[str | Path] | None) -> list[keys_.PublicKey]:
    """Public keys from one path or several; raises ManifestRefused on an unusable key file."""
    if paths is None:
        return []
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    out: list[keys_.PublicKey] = []
    for item in items:
        try:
            out.append(keys_.read_public_key(item))
        except keys_.KeyFileError as exc:
            raise ManifestRefused(str(item), [("AC620", f"cannot use key `{item}`: {exc}")]) from None
    return out


def load_manifest(path: str | Path, public_keys: Sequence[keys_.PublicKey], *, allow_unsigned: bool = False,
                  now: datetime | None = None, min_sequence: int | None = None) -> LoadedManifest:
    """Verify and load; raises ManifestRefused with the seal's codes (AC6xx) or ours (AC70x)."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ManifestRefused(name, [("AC001", f"cannot read `{name}`: {exc.strerror or exc}")]) from None
    result = verify_manifest(data, list(public_keys), now=now, min_sequence=min_sequence,
                             allow_unsigned=allow_unsigned)
    if not result.ok or result.manifest is None:
        raise ManifestRefused(name, [(p.code, p.message) for p in result.problems] or [("AC702", "verification failed")])
    manifest = result.manifest
    document = _policy_document(manifest.policy, Path(path).parent, name)
    policy = _compile_policy(document, name) if document is not None else None
    return LoadedManifest(path=name, digest=result.digest, manifest=manifest, signed_by=result.signed_by,
                          policy=policy, policy_document=document)


def _policy_document(ref: PolicyRef | None, base: Path, name: str) -> dict[str, Any] | None:
    """The compiled policy, inline or from its file, checked against the digest the manifest pins."""
    if ref is None:
        return None
    if ref.document is not None:
        document: Any = ref.document
        raw = None
    elif ref.file:
        try:
            raw = (base / ref.file).read_bytes()
            document = json.loads(raw)
        except (OSError, ValueError) as exc:
            raise ManifestRefused(name, [("AC703", f"compiled policy `{ref.file}` cannot be read: {exc}")]) from None
    else:
        raise ManifestRefused(name, [("AC703", "manifest names a policy but holds neither its document nor its file")])
    if not isinstance(document, dict):
        raise ManifestRefused(name, [("AC703", "compiled policy is not a JSON object")])
    try:
        digests = {canonical_digest(document), sha256_digest(_policy_dump(document))}
        if raw is not None:
            digests.add(sha256_digest(raw))
    except (CanonicalError, ValueError) as exc:
        raise ManifestRefused(name, [("AC703", f"compiled policy has no canonical form: {exc}")]) from None
    if ref.digest not in digests:
        raise ManifestRefused(name, [("AC703", "compiled policy does not match the digest the manifest pins")])
    return document


def _policy_dump(document: dict[str, Any]) -> bytes:
    """The compiler's own canonical layout (``policy.ir.dump``): the other spelling a digest may pin."""
    from agentos_contracts.policy import ir

    return ir.dump(document)


def _compile_policy(document: dict[str, Any], name: str) -> Policy:
    """Build the evaluator from the compiled form; ``policy.ir`` refuses versions it does not know."""
    from agentos_contracts.policy import evaluator, ir

    compiled, diagnostics = ir.load_document(document, f"{name}#policy")
    errors = [d for d in diagnostics if d.is_error]
    if compiled is None or errors:
        raise ManifestRefused(name, [(d.code, f"compiled policy refused: {d.message}") for d in errors]
                              or [("AC703", "compiled policy refused")])
    return evaluator.CompiledPolicy(compiled, diagnostics)
