"""Lines taken off a pipe as they arrive, in the transport's callback, instead of by a reader task.

Both stdio hops of a tool call end in a line someone waits for: the client's request (which
the fast path answers) and the upstream server's reply (which settles the gateway's direct
request). Read through an asyncio ``StreamReader``, each such line costs a wake-up of the
reading task, its ``readline`` and one more turn of the event loop before anything happens.
:class:`Lines` offers every complete line to a ``take`` function right where the pipe's
bytes arrive; what it does not take is passed on, in order and unchanged, to the stream
the reader task (the SDK's transport, the upstream session) goes on reading. A line longer
than the stream's limit is not held here: from then on everything is passed on as it
comes, so the reader meets the overlong line and fails as it did before.
"""

from __future__ import annotations

from typing import Callable


class Lines:
    """Splits a byte stream at ``\\n``; ``feed`` returns the bytes of the lines ``take`` did not take."""

    def __init__(self, take: Callable[[bytes], bool], limit: int) -> None:
        self._take = take
        self._limit = limit
        self._rest = b""  # an unfinished line, held until its newline arrives
        self._raw = False

    def feed(self, data: bytes) -> bytes:
        if self._raw:
            return data
        if self._rest:
            data = self._rest + data
        end = data.rfind(b"\n") + 1
        rest = data[end:]
        if len(rest) > self._limit:  # an overlong line: the reader behind sees it (and fails on it) as before
            self._raw, self._rest = True, b""
            return data
        self._rest = rest
        if not end:
            return b""
        pieces = data[:end].split(b"\n")
        pieces.pop()  # what follows the last newline is `rest`
        kept = []
        for i, piece in enumerate(pieces):
            if len(piece) > self._limit:
                self._raw, self._rest = True, b""
                return b"".join(kept) + b"\n".join(pieces[i:]) + b"\n" + rest
            if not self._take(piece):
                kept.append(piece + b"\n")
        return b"".join(kept)

    def finish(self) -> bytes:
        """At the end of the stream: an unfinished last line, passed on (never taken) as the reader would see it."""
        rest, self._rest = self._rest, b""
        return rest
