"""The signed revocation list: which sealed manifests no runtime may obey, and which are paused.

A ``kind: Revocations`` document travels in a DSSE envelope signed with the same keys as
manifests, so only whoever may admit an agent may stop it (and nobody who can merely
write the file can pause or un-revoke one). Its ``sequence`` grows with every change: a
runtime that has read sequence N refuses an older file (a rolled-back list would
un-revoke), and a digest it has once seen revoked stays revoked for its whole life.

Runtimes check the file with one ``os.stat`` (at most once per millisecond: a stat costs
several microseconds, a tenth of the decision budget) and re-read it only when its
identity (inode, size, mtime, ctime) changed, so a revocation written by ``agentos ctl``
in another process takes effect on the next call there that starts a millisecond later.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from agentos_contracts.seal import dsse
from agentos_contracts.seal import keys as keys_
from agentos_contracts.seal.canonical import canonicalize

PAYLOAD_TYPE = "application/vnd.agentos.revocations+json"
API_VERSION = "agentos/v0.2"
ENV_VAR = "AGENTOS_REVOCATIONS"
CHECK_EVERY_NS = 1_000_000  # how often a runtime stats the list file, at most


class RevocationError(Exception):
    """The list cannot be trusted (unreadable, unsigned, malformed, or older than one already read)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True, slots=True, kw_only=True)
class Revocations:
    """One version of the list: revoked and paused manifest digests (``sha256:...``) with reasons."""

    sequence: int = 0
    revoked: dict[str, str] = field(default_factory=dict)  # digest -> reason
    paused: dict[str, str] = field(default_factory=dict)

    def state_of(self, digest: str) -> str | None:
        if digest in self.revoked:
            return "revoked"
        return "paused" if digest in self.paused else None

    def to_json(self) -> dict[str, Any]:
        return {"apiVersion": API_VERSION, "kind": "Revocations", "sequence": self.sequence,
                "revoked": [{"digest": d, "reason": r} for d, r in sorted(self.revoked.items())],
                "paused": [{"digest": d, "reason": r} for d, r in sorted(self.paused.items())]}

    def changed(self, *, revoke: Sequence[str] = (), pause: Sequence[str] = (), resume: Sequence[str] = (),
                reason: str = "") -> Revocations:
        """The next version (sequence + 1): revoking also ends a pause; resuming a revoked digest is refused."""
        revoked, paused = dict(self.revoked), dict(self.paused)
        for digest in resume:
            if digest in revoked:
                raise RevocationError("AC774", f"`{digest}` is revoked; a revoked manifest cannot be resumed")
            paused.pop(digest, None)
        for digest in pause:
            if digest in revoked:
                raise RevocationError("AC774", f"`{digest}` is revoked; there is nothing to pause")
            paused[digest] = reason
        for digest in revoke:
            revoked[digest] = reason
            paused.pop(digest, None)
        return Revocations(sequence=self.sequence + 1, revoked=revoked, paused=paused)


def dump(revocations: Revocations, key: keys_.PrivateKey) -> bytes:
    """The signed file's bytes (a DSSE envelope, as manifests are)."""
    return dsse.dump(dsse.sign(PAYLOAD_TYPE, canonicalize(revocations.to_json()), [key]))


def write(path: str | Path, revocations: Revocations, key: keys_.PrivateKey) -> None:
    """Replace the file atomically, so a reader sees the old list or the new one, never half."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(dump(revocations, key))
    os.replace(tmp, target)


def read(path: str | Path, public_keys: Sequence[keys_.PublicKey]) -> Revocations:
    """Read and verify a list; an absent file is the empty list (sequence 0)."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return Revocations()
    except OSError as exc:
        raise RevocationError("AC770", f"cannot read revocation list `{path}`: {exc.strerror or exc}") from None
    return parse(raw, public_keys, str(path))


def parse(raw: bytes, public_keys: Sequence[keys_.PublicKey], name: str = "<revocations>") -> Revocations:
    """Verify the envelope's signature with a trusted key, then the document's shape."""
    try:
        envelope, errors = dsse.from_json(json.loads(raw))
    except ValueError:
        envelope, errors = None, ["not JSON"]
    if envelope is None or errors:
        raise RevocationError("AC770", f"revocation list `{name}` is not a DSSE envelope ({'; '.join(errors)})")
    if envelope.payload_type != PAYLOAD_TYPE:
        raise RevocationError("AC770", f"revocation list `{name}` has payload type `{envelope.payload_type}`")
    if not public_keys or not dsse.verified_keyids(envelope, list(public_keys)):
        raise RevocationError("AC770", f"revocation list `{name}` is not signed by a trusted key")
    try:
        doc = json.loads(envelope.payload)
    except ValueError:
        doc = None
    return _document(doc, name)


def _document(doc: Any, name: str) -> Revocations:
    ok = (isinstance(doc, dict) and doc.get("kind") == "Revocations" and doc.get("apiVersion") == API_VERSION
          and isinstance(doc.get("sequence"), int) and not isinstance(doc.get("sequence"), bool)
          and doc["sequence"] >= 0)
    lists: dict[str, dict[str, str]] = {}
    for key in ("revoked", "paused"):
        items = doc.get(key, []) if isinstance(doc, dict) else None
        entries = {e["digest"]: e.get("reason", "") for e in items
                   if isinstance(e, dict) and isinstance(e.get("digest"), str)} if isinstance(items, list) else {}
        if not isinstance(items, list) or len(entries) != len(items) or not all(
                d.startswith("sha256:") and isinstance(r, str) for d, r in entries.items()):
            ok = False
        lists[key] = entries
    if not ok:
        raise RevocationError("AC770", f"revocation list `{name}` is not a `kind: Revocations` document "
                                       "(apiVersion, sequence, revoked/paused lists of {digest, reason})")
    return Revocations(sequence=doc["sequence"], revoked=lists["revoked"], paused=lists["paused"])


class RevocationWatch:
    """A runtime's view of one list file: re-read when the file changes, never moved backwards."""

    def __init__(self, path: str | Path, public_keys: Sequence[keys_.PublicKey], *,
                 every_ns: int | None = None) -> None:
        self.path = Path(path)
        self._name = str(path)
        self._keys = list(public_keys)
        self._stamp: tuple[int, int, int, int] | None = None
        self._every_ns = CHECK_EVERY_NS if every_ns is None else every_ns
        self._next = 0
        self.current = Revocations()
        self.ever_revoked: set[str] = set()
        self.error: RevocationError | None = None
        self.refresh()

    def refresh(self) -> Revocations:
        """Stat the file; re-read and verify it if it changed. A bad or older file sets ``error``
        (the caller fails closed) and keeps what was known; a vanished file changes nothing."""
        now = time.monotonic_ns()
        if now < self._next:
            return self.current
        self._next = now + self._every_ns
        try:
            st = os.stat(self._name)
        except FileNotFoundError:
            return self.current
        except OSError as exc:
            self.error = RevocationError("AC770", f"cannot read revocation list `{self.path}`: {exc}")
            return self.current
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        if stamp == self._stamp:
            return self.current
        try:
            fresh = read(self.path, self._keys)
        except RevocationError as exc:
            self.error = exc
            self._stamp = None  # try again next time
            return self.current
        if fresh.sequence < self.current.sequence:
            self.error = RevocationError("AC772", f"revocation list `{self.path}` has sequence {fresh.sequence}, "
                                                  f"older than {self.current.sequence} already read (rolled back)")
            self._stamp = stamp
            return self.current
        self._stamp, self.current, self.error = stamp, fresh, None
        self.ever_revoked.update(fresh.revoked)
        return fresh

    def state_of(self, digest: str) -> str | None:
        return "revoked" if digest in self.ever_revoked else self.current.state_of(digest)


def default_path(given: str | Path | None) -> str | None:
    """``given`` or, without it, the environment variable ``AGENTOS_REVOCATIONS`` (empty: none)."""
    if given is not None:
        return str(given)
    return os.environ.get(ENV_VAR) or None


def watch_for(loaded: Any, path: str | Path | None, public_keys: Sequence[keys_.PublicKey]) -> RevocationWatch | None:
    """The list a runtime loading ``loaded`` obeys (``path`` or ``$AGENTOS_REVOCATIONS``); refuses
    the load (ManifestRefused) when the list cannot be trusted or revokes this manifest."""
    from agentos_contracts.runtime.manifest import ManifestRefused

    chosen = default_path(path)
    if chosen is None:
        return None
    watch = RevocationWatch(chosen, public_keys)
    if watch.error is not None:
        raise ManifestRefused(loaded.path, [(watch.error.code, str(watch.error))])
    if watch.state_of(loaded.digest) == "revoked":
        reason = watch.current.revoked.get(loaded.digest) or "no reason given"
        raise ManifestRefused(loaded.path, [("AC771", f"manifest {loaded.digest} is revoked by `{chosen}` ({reason})")])
    return watch


def change(path: str | Path, digest: str, action: str, key: keys_.PrivateKey,
           public_keys: Sequence[keys_.PublicKey] = (), reason: str = "") -> Revocations:
    """Apply ``pause``, ``resume`` or ``revoke`` of ``digest`` to the list at ``path`` (created if absent),
    signed with ``key``; one writer at a time. The existing list must verify with ``key``'s public key
    or one of ``public_keys``, so a list cannot be silently replaced by one nobody trusted."""
    from agentos_contracts.runtime.locks import Locked, take_lock

    if action not in ("pause", "resume", "revoke"):
        raise ValueError(f"unknown lifecycle action `{action}`")
    target = Path(path)
    try:
        lock = take_lock(target, "revocation list")
    except Locked as exc:
        raise RevocationError("AC770", f"{exc}; try again") from None
    try:
        current = read(target, [key.public_key(), *public_keys])
        fresh = current.changed(**{action: [digest]}, reason=reason)  # type: ignore[arg-type]
        write(target, fresh, key)
        return fresh
    finally:
        lock.close()
