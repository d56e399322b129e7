"""Keep what native libraries print off standard output.

HiGHS prints a banner ("Running HiGHS ...") from C++ on file descriptor 1 whenever a
``Highs`` object is made, whatever ``msg=False`` asks; Python's ``sys.stdout`` never
sees it, so only redirecting the descriptor itself keeps ``--format json`` output one
JSON document. ``contained()`` wraps every native solver call: descriptor 1 goes to
standard error when the user asked for ``--verbose`` and to the null device otherwise
(descriptor 2 too, unless verbose), and both are restored afterwards.

Thread safety: entries are counted under a lock, so overlapping calls from several
threads share one redirection and the last one out restores the descriptors. While
any call is inside, everything written to descriptor 1 is diverted, Python writes
included: commands render only after their solvers return, which is all the CLI needs.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int] | None = None
_verbose = False


def set_verbose(on: bool) -> None:
    """Route native chatter to standard error (True) or drop it (False, the default)."""
    global _verbose
    _verbose = on


def is_verbose() -> bool:
    return _verbose


def _flush_c_stdio() -> None:
    """Flush the C library's stdio buffers: a banner still buffered there would leak out later."""
    import ctypes  # only when a native call is made: `validate` never pays for it

    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):  # no libc to call (unusual platforms): nothing buffered we can reach
        pass


def _flush_python() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass


def _divert() -> tuple[int, int] | None:
    _flush_python()
    _flush_c_stdio()
    try:
        saved = (os.dup(1), os.dup(2))
    except OSError:  # a closed descriptor: nothing can leak onto it
        return None
    if _verbose:
        os.dup2(2, 1)
        return saved
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
    finally:
        os.close(null)
    return saved


def _restore(saved: tuple[int, int] | None) -> None:
    if saved is None:
        return
    _flush_c_stdio()
    _flush_python()
    out, err = saved
    os.dup2(out, 1)
    os.dup2(err, 2)
    os.close(out)
    os.close(err)


@contextmanager
def contained() -> Iterator[None]:
    """Run a native call with descriptors 1 (and 2 unless verbose) diverted; restore them after."""
    global _depth, _saved, _switching
    _switching = True  # a wall-clock alarm must not land between dup2 calls (see in_transition)
    try:
        with _lock:
            if _depth == 0:
                _saved = _divert()
            _depth += 1
    finally:
        _switching = False
    try:
        yield
    finally:
        _switching = True
        try:
            with _lock:
                _depth -= 1
                if _depth == 0:
                    saved, _saved = _saved, None
                    _restore(saved)
        finally:
            _switching = False


_switching = False


def in_transition() -> bool:
    """Whether descriptors are being diverted or restored right now.

    A signal handler that raises (``sched --time-limit``'s alarm) must wait while this is
    true: an exception between two ``dup2`` calls would leave standard output diverted.
    """
    return _switching
