"""An agent's lifecycle: admitted → running → paused → running | revoked | completed.

The state changes from two places: this process (``Runtime.pause``/``resume``/``revoke``,
or the built-in kill-switch action ``agent.pause``) and the signed revocation list, which
``agentos ctl`` writes and every runtime that reads it obeys on its next call.

What a paused agent's calls do, per call kind (see docs/runtime.md):
- guarded calls (``call``, ``tool``, ``model_call``, workflow steps' calls) **wait** until
  the agent is resumed, revoked or ``pause_wait_s`` passes, then run or are refused;
- bare ``authorize()`` decisions (what a gateway asks before forwarding) are **refused at
  once**: a decision is an answer, not a wait;
- consent already being asked is not interrupted; the call it gates waits like any other.
A revoked agent's calls are all refused, for the rest of the process's life.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

STATES = ("admitted", "running", "paused", "revoked", "completed")
_NEXT = {  # allowed transitions; anything else is ignored (revoked and completed are final)
    "admitted": {"running", "paused", "revoked", "completed"},
    "running": {"paused", "revoked", "completed"},
    "paused": {"running", "revoked", "completed"},
    "revoked": set(),
    "completed": set(),
}
KILL_SWITCH = "agent.pause"  # the paper's built-in action: a policy or a person may always pause


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    before: str
    after: str
    reason: str
    source: str  # "local" (this process) or "revocations" (the signed list)


class Lifecycle:
    """One agent's state, shared by all its threads; waiting calls are woken on every change."""

    def __init__(self, *, pause_wait_s: float = 30.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.state = "admitted"
        self.reason = ""
        self.pause_wait_s = pause_wait_s
        self._monotonic = monotonic
        self._changed = threading.Condition(threading.Lock())

    def move(self, after: str, reason: str = "", source: str = "local") -> Transition | None:
        """Change state if allowed; ``None`` when it is not (already there, or final)."""
        with self._changed:
            before = self.state
            if after not in _NEXT[before]:
                return None
            self.state, self.reason = after, reason
            self._changed.notify_all()
        return Transition(before=before, after=after, reason=reason, source=source)

    def wait_while_paused(self, poll: Callable[[], None], timeout_s: float | None = None) -> str:
        """Block while paused (re-checking the list with ``poll`` every 50 ms, for changes made by
        another process); the state it ended in. ``timeout_s`` defaults to ``pause_wait_s``."""
        limit = self._monotonic() + (self.pause_wait_s if timeout_s is None else timeout_s)
        while True:
            poll()
            with self._changed:
                if self.state != "paused":
                    return self.state
                left = limit - self._monotonic()
                if left <= 0:
                    return self.state
                self._changed.wait(min(left, 0.05))
