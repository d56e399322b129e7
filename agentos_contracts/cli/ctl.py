"""``agentos ctl pause|resume|revoke MANIFEST_OR_DIGEST --audit LOG``: steer admitted agents.

Each command signs a new version of the revocation list (``--revocations`` or
``$AGENTOS_REVOCATIONS``; created when absent) with ``--key``, and records what it did in
the control log ``--audit``. Every runtime reading that list obeys on its next call.
Exit 0 when the list was written, 1 when the change is not allowed (resuming a revoked
manifest) or the existing list is not trusted, 2 on a usage or I/O problem.
"""

from __future__ import annotations

import os
import re
import sys
import uuid
from pathlib import Path
from typing import Any, Optional

import typer

from agentos_contracts.cli.options import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, FORMAT, Format, guarded, print_json, start
from agentos_contracts.diagnostics import Diagnostic, Span

app = typer.Typer(name="ctl", help="Pause, resume or revoke admitted agents (signed revocation list).",
                  no_args_is_help=True, add_completion=False)

TARGET = typer.Argument(..., help="A sealed manifest file, or its digest `sha256:...`.", metavar="MANIFEST_OR_DIGEST")
AUDIT = typer.Option(..., "--audit", help="The control log (SQLite) that records this action.", metavar="DB")
REVOCATIONS = typer.Option(None, "--revocations", help="The signed revocation list (default: $AGENTOS_REVOCATIONS).",
                           metavar="FILE")
KEY = typer.Option(None, "--key", help="Signing key (the manifests'); default: $AGENTOS_SIGNING_KEY (PEM text).",
                   metavar="KEY")
PUB = typer.Option([], "--pub", help="Another key the existing list may be signed with (repeatable).", metavar="KEY")
REASON = typer.Option("", "--reason", help="Why (kept in the list and the log).")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_TYPE = {"pause": "agent.paused", "resume": "agent.resumed", "revoke": "agent.revoked"}
_STATE = {"pause": "paused", "resume": "running", "revoke": "revoked"}


def _command(action: str) -> Any:
    def command(target: str = TARGET, audit: str = AUDIT, revocations: Optional[str] = REVOCATIONS,
                key: Optional[str] = KEY, pub: list[str] = PUB, reason: str = REASON, fmt: Optional[Format] = FORMAT) -> None:
        guarded(lambda: _ctl(action, target, audit, revocations, key, pub, reason, start(fmt)))

    command.__doc__ = {"pause": "Pause an agent: its calls wait, its bare decisions are refused, until resumed.",
                       "resume": "Resume a paused agent.",
                       "revoke": "Revoke a manifest for good: every runtime reading the list refuses it."}[action]
    return command


for _action in ("pause", "resume", "revoke"):
    app.command(_action)(_command(_action))


def _ctl(action: str, target: str, audit: str, revocations: str | None, key_path: str | None, pubs: list[str],
         reason: str, fmt: Format) -> int:
    from agentos_contracts.runtime import revocations as rev
    from agentos_contracts.runtime.audit import AuditError, AuditLocked, AuditLog
    from agentos_contracts.runtime.chain import SCHEMA_VERSION
    from agentos_contracts.seal import keys

    usage: list[Diagnostic] = []
    path = rev.default_path(revocations)
    if path is None:
        usage.append(_diag("AC901", "no revocation list given", "pass `--revocations FILE` or set AGENTOS_REVOCATIONS"))
    digest, name, tenant = _target(target, usage)
    key = None
    try:
        if key_path:
            key = keys.read_private_key(key_path)
        elif os.environ.get("AGENTOS_SIGNING_KEY"):
            key = keys.load_private_key(os.environ["AGENTOS_SIGNING_KEY"])
        else:
            usage.append(_diag("AC775", "no signing key given"))
        trusted = [keys.read_public_key(p) for p in pubs]
    except keys.KeyFileError as exc:
        usage.append(_diag("AC775", str(exc)))
        trusted = []
    if usage or key is None or path is None or digest is None:
        return _emit(None, usage, fmt, EXIT_USAGE)
    try:
        log = AuditLog.open(audit)
    except AuditLocked as exc:
        return _emit(None, [_diag("AC717", str(exc), "give ctl its own control log; the runtime records the change "
                                                        "in its log when it sees it")], fmt, EXIT_USAGE)
    except AuditError as exc:
        return _emit(None, [_diag("AC716", str(exc))], fmt, EXIT_USAGE)
    with log:
        try:
            fresh = rev.change(path, digest, action, key, trusted, reason)
        except rev.RevocationError as exc:
            return _emit(None, [_diag(exc.code, str(exc))], fmt, EXIT_FINDINGS)
        except OSError as exc:
            return _emit(None, [_diag("AC901", f"cannot write `{path}`: {exc.strerror or exc}",
                                        "check that the folder exists and is writable")], fmt, EXIT_USAGE)
        log.append({"schema_version": SCHEMA_VERSION, "type": _TYPE[action], "trace_id": uuid.uuid4().hex,
                    "span_id": os.urandom(8).hex(), "agent": name, "tenant": tenant, "manifest": digest,
                    "state": _STATE[action], "reason": reason or None,
                    "detail": {"source": "ctl", "revocations": path, "sequence": fresh.sequence}})
    result = {"action": action, "manifest": digest, "state": _STATE[action], "revocations": path,
              "sequence": fresh.sequence, "audit": audit}
    return _emit(result, [], fmt, EXIT_OK)


def _target(target: str, usage: list[Diagnostic]) -> tuple[str | None, str | None, str | None]:
    """``(digest, agent name, tenant)``: from a digest as given, or from a manifest file's payload."""
    if target.startswith("sha256:"):
        if _DIGEST.match(target):
            return target, None, None
        usage.append(_diag("AC773", f"`{target}` is not a digest (`sha256:` and 64 lowercase hex digits)"))
        return None, None, None
    import json

    from agentos_contracts.seal import dsse
    from agentos_contracts.seal.canonical import sha256_digest

    try:
        envelope, errors = dsse.from_json(json.loads(Path(target).read_bytes()))
        predicate = json.loads(envelope.payload).get("predicate", {}) if envelope is not None and not errors else None
    except (OSError, ValueError, AttributeError) as exc:
        usage.append(_diag("AC773", f"cannot read manifest `{target}`: {getattr(exc, 'strerror', None) or exc}"))
        return None, None, None
    if envelope is None or not isinstance(predicate, dict):
        usage.append(_diag("AC773", f"`{target}` is not a sealed manifest (a DSSE envelope)"))
        return None, None, None
    return sha256_digest(envelope.payload), predicate.get("name"), predicate.get("tenant")


def _emit(result: dict[str, Any] | None, diags: list[Diagnostic], fmt: Format, code: int) -> int:
    if fmt is Format.json:
        print_json({"ok": code == EXIT_OK, "diagnostics": [d.to_json() for d in diags], **(result or {})})
        return code
    for d in diags:
        sys.stderr.write(f"{d.span.file}: {d.severity.value}[{d.code}]: {d.message}\n")
        if d.hint:
            sys.stderr.write(f"  = hint: {d.hint}\n")
    if result is not None:
        sys.stdout.write(f"{result['action']}: {result['manifest']} is {result['state']} "
                         f"({result['revocations']}, sequence {result['sequence']})\n")
    return code


def _diag(code: str, message: str, hint: str | None = None) -> Diagnostic:
    from agentos_contracts.diagnostics import make

    return make(code, Span.file_start("<command line>"), message, hint=hint)
