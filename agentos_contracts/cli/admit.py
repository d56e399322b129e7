"""``agentos admit PATHS... --platform P``: bind, analyse and seal; one manifest per admitted contract or workflow.

Exit 0 when everything was admitted, 1 when anything was rejected (or an input is
invalid), 2 on a usage or I/O problem (no signing key and no ``--unsigned``, an
unreadable file or key). Manifests hold no clock reading unless asked
(``--issued-at`` or ``SOURCE_DATE_EPOCH``, ``--valid-for``): the same inputs and key
give byte-identical files.
"""

from __future__ import annotations

import os
import re
import sys
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from agentos_contracts.cli.options import (CI_FORMATS, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, IGNORE, PATHS, QUIET,
                                          REPORT_FORMAT, STDIN_FILENAME, VERBOSE, ValidateFormat, drop_ignored, exit_code,
                                          guarded, print_json, render_ci, say, settings, start)
from agentos_contracts.diagnostics import Diagnostic, Severity, Span

if TYPE_CHECKING:
    from agentos_contracts.admit import AdmitOptions, AdmitResult

KEY_ENV = "AGENTOS_SIGNING_KEY"
_DURATION = re.compile(r"(\d+)([wdhms])")
_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


class Optimize(str, Enum):
    cost = "cost"
    latency = "latency"


class Solver(str, Enum):
    auto = "auto"
    highs = "highs"
    cbc = "cbc"


def command(
    paths: list[str] = PATHS,
    platform: Optional[str] = typer.Option(None, "--platform", "-p", help="The platform catalog (a Platform document); default: the config's `platform`.", metavar="FILE"),
    key: Optional[str] = typer.Option(None, "--key", help=f"Ed25519 private key (PEM) to sign with; or the {KEY_ENV} environment variable (PEM text).", metavar="FILE"),
    unsigned: bool = typer.Option(False, "--unsigned", help="Write unsigned manifests (verify reports them; local experiments only)."),
    out_dir: str = typer.Option(".", "-o", "--output", "--out", help="Folder for the <name>.manifest.json files.", metavar="DIR"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Decide and report; write nothing."),
    optimize: Optimize = typer.Option(Optimize.cost, "--optimize", help="What flexible choices minimise."),
    existing: list[str] = typer.Option([], "--existing", help="Manifests already admitted (files or folders): their capacity is taken.", metavar="DIR"),
    pub: list[str] = typer.Option([], "--pub", help="Public key that signed the existing manifests (repeatable).", metavar="KEY"),
    existing_unsigned: bool = typer.Option(False, "--existing-unsigned", help="Count unsigned existing manifests too."),
    issued_at: Optional[str] = typer.Option(None, "--issued-at", help="issuedAt (RFC 3339); default SOURCE_DATE_EPOCH, else none.", metavar="ISO"),
    valid_for: Optional[str] = typer.Option(None, "--valid-for", help="expiresAt = issuedAt + DURATION, e.g. 30d, 12h, 1w2d.", metavar="DURATION"),
    sequence: Optional[int] = typer.Option(None, "--sequence", min=0, help="Monotonic manifest sequence number (verify --min-sequence)."),
    time_limit: float = typer.Option(60.0, "--time-limit", min=0.0, help="Seconds for the solver and exact re-checks; no answer in time is verdict unknown."),
    solver: Solver = typer.Option(Solver.auto, "--solver", help="MILP solver: HiGHS, else CBC."),
    fmt: Optional[ValidateFormat] = REPORT_FORMAT,
    ignore: list[str] = IGNORE,
    stdin_filename: Optional[str] = STDIN_FILENAME,
    quiet: bool = QUIET,
    verbose: bool = VERBOSE,
) -> None:
    """Bind contracts and workflows against a platform, check every SLO, and seal a manifest for each."""
    guarded(lambda: _run(paths, platform, key, unsigned, out_dir, dry_run, optimize, existing, pub, existing_unsigned,
                         issued_at, valid_for, sequence, time_limit, solver,
                         start(fmt, stdin_filename=stdin_filename, verbose=verbose, quiet=quiet, choices=ValidateFormat),
                         ignore))


def _run(paths: list[str], platform: str | None, key_file: str | None, unsigned: bool, out_dir: str, dry_run: bool,
         optimize: Optimize, existing: list[str], pubs: list[str], existing_unsigned: bool, issued_at: str | None,
         valid_for: str | None, sequence: int | None, time_limit: float, solver: Solver, fmt: ValidateFormat,
         ignore: list[str] | tuple[str, ...] = ()) -> int:
    from agentos_contracts.admit import AdmitOptions, admit

    usage: list[Diagnostic] = []
    platform = platform or settings.config.platform
    if platform is None:
        usage.append(_usage("no platform given", "pass `--platform FILE` (`-p`), or set `platform` in `[tool.agentos]`"))
    key = None if dry_run or unsigned else _signing_key(key_file, usage)
    if key_file and unsigned:
        usage.append(_usage("`--key` and `--unsigned` exclude each other", "drop one of them"))
    clock = _clock(issued_at, valid_for, usage)
    trusted = _public_keys(pubs, usage)
    if usage:
        _emit(None, usage, {}, fmt)
        return EXIT_USAGE
    options = AdmitOptions(optimize=optimize.value, time_limit=time_limit, solver=solver.value,
                           existing=tuple(existing), trusted_keys=tuple(trusted), existing_unsigned=existing_unsigned,
                           seal=not dry_run, key=key, sequence=sequence, **clock)
    assert platform is not None
    result = admit(paths, platform, options)
    manifests = {} if dry_run else _write(result, Path(out_dir))
    # `--ignore` silences warnings and notes only: an error kept something from admission (or stopped
    # it), and hiding it would drop units silently; rejections stay too, they are verdicts
    result.diagnostics[:] = drop_ignored(result.diagnostics, ignore, keep_errors=True, texts=result.sources)
    _emit(result, [], manifests, fmt)
    code = exit_code(result.diagnostics)
    if code == EXIT_USAGE:
        return code
    decided = bool(result.admitted or result.rejected)
    return EXIT_FINDINGS if result.rejected or code == EXIT_FINDINGS or not decided else EXIT_OK


def _usage(message: str, hint: str) -> Diagnostic:
    return Diagnostic(Span("<command line>"), Severity.ERROR, "AC901", message, "", hint)


def _signing_key(path: str | None, usage: list[Diagnostic]) -> Any:
    from agentos_contracts.diagnostics import make
    from agentos_contracts.seal.keys import KeyFileError, load_private_key, read_private_key

    try:
        if path:
            return read_private_key(path)
        text = os.environ.get(KEY_ENV)
        if text:
            return load_private_key(text)
    except KeyFileError as exc:
        where = path or f"${KEY_ENV}"
        usage.append(make("AC620", Span.file_start(where), file=where, reason=str(exc)))
        return None
    usage.append(_usage("no signing key", f"pass `--key FILE` or set {KEY_ENV} (PEM text); `agentos keygen` makes "
                                          "a key pair; `--unsigned` writes unsigned manifests"))
    return None


def _public_keys(paths: list[str], usage: list[Diagnostic]) -> list[Any]:
    from agentos_contracts.diagnostics import make
    from agentos_contracts.seal.keys import KeyFileError, read_public_key

    out = []
    for p in paths:
        try:
            out.append(read_public_key(p))
        except KeyFileError as exc:
            usage.append(make("AC620", Span.file_start(p), file=p, reason=str(exc)))
    return out


def parse_duration(text: str) -> timedelta | None:
    """``30d``, ``12h``, ``1w2d``, ``90m``, ``3600s``; None when malformed or zero."""
    text = text.strip()
    if not text or _DURATION.sub("", text):
        return None
    seconds = sum(int(n) * _SECONDS[u] for n, u in _DURATION.findall(text))
    return timedelta(seconds=seconds) if seconds > 0 else None


def _clock(issued_at: str | None, valid_for: str | None, usage: list[Diagnostic]) -> dict[str, Any]:
    """issuedAt from the flag or SOURCE_DATE_EPOCH; expiresAt from --valid-for (reading the clock only then)."""
    issued: datetime | None = None
    if issued_at is not None:
        try:
            issued = datetime.fromisoformat(issued_at.replace("Z", "+00:00"))
        except ValueError:
            usage.append(_usage(f"`--issued-at {issued_at}` is not an RFC 3339 date-time", "write e.g. `2025-01-31T12:00:00Z`"))
        else:
            issued = issued if issued.tzinfo else issued.replace(tzinfo=timezone.utc)
    elif os.environ.get("SOURCE_DATE_EPOCH"):
        raw = os.environ["SOURCE_DATE_EPOCH"].strip()
        if raw.isdigit():
            issued = datetime.fromtimestamp(int(raw), timezone.utc)
        else:
            usage.append(_usage(f"SOURCE_DATE_EPOCH `{raw}` is not a number of seconds", "set it to a Unix time, e.g. `1700000000`"))
    expires: datetime | None = None
    if valid_for is not None:
        span = parse_duration(valid_for)
        if span is None:
            usage.append(_usage(f"`--valid-for {valid_for}` is not a duration", "write e.g. `30d`, `12h` or `1w2d`"))
        else:
            issued = issued or datetime.now(timezone.utc).replace(microsecond=0)
            expires = issued + span
    return {"issued_at": _rfc3339(issued), "expires_at": _rfc3339(expires), "now": issued}


def _rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    text = moment.astimezone(timezone.utc).isoformat()
    return text.replace("+00:00", "Z")


def _write(result: AdmitResult, out_dir: Path) -> dict[str, str]:
    """Each sealed manifest as ``DIR/<name>.manifest.json``, replaced atomically."""
    written: dict[str, str] = {}
    for a in result.admitted:
        if a.envelope is None:
            continue
        path = out_dir / f"{a.name}.manifest.json"
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(a.envelope)
            os.replace(tmp, path)
        except OSError as exc:
            from agentos_contracts.diagnostics import make

            where = str(exc.filename or path)
            result.diagnostics.append(make("AC001", Span.file_start(where), file=where, reason=exc.strerror or str(exc)))
            continue
        written[f"{a.kind}:{a.name}"] = str(path)
    return written


def _emit(result: AdmitResult | None, usage: list[Diagnostic], manifests: dict[str, str], fmt: ValidateFormat) -> None:
    from agentos_contracts.diagnostics import sort_diagnostics

    diags = sort_diagnostics(usage + (result.diagnostics if result else []))
    if fmt is ValidateFormat.json:
        print_json(_json(result, diags, manifests))
        return
    if fmt.value in CI_FORMATS:  # rejections become findings at their unit's file
        rejections = [Diagnostic(Span.file_start(r.file), Severity.ERROR, x.code, x.message, "", "")
                      for r in (result.rejected if result else []) for x in r.reasons]
        files = [a.file for a in result.admitted] + [r.file for r in result.rejected] if result else []
        render_ci(fmt.value, "admit", files, sort_diagnostics(diags + rejections), None, result.sources if result else {})
        return
    from agentos_contracts.report.text import render_diagnostics

    render_diagnostics(diags, result.sources if result else {}, sys.stderr)
    if result is None:
        return
    out = sys.stdout
    for a in result.admitted:
        where = ", ".join(p[0] if p[1] is None else f"{p[0]} core {p[1]}" for p in a.placement)
        target = manifests.get(f"{a.kind}:{a.name}")
        say(out, f"admitted  {a.name}: {', '.join(a.models) or 'no model'} on {where}"
                 + (f" -> {target}" if target else "") + "\n")
    for r in result.rejected:
        out.write(f"{r.verdict:<9} {r.name} ({r.file})\n")
        for reason in r.reasons:
            out.write(f"    {reason.code} {reason.message}\n")
    if result.admitted or result.rejected:
        s = result.solver
        solver = f" (solver {s['name']}: {s['status']}, {s['rounds']} round{'s' if s['rounds'] != 1 else ''}, {s['cuts']} cuts)" if s.get("name") else ""
        say(out, f"{len(result.admitted)} admitted, {len(result.rejected)} rejected{solver}\n")


def _json(result: AdmitResult | None, diags: list[Diagnostic], manifests: dict[str, str]) -> dict[str, Any]:
    if result is None:
        return {"ok": False, "diagnostics": [d.to_json() for d in diags], "admitted": [], "rejected": []}
    return {
        "ok": result.ok and not any(d.is_error for d in diags) and bool(result.admitted or result.rejected),
        "diagnostics": [d.to_json() for d in diags],
        "admitted": [{"name": a.name, "kind": a.kind, "file": a.file, "manifest": manifests.get(f"{a.kind}:{a.name}"),
                      "models": list(a.models), "placement": [{"node": n, "core": c} for n, c in a.placement],
                      "evidence": a.evidence} for a in result.admitted],
        "rejected": [{"name": r.name, "kind": r.kind, "file": r.file, "verdict": r.verdict,
                      "reasons": [x.to_json() for x in r.reasons]} for r in result.rejected],
        "solver": result.solver,
    }
