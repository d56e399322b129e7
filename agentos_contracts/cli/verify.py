"""``agentos verify MANIFEST... --pub K``: check seal, digest, schema, expiry and sequence of manifests.

Verification is the runtime's own check (``seal.manifest.verify_manifest``), so CI
and the runtime can never disagree about a manifest. Exit 0 when every manifest
verifies, 1 when any fails, 2 on a usage or I/O problem (no key, unreadable file).

Extension point: ``verify_files(..., drift_check=F)`` runs ``F(file, result)`` on
each manifest whose seal verified and adds the diagnostics it returns; the
``--contract C --platform P`` re-admission check plugs in there.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable, Optional

import typer

from agentos_contracts.cli.options import (EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, FORMAT, QUIET, STDIN_FILENAME, VERBOSE, Format,
                                          guarded, print_json, say, settings, start)
from agentos_contracts.diagnostics import Diagnostic, Severity, Span

if TYPE_CHECKING:
    from agentos_contracts.seal.keys import PublicKey
    from agentos_contracts.seal.manifest import VerifyResult

MANIFEST_PATTERNS = ("*.manifest.json",)

DriftCheck = Callable[[str, "VerifyResult"], list[Diagnostic]]


@dataclass(slots=True)
class FileReport:
    """One manifest's outcome, as the JSON ``results`` entry shows it."""

    file: str
    ok: bool
    digest: str = ""
    diagnostics: list[Diagnostic] = field(default_factory=list)
    signed_by: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "ok": self.ok,
            "digest": self.digest,
            "errors": [d.message for d in self.diagnostics if d.is_error],
            "signed_by": list(self.signed_by),
        }


def command(
    manifests: list[str] = typer.Argument(..., help="Manifest files, folders (searched for *.manifest.json) or -."),
    pub: list[str] = typer.Option([], "--pub", help="Trusted public key (PEM); repeatable, any one suffices.", metavar="KEY"),
    min_sequence: Optional[int] = typer.Option(None, "--min-sequence", min=0, help="Reject manifests with a lower sequence (rollback)."),
    now: Optional[str] = typer.Option(None, "--now", help="Check expiry at this RFC 3339 instant instead of the current time.", metavar="ISO"),
    contract: list[str] = typer.Option([], "--contract", "-c", help="Drift check: re-admit these contracts/workflows (as admitted together) and compare.", metavar="PATH"),
    platform: Optional[str] = typer.Option(None, "--platform", "-p", help="Drift check: the platform to re-admit against.", metavar="FILE"),
    optimize: str = typer.Option("cost", "--optimize", help="Drift check: the objective the manifests were admitted with (cost or latency)."),
    fmt: Optional[Format] = FORMAT,
    stdin_filename: Optional[str] = STDIN_FILENAME,
    quiet: bool = QUIET,
    verbose: bool = VERBOSE,
) -> None:
    """Check the signature, payload type, digest and schema of sealed manifests."""
    guarded(lambda: _verify_command(manifests, pub, min_sequence, now, contract, platform, optimize,
                                    start(fmt, stdin_filename=stdin_filename, verbose=verbose, quiet=quiet)))


def _verify_command(manifests: list[str], pubs: list[str], min_sequence: int | None, now: str | None,
                    contracts: list[str], platform: str | None, optimize: str, fmt: Format) -> int:
    """``--contract C --platform P`` adds the drift check (re-admission must give the same manifest)."""
    if contracts and platform is None:
        platform = settings.config.platform
    if not contracts and platform is None:
        return _run(manifests, pubs, min_sequence, now, fmt)
    if not contracts or platform is None or optimize not in ("cost", "latency"):
        _emit([], [_usage("the drift check needs `--contract PATH` and `--platform FILE` (and `--optimize cost|latency`)",
                          "pass the contracts and platform the manifests were admitted from")], fmt)
        return EXIT_USAGE
    return _run(manifests, pubs, min_sequence, now, fmt, drift_check=_drift(contracts, platform, pubs, optimize))


def _drift(contracts: list[str], platform: str, pubs: list[str], optimize: str) -> DriftCheck:
    """Re-admit (unsealed) and compare each intact manifest with its re-admitted self.

    A manifest was admitted together with others: they share cores and capacity, so its
    numbers depend on them. The manifests beside it (same folder) stand for that company:
    they are passed as existing reservations, and those being re-admitted now are skipped
    by admission itself, so checking one manifest alone re-creates what it was admitted with.
    """
    import os

    from agentos_contracts.admit import AdmitOptions, AdmitResult, admit, drift
    from agentos_contracts.diagnostics import make

    cache: dict[str, AdmitResult] = {}

    def check(file: str, result: VerifyResult) -> list[Diagnostic]:
        folder = "" if file == "-" else os.path.dirname(file) or "."  # standard input has no neighbours
        if folder not in cache:
            keys = _load_keys(pubs, [])
            cache[folder] = admit(contracts, platform, AdmitOptions(seal=False, optimize=optimize, trusted_keys=tuple(keys),
                                                                    existing=(folder,) if folder else ()))
        again = cache[folder]
        io = [d for d in again.diagnostics if d.code in {"AC001", "AC007"}]
        if io:
            return io[:1]
        return [make("AC535", Span.file_start(file), detail=p) for p in drift(result.statement or {}, again)]

    return check


def _run(manifests: list[str], pubs: list[str], min_sequence: int | None, now_text: str | None, fmt: Format,
         drift_check: DriftCheck | None = None) -> int:
    from agentos_contracts.documents.discover import find_files

    usage: list[Diagnostic] = []
    if not pubs:
        usage.append(_usage("no trusted public key given", "pass `--pub KEY.pub` (repeatable); `agentos keygen` makes a key pair"))
    now = _parse_now(now_text, usage)
    keys = _load_keys(pubs, usage)
    files: list[str] = []
    for given in manifests:  # one at a time, so results keep the command line's order
        found, missing = find_files([given], MANIFEST_PATTERNS)
        files += found or ([given] if missing else [])  # a missing file gets its I/O diagnostic below
    if not files:
        usage.append(_usage("no manifests found in the given paths", "pass manifest files (*.manifest.json) or folders"))
    if usage:
        _emit([], usage, fmt)
        return EXIT_USAGE
    reports = verify_files(files, keys, now=now, min_sequence=min_sequence, drift_check=drift_check)
    _emit(reports, [], fmt)
    if any(d.code in {"AC001", "AC007"} for r in reports for d in r.diagnostics):
        return EXIT_USAGE
    return EXIT_OK if all(r.ok for r in reports) else EXIT_FINDINGS


def verify_files(
    files: list[str],
    keys: list[PublicKey],
    *,
    now: datetime | None = None,
    min_sequence: int | None = None,
    drift_check: DriftCheck | None = None,
) -> list[FileReport]:
    """Verify each file (``-`` is standard input) with the runtime's own check."""
    from agentos_contracts.codes import CODES
    from agentos_contracts.documents.discover import read_source
    from agentos_contracts.seal.manifest import verify_manifest

    reports: list[FileReport] = []
    for name in files:
        source, diags = read_source(name)
        if source is None:
            reports.append(FileReport(file=name, ok=False, diagnostics=diags))
            continue
        result = verify_manifest(source.data, keys, now=now, min_sequence=min_sequence)
        found = [
            Diagnostic(Span.file_start(name), Severity.ERROR, p.code, p.message, "", CODES[p.code].hint)
            for p in result.problems
        ]
        if drift_check is not None and result.ok:  # drift only means something for an intact manifest
            found += drift_check(name, result)
        ok = result.ok and not any(d.is_error for d in found)
        reports.append(FileReport(file=name, ok=ok, digest=result.digest, diagnostics=found, signed_by=result.signed_by))
    return reports


def _load_keys(paths: list[str], usage: list[Diagnostic]) -> list[PublicKey]:
    from agentos_contracts.diagnostics import make
    from agentos_contracts.seal.keys import KeyFileError, read_public_key

    keys: list[PublicKey] = []
    for path in paths:
        try:
            keys.append(read_public_key(path))
        except KeyFileError as exc:
            usage.append(make("AC620", Span.file_start(path), file=path, reason=str(exc)))
    return keys


def _parse_now(text: str | None, usage: list[Diagnostic]) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        usage.append(_usage(f"`--now {text}` is not an RFC 3339 date-time", "write e.g. `--now 2025-01-31T12:00:00Z`"))
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _usage(message: str, hint: str) -> Diagnostic:
    return Diagnostic(Span("<command line>"), Severity.ERROR, "AC901", message, "", hint)


def _emit(reports: list[FileReport], usage: list[Diagnostic], fmt: Format) -> None:
    from agentos_contracts.diagnostics import sort_diagnostics

    diags = sort_diagnostics(usage + [d for r in reports for d in r.diagnostics])
    if fmt is Format.json:
        print_json({
            "ok": bool(reports) and not usage and all(r.ok for r in reports),
            "results": [r.to_json() for r in reports],
            "diagnostics": [d.to_json() for d in diags],
        })
        return
    from agentos_contracts.report.text import render_diagnostics

    render_diagnostics(diags, {}, sys.stderr)
    for r in reports:
        mark = "ok  " if r.ok else "FAIL"
        if not r.ok or not settings.quiet:
            sys.stdout.write(f"{mark} {r.file} {r.digest}".rstrip() + "\n")
    if reports:
        failed = sum(1 for r in reports if not r.ok)
        noun = "manifest" if len(reports) == 1 else "manifests"
        say(sys.stdout, f"{len(reports)} {noun} checked, {failed} failed\n" if failed
            else f"ok: {len(reports)} {noun} verified\n")
