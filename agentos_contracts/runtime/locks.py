"""One writer per file: an exclusive advisory ``flock``.

``flock`` locks belong to an open file and the kernel drops them when the holder dies
(even by ``kill -9``), so a crashed runtime never leaves a stale lock, and a second
opener in the same or another process is told at once instead of forking a chain.

A file written in place (an SQLite audit log or journal) is locked itself
(``take_file_lock``): the lock belongs to the file's device and inode, not to a name, so
two names of one log, a hard link or a symlink, meet the same lock. ``flock`` and SQLite's
own (``fcntl``) locks do not interact; the handle stays open exactly as long as the
writer's connection. A file replaced whole on every write (the revocation list) has a new
inode each time, so it is locked through ``FILE.lock`` beside its resolved path instead
(``take_lock``).
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
    """Beside the real file: a symlink or a `..` path to the same file must meet the same lock."""
    real = target.resolve()
    return real.with_name(real.name + ".lock")


def take_lock(target: Path, what: str) -> IO[bytes]:
    """Hold the lock for a file replaced whole on each write (through ``FILE.lock``); raises Locked."""
    return _hold(open(lock_path(target), "ab"), target, what)


def take_file_lock(target: Path, what: str) -> IO[bytes]:
    """Hold the lock on the file ``target`` names itself (created empty if absent), whatever
    name it is reached by; raises Locked."""
    return _hold(open(target.resolve(), "ab"), target, what)


def _hold(handle: IO[bytes], target: Path, what: str) -> IO[bytes]:
    if fcntl is not None:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise Locked(f"{what} `{target}` is already open for writing by another runtime") from None
    return handle
