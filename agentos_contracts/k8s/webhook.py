"""AdmissionReview ``admission.k8s.io/v1`` in, AdmissionReview response out: pure, no I/O.

The server reads bytes and writes bytes; this module decides what they mean. A request
that is not a well-formed review is a ``BadReview`` (HTTP 400 with a JSON error, never a
traceback); a verdict becomes a response that echoes ``uid``, sets ``allowed`` and, on a
denial, ``status.code: 403`` with a message listing every finding with its code — the
same words the CLI prints. Warnings respect the API server's limits (Kubernetes docs,
"Response" of dynamic admission control): keep each under 120 characters where possible,
the server may cut any over 256, and drops warnings past 4096 characters from all sources;
we cut each at 256 and spend at most ``WARNINGS_TOTAL`` of the 4096.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

REVIEW_API_VERSION = "admission.k8s.io/v1"
OPERATIONS = frozenset({"CREATE", "UPDATE", "DELETE", "CONNECT"})
WARNING_MAX = 256  # the API server may truncate longer warnings
WARNINGS_TOTAL = 3072  # of the 4096 characters all sources share; the rest is left to others
MESSAGE_MAX_FINDINGS = 50  # a status message stays readable; the count of the rest is given
MAX_BODY_BYTES = 3 * 1024 * 1024  # the API server's own request limit is 3 MiB


class BadReview(ValueError):
    """The body is not an AdmissionReview v1 request; the reason says what was expected."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewRequest:
    """The parts of ``request`` a decision reads."""

    uid: str
    group: str
    version: str
    kind: str
    operation: str
    name: str
    namespace: str | None
    object: dict[str, Any] | None = field(default=None, hash=False)
    old_object: dict[str, Any] | None = field(default=None, hash=False)
    dry_run: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One diagnostic or rejection reason, as the CLI words it."""

    severity: str  # error | warning | note
    code: str
    message: str
    path: str = ""  # JSON Pointer into the object (``/spec/...``)

    def line(self) -> str:
        where = f" {self.path}" if self.path else ""
        return f"{self.severity}[{self.code}]{where}: {self.message}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    allowed: bool
    reason: str = ""  # the first line of a denial
    findings: tuple[Finding, ...] = ()

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")


def parse_review(body: bytes) -> ReviewRequest:
    """The request inside an AdmissionReview; ``BadReview`` for anything else."""
    if len(body) > MAX_BODY_BYTES:
        raise BadReview(f"body of {len(body)} bytes is over the limit of {MAX_BODY_BYTES}")
    try:
        review = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadReview(f"body is not JSON ({exc})") from None
    if not isinstance(review, dict):
        raise BadReview("the body is not a JSON object")
    if review.get("apiVersion") != REVIEW_API_VERSION or review.get("kind") != "AdmissionReview":
        raise BadReview(f"expected `apiVersion: {REVIEW_API_VERSION}` and `kind: AdmissionReview`, got "
                        f"`{review.get('apiVersion')}` / `{review.get('kind')}`")
    req = review.get("request")
    if not isinstance(req, dict):
        raise BadReview("`request` is missing or not an object")
    uid = req.get("uid")
    if not isinstance(uid, str) or not uid:
        raise BadReview("`request.uid` is missing or not a string")
    operation = req.get("operation")
    if operation not in OPERATIONS:
        raise BadReview(f"`request.operation` `{operation}` is not one of {', '.join(sorted(OPERATIONS))}")
    gvk = req.get("kind")
    if not isinstance(gvk, dict) or not isinstance(gvk.get("kind"), str):
        raise BadReview("`request.kind` must be an object with `group`, `version` and `kind`")
    obj, old = req.get("object"), req.get("oldObject")
    for key, value in (("object", obj), ("oldObject", old)):
        if value is not None and not isinstance(value, dict):
            raise BadReview(f"`request.{key}` is not an object")
    if operation in ("CREATE", "UPDATE") and obj is None:
        raise BadReview(f"`request.object` is required for {operation}")
    namespace = req.get("namespace")
    name = req.get("name")
    if not isinstance(name, str) or not name:
        meta = (obj or old or {}).get("metadata")
        name = meta.get("name") if isinstance(meta, dict) else None
    return ReviewRequest(uid=uid, group=str(gvk.get("group") or ""), version=str(gvk.get("version") or ""),
                         kind=gvk["kind"], operation=operation, name=name if isinstance(name, str) else "",
                         namespace=namespace if isinstance(namespace, str) and namespace else None,
                         object=obj, old_object=old, dry_run=req.get("dryRun") is True)


def respond(request: ReviewRequest, verdict: Verdict, subject: str) -> dict[str, Any]:
    """The AdmissionReview response for ``verdict`` about ``subject`` (``AgentContract `x```)."""
    response: dict[str, Any] = {"uid": request.uid, "allowed": verdict.allowed}
    if not verdict.allowed:
        response["status"] = {"code": 403, "reason": "Forbidden", "message": status_message(subject, verdict)}
    shown = warning_lines(verdict.warnings)
    if shown:
        response["warnings"] = shown
    return {"apiVersion": REVIEW_API_VERSION, "kind": "AdmissionReview", "response": response}


def status_message(subject: str, verdict: Verdict) -> str:
    """``denied AgentContract `x`: reason`` then one line per error (warnings go to ``warnings``)."""
    errors = verdict.errors or verdict.findings  # a denial without errors still says what was found
    head = f"agentos denied {subject}: {verdict.reason or f'{len(errors)} error(s)'}"
    lines = [head] + [f.line() for f in errors[:MESSAGE_MAX_FINDINGS]]
    if len(errors) > MESSAGE_MAX_FINDINGS:
        lines.append(f"... and {len(errors) - MESSAGE_MAX_FINDINGS} more; run `agentos validate` on the file")
    return "\n".join(lines)


def warning_lines(findings: tuple[Finding, ...]) -> list[str]:
    """Warnings as the API server passes them on: each at most 256 characters, all within our share."""
    out: list[str] = []
    used = 0
    for i, f in enumerate(findings):
        text = " ".join(f.line().split())  # one line: the API server sends warnings as HTTP headers
        if len(text) > WARNING_MAX:
            text = text[: WARNING_MAX - 1] + "…"
        rest = len(findings) - i
        if used + len(text) > WARNINGS_TOTAL - 64 and rest > 1:
            out.append(f"{rest} more agentos warnings not shown; run `agentos validate` on the file")
            break
        out.append(text)
        used += len(text)
    return out


def error_body(reason: str) -> dict[str, Any]:
    """The JSON body of an HTTP 400 answer to a malformed review."""
    return {"error": {"code": "AC842", "message": f"malformed AdmissionReview: {reason}"}}
