"""The in-toto Statement v1 that carries a binding manifest.

in-toto's statement layer names what the claim is about (subjects by SHA-256) and what
kind of claim it is (``predicateType``), so generic supply-chain tools can read our
manifests, and our predicate can evolve under its own type URI and format version.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Iterable

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://agentos-contracts.dev/BindingManifest/v1"

_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Subject:
    """One artifact the manifest is about: a name and the lowercase hex SHA-256 of its bytes."""

    name: str
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "digest": {"sha256": self.sha256}}


def make_subject(name: str, content: bytes | str) -> Subject:
    """A subject from the artifact's bytes, or from a digest already taken (``sha256:<hex>`` or hex)."""
    if isinstance(content, (bytes, bytearray, memoryview)):
        return Subject(name=name, sha256=hashlib.sha256(bytes(content)).hexdigest())
    hex_part = content.removeprefix("sha256:")
    if not _HEX64.fullmatch(hex_part):
        raise ValueError(f"subject `{name}`: `{content}` is not a sha256 digest (64 lowercase hex digits)")
    return Subject(name=name, sha256=hex_part)


def make_statement(predicate: dict[str, Any], subjects: Iterable[Subject]) -> dict[str, Any]:
    """The statement, subjects sorted by name so their order never changes the bytes."""
    ordered = sorted(subjects, key=lambda s: s.name)
    names = [s.name for s in ordered]
    if not ordered:
        raise ValueError("a statement needs at least one subject")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError("duplicate subject name(s): " + ", ".join(f"`{n}`" for n in dupes))
    return {
        "_type": STATEMENT_TYPE,
        "subject": [s.to_json() for s in ordered],
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate,
    }
