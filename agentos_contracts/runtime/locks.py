"""One writer per file: an exclusive advisory lock on the file itself.

The lock belongs to the file (its device and inode), not to a name: two names of one log,
a hard link or a symlink, meet the same lock. ``flock`` locks belong to an open file and
the kernel drops them when the holder dies (even by ``kill -9``), so a crashed runtime
never leaves a stale lock, and a second opener in the same or another process is told at
once instead of forking a chain. ``flock`` and SQLite's own (``fcntl``) locks do not
interact; the handle stays open exactly as long as the writer's connection.
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


def take_lock(target: Path, what: str) -> IO[bytes]:
    """Hold the lock on the file ``target`` names (created empty if absent) until the returned
    handle is closed; raises Locked."""
    handle = open(target.resolve(), "ab")
    if fcntl is not None:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise Locked(f"{what} `{target}` is already open for writing by another runtime") from None
    return handle
