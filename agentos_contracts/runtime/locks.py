"""One writer per file: an exclusive advisory lock on ``FILE.lock``.

``flock`` locks belong to an open file and the kernel drops them when the holder dies
(even by ``kill -9``), so a crashed runtime never leaves a stale lock, and a second
opener in the same or another process is told at once instead of forking a chain.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock, documented in docs/runtime.md
    fcntl = None  # type: ignore[assignment]


class Locked(Exception):
    """Another writer holds the file."""


def lock_path(target: Path) -> Path:
    """Beside the real file: a symlink or a `..` path to the same log must meet the same lock."""
    real = target.resolve()
    return real.with_name(real.name + ".lock")


def take_lock(target: Path, what: str) -> IO[bytes]:
    """Hold the lock for ``target`` until the returned handle is closed; raises Locked."""
    handle = open(lock_path(target), "ab")
    if fcntl is not None:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise Locked(f"{what} `{target}` is already open for writing by another runtime") from None
    return handle
