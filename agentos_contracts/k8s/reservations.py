"""The webhook's reservation store: one folder holding what the cluster has admitted.

Each admitted AgentContract or Workflow leaves two files, written atomically:
``<Kind>.<namespace>.<name>.manifest.json`` (an unsigned sealed manifest: the capacity it
holds, which ``admit`` counts through ``--existing``) and ``<Kind>.<namespace>.<name>.json``
(the custom resource as admitted, so a later Workflow can be admitted with the contracts
its steps name). DELETE removes both. The folder is the webhook's own state: it lives on
a volume of the webhook's pods (shared by the replicas), and nothing else writes it; ``locked`` is a
file lock, so replicas on a shared volume admit one at a time.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

CLUSTER = "_cluster"  # the namespace part for cluster-scoped kinds
_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,252}\Z")  # no dots: they separate the parts


@dataclass(frozen=True, slots=True)
class ReservationStore:
    folder: Path

    def open(self) -> None:
        """Create the folder if needed and prove it writable (OSError otherwise)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        probe = self.folder / ".probe"
        probe.write_bytes(b"")
        probe.unlink()

    @contextmanager
    def locked(self, deadline: float) -> Iterator[bool]:
        """Hold the store's file lock (shared by every replica) until the block ends; False on timeout."""
        fd = os.open(self.folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        yield False
                        return
                    time.sleep(0.002)
            yield True
        finally:
            os.close(fd)  # closing releases the lock

    def _stem(self, kind: str, namespace: str | None, name: str) -> str:
        """``Kind.namespace.name``; anything that could leave the folder or split differently is refused."""
        for part in (kind, namespace or CLUSTER, name):
            if not _PART.match(part):
                raise ValueError(f"`{part}` cannot name a reservation file")
        return f"{kind}.{namespace or CLUSTER}.{name}"

    def manifest_path(self, kind: str, namespace: str | None, name: str) -> Path:
        return self.folder / f"{self._stem(kind, namespace, name)}.manifest.json"

    def object_path(self, kind: str, namespace: str | None, name: str) -> Path:
        return self.folder / f"{self._stem(kind, namespace, name)}.json"

    def put(self, kind: str, namespace: str | None, name: str, manifest: bytes, resource: dict[str, Any]) -> None:
        _replace(self.object_path(kind, namespace, name), json.dumps(resource, sort_keys=True).encode())
        _replace(self.manifest_path(kind, namespace, name), manifest)

    def remove(self, kind: str, namespace: str | None, name: str) -> bool:
        """Free a reservation; False when there was none (a name no reservation file can have holds none)."""
        if not all(_PART.match(p) for p in (kind, namespace or CLUSTER, name)):
            return False
        found = False
        for path in (self.manifest_path(kind, namespace, name), self.object_path(kind, namespace, name)):
            try:
                path.unlink()
                found = True
            except FileNotFoundError:
                pass
        return found

    def namespaces_holding(self, kind: str, name: str) -> list[str]:
        """Namespaces where ``kind`` ``name`` is admitted (the ledger keys by kind and name only)."""
        out = []
        for path in self.folder.glob(f"{kind}.*.{name}.manifest.json"):
            parts = path.name.split(".")
            if len(parts) == 5 and parts[2] == name:
                out.append(parts[1])
        return sorted(out)

    def objects(self, kind: str, namespace: str | None, names: set[str]) -> list[Path]:
        """Stored custom resources of ``kind`` in ``namespace`` among ``names`` (sorted, existing only)."""
        return sorted(p for n in names if (p := self.object_path(kind, namespace, n)).is_file())

    def count(self) -> int:
        return sum(1 for _ in self.folder.glob("*.manifest.json"))


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
