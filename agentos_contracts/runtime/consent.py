"""Human consent bound to the exact call: one approval, one request, one digest, before expiry.

The peers' trap is an approval the agent can grant itself (a flag in the request) or
reuse (an approval for "send an email" that covers every email). Here a request names
the SHA-256 of the canonical call ``{action, args, manifest}``; an approval must name
that digest *and* the request's one-time id, is accepted once, and only before the
request expires. Only the approver (a callback, a terminal prompt) can produce one: the
gate never reads the agent's context or arguments except to digest them.
"""

from __future__ import annotations

import os
import select
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Mapping

from agentos_contracts.seal.canonical import canonical_digest

DEFAULT_TTL_NS = 300 * 1_000_000_000


def call_digest(action: str, args: Mapping[str, Any], manifest_digest: str) -> str:
    """The digest a consent is bound to: what is done, with what, under which manifest."""
    return canonical_digest({"action": action, "args": dict(args), "manifest": manifest_digest})


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentRequest:
    """What a person is asked to approve; ``args`` is shown to them, never recorded."""

    request_id: str
    action: str
    call_digest: str
    args_digest: str
    manifest: str
    rules: tuple[str, ...]
    reason: str
    expires_at_ns: int
    agent: str | None = None
    step: str | None = None
    escalated_to: str | None = None
    args: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def approve(self, approver: str = "callback") -> Approval:
        """The approval for exactly this request (what a callback returns to say yes)."""
        return Approval(request_id=self.request_id, call_digest=self.call_digest, approver=approver)

    def refuse(self, approver: str = "callback", note: str = "refused") -> Approval:
        return Approval(request_id=self.request_id, call_digest=self.call_digest, approver=approver,
                        granted=False, note=note)


@dataclass(frozen=True, slots=True, kw_only=True)
class Approval:
    request_id: str
    call_digest: str
    approver: str = "callback"
    granted: bool = True
    note: str = ""


# an approver answers a request: True/False, an Approval, or None (no answer: deny)
Approver = Callable[[ConsentRequest], "Approval | bool | None"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentOutcome:
    granted: bool
    reason: str
    approver: str
    escalated_to: str | None = None


class ConsentGate:
    """Asks the approver and checks the answer; remembers redeemed requests so none is used twice."""

    def __init__(self, approver: Approver | None = None, *, clock: Callable[[], int] = time.time_ns,
                 ttl_ns: int = DEFAULT_TTL_NS) -> None:
        self.approver = approver
        self._clock = clock
        self.ttl_ns = ttl_ns
        self._redeemed: set[str] = set()
        self._lock = threading.Lock()

    def request(self, *, action: str, args: Mapping[str, Any], args_digest: str, manifest: str,
                rules: tuple[str, ...], reason: str, agent: str | None = None, step: str | None = None,
                ttl_ns: int | None = None) -> ConsentRequest:
        return ConsentRequest(
            request_id=uuid.uuid4().hex, action=action, call_digest=call_digest(action, args, manifest),
            args_digest=args_digest, manifest=manifest, rules=rules, reason=reason,
            expires_at_ns=self._clock() + (self.ttl_ns if ttl_ns is None else ttl_ns),
            agent=agent, step=step, args=args,
        )

    def decide(self, request: ConsentRequest, *, timeout_s: float | None = None,
               escalate_to: str | None = None) -> ConsentOutcome:
        """Block on the approver (with a timeout, then once more at the escalation target)."""
        if self.approver is None:
            return ConsentOutcome(granted=False, reason="no approver is configured", approver="none")
        answered, answer = _ask(self.approver, request, timeout_s)
        if not answered and escalate_to:
            request = _escalated(request, escalate_to)
            answered, answer = _ask(self.approver, request, timeout_s)
        if not answered:
            return ConsentOutcome(granted=False, reason=f"no answer within {timeout_s} s", approver="timeout",
                                  escalated_to=request.escalated_to)
        if isinstance(answer, BaseException):
            return ConsentOutcome(granted=False, reason=f"approver failed: {type(answer).__name__}",
                                  approver="error", escalated_to=request.escalated_to)
        if answer is True:
            answer = request.approve()
        if not isinstance(answer, Approval):
            return ConsentOutcome(granted=False, reason="approver refused", approver="callback",
                                  escalated_to=request.escalated_to)
        return self.redeem(answer, request)

    def redeem(self, approval: Approval, request: ConsentRequest) -> ConsentOutcome:
        """Accept an approval for this request once, before expiry, for this exact call."""
        who, esc = approval.approver, request.escalated_to
        if not approval.granted:
            return ConsentOutcome(granted=False, reason=approval.note or "approver refused", approver=who,
                                  escalated_to=esc)
        if approval.call_digest != request.call_digest:
            return ConsentOutcome(granted=False, reason="approval is for a different call", approver=who,
                                  escalated_to=esc)
        if approval.request_id != request.request_id:
            return ConsentOutcome(granted=False, reason="approval belongs to another request (replayed)",
                                  approver=who, escalated_to=esc)
        if self._clock() >= request.expires_at_ns:
            return ConsentOutcome(granted=False, reason="approval came after the request expired", approver=who,
                                  escalated_to=esc)
        with self._lock:
            if request.request_id in self._redeemed:
                return ConsentOutcome(granted=False, reason="approval was already used", approver=who,
                                      escalated_to=esc)
            self._redeemed.add(request.request_id)
        return ConsentOutcome(granted=True, reason="approved", approver=who, escalated_to=esc)


def _escalated(request: ConsentRequest, target: str) -> ConsentRequest:
    return ConsentRequest(
        request_id=request.request_id, action=request.action, call_digest=request.call_digest,
        args_digest=request.args_digest, manifest=request.manifest, rules=request.rules, reason=request.reason,
        expires_at_ns=request.expires_at_ns, agent=request.agent, step=request.step, escalated_to=target,
        args=request.args,
    )


def _ask(approver: Approver, request: ConsentRequest, timeout_s: float | None) -> tuple[bool, Any]:
    """(answered, answer); an approver that raises answers with its exception (a refusal)."""
    if timeout_s is None:
        try:
            return True, approver(request)
        except Exception as exc:  # a broken approver never approves
            return True, exc
    box: list[Any] = []

    def run() -> None:
        try:
            box.append(approver(request))
        except Exception as exc:
            box.append(exc)

    worker = threading.Thread(target=run, name=f"consent-{request.request_id[:8]}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    return (True, box[0]) if box else (False, None)


class TerminalApprover:
    """Asks on the terminal (`agentos run`); refuses when there is no one to ask (no tty, CI)."""

    def __init__(self, stdin: IO[str] | None = None, stdout: IO[str] | None = None,
                 env: Mapping[str, str] | None = None, timeout_s: float | None = None) -> None:
        self._timeout_s = timeout_s
        self._in = stdin if stdin is not None else sys.stdin
        self._out = stdout if stdout is not None else sys.stderr
        self._env = os.environ if env is None else env

    def is_interactive(self) -> bool:
        if self._env.get("CI", "").lower() not in ("", "0", "false"):
            return False
        try:
            return bool(self._in.isatty())
        except (AttributeError, ValueError):
            return False

    def __call__(self, request: ConsentRequest) -> Approval:
        if not self.is_interactive():
            return request.refuse("terminal", "non-interactive session: no one to ask")
        who = f" (escalated to {request.escalated_to})" if request.escalated_to else ""
        self._out.write(f"consent needed{who}: `{request.action}` by {request.agent or 'agent'}\n"
                        f"  rules: {', '.join(request.rules) or '-'}\n  call: {request.call_digest}\n"
                        f"  args: {_short(request.args)}\napprove? [y/N] ")
        self._out.flush()
        if self._timeout_s is not None:
            ready, _, _ = select.select([self._in], [], [], self._timeout_s)
            if not ready:
                return request.refuse("terminal", "no answer on the terminal")
        line = self._in.readline()
        if line.strip().lower() in ("y", "yes"):
            return request.approve("terminal")
        return request.refuse("terminal", "refused on the terminal")


def _short(args: Mapping[str, Any], limit: int = 400) -> str:
    text = repr(dict(args))
    return text if len(text) <= limit else text[: limit - 3] + "..."
