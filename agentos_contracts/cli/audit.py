"""``agentos audit verify|replay|export|prune``: check an audit chain, re-decide its calls, export it, prune it.

`verify` exits 0 when the log is intact, 1 when it was tampered with (saying where), 2
when it cannot be read. `replay` exits 1 when any recorded decision differs under the
given manifest. `export` writes JSON Lines (which `verify` also reads).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from agentos_contracts.cli.options import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, FORMAT, Format, guarded, start, print_json
from agentos_contracts.diagnostics import Diagnostic, Severity, Span

app = typer.Typer(name="audit", help="Check, replay and export runtime audit logs.", no_args_is_help=True,
                  add_completion=False)

PROBLEM_CODES = {"modified": "AC710", "deleted": "AC711", "inserted": "AC712", "reordered": "AC713",
                 "broken-link": "AC713", "truncated": "AC714", "checkpoint": "AC715"}

LOG = typer.Argument(..., help="The audit log (SQLite, or its JSON Lines export).")
PUB = typer.Option([], "--pub", help="Public key of the runtime's checkpoint key (repeatable).", metavar="KEY")


@app.command("verify")
def verify_command(
    log: str = LOG,
    pub: list[str] = PUB,
    checkpoint: list[str] = typer.Option([], "--checkpoint", help="A signed checkpoint kept elsewhere (repeatable).",
                                         metavar="FILE"),
    fmt: Optional[Format] = FORMAT,
) -> None:
    """Check the hash chain; with --pub also the signed checkpoints (which catch a truncated tail)."""
    guarded(lambda: _verify(log, pub, checkpoint, start(fmt)))


@app.command("replay")
def replay_command(
    log: str = LOG,
    manifest: str = typer.Option(..., "--manifest", help="The manifest to re-decide the calls under."),
    pub: list[str] = typer.Option([], "--pub", help="Public key that signed the manifest (repeatable).",
                                  metavar="KEY"),
    tools: Optional[str] = typer.Option(None, "--tools", help="MCP tool descriptors (JSON, or a Platform YAML).",
                                        metavar="FILE"),
    allow_unsigned: bool = typer.Option(False, "--allow-unsigned", help="Accept an unsigned manifest."),
    fmt: Optional[Format] = FORMAT,
) -> None:
    """Re-decide every recorded call under MANIFEST and report each decision that differs."""
    guarded(lambda: _replay(log, manifest, pub, tools, allow_unsigned, start(fmt)))


@app.command("export")
def export_command(
    log: str = LOG,
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Write here instead of standard output."),
    form: str = typer.Option("jsonl", "--format", "-f", help="jsonl (header, records, checkpoints) or cloudevents "
                             "(CloudEvents 1.0 JSON, one event per line)."),
) -> None:
    """Write the log as JSON Lines (header, records with hashes, checkpoints) or as CloudEvents."""
    guarded(lambda: _export(log, output, form))


@app.command("prune")
def prune_command(
    log: str = LOG,
    before: str = typer.Option(..., "--before", help="Drop argument values kept for records before this date "
                                                     "(YYYY-MM-DD or RFC 3339).", metavar="DATE"),
    fmt: Format = FORMAT,
) -> None:
    """Drop retained argument values older than DATE (retention_days); every record and hash stays."""
    guarded(lambda: _prune(log, before, fmt))


def _prune(log: str, before: str, fmt: Format) -> int:
    from agentos_contracts.runtime.logstore import AuditError
    from agentos_contracts.runtime.retention import parse_before, prune_retained

    try:
        when = parse_before(before)
    except ValueError as exc:
        diags = [_diag("AC901", "<command line>", str(exc), hint="pass `--before YYYY-MM-DD`")]
    else:
        try:
            deleted, kept = prune_retained(log, when)
        except AuditError as exc:
            diags = [_diag("AC716", log, str(exc), hint="pass the SQLite audit log the runtime wrote (an export "
                                                          "holds no argument values to prune)")]
        else:
            if fmt is Format.json:
                print_json({"ok": True, "log": log, "before": when.isoformat().replace("+00:00", "Z"),
                            "pruned": deleted, "kept": kept, "diagnostics": []})
            else:
                sys.stdout.write(f"pruned: {deleted} records' argument values before {before}, {kept} kept; "
                                 f"every record and hash unchanged\n")
            return EXIT_OK
    if fmt is Format.json:
        print_json({"ok": False, "log": log, "diagnostics": [d.to_json() for d in diags]})
    else:
        _render(diags)
    return EXIT_USAGE


def _verify(log: str, pubs: list[str], checkpoint_files: list[str], fmt: Format) -> int:
    from agentos_contracts.runtime import audit

    usage: list[Diagnostic] = []
    keys = _public_keys(pubs, usage)
    extra = _read_files(checkpoint_files, usage)
    if usage:
        return _emit_verify(log, None, usage, fmt)
    try:
        report = audit.verify(log, keys, checkpoints=extra)
    except audit.AuditError as exc:
        return _emit_verify(log, None, [_diag("AC716", log, str(exc))], fmt)
    diags = [_diag(PROBLEM_CODES.get(p.kind, "AC710"), log, p.message, f"/records/{p.seq}") for p in report.problems]
    diags += [_diag("AC718", log, w, severity=Severity.WARNING) for w in report.warnings]
    return _emit_verify(log, report, diags, fmt)


def _emit_verify(log: str, report: Any, diags: list[Diagnostic], fmt: Format) -> int:
    code = EXIT_USAGE if any(d.code in ("AC716", "AC620", "AC001") for d in diags) else (
        EXIT_OK if report is not None and report.ok else EXIT_FINDINGS)
    if fmt is Format.json:
        doc: dict[str, Any] = {"ok": code == EXIT_OK, "log": log, "diagnostics": [d.to_json() for d in diags]}
        if report is not None:
            doc.update({k: v for k, v in report.to_json().items() if k != "ok"})
        print_json(doc)
        return code
    _render(diags)
    if report is not None:
        attested = f", signed through record {report.attested_seq}" if report.attested_seq else ""
        if report.ok:
            sys.stdout.write(f"ok: {log} intact, {report.records} records{attested}\n")
        else:
            first = report.problems[0]
            sys.stdout.write(f"TAMPERED: {log} breaks at record {first.seq} ({first.kind}); "
                             f"{len(report.problems)} problem(s)\n")
    return code


def _replay(log: str, manifest: str, pubs: list[str], tools_file: str | None, allow_unsigned: bool,
            fmt: Format) -> int:
    from agentos_contracts.cli.run import load_tool_descriptors
    from agentos_contracts.runtime import audit
    from agentos_contracts.runtime.manifest import ManifestRefused, load_manifest, read_public_keys
    from agentos_contracts.runtime.replay import replay

    usage: list[Diagnostic] = []
    if not pubs and not allow_unsigned:
        usage.append(_diag("AC901", "<command line>", "no trusted public key given",
                           hint="pass `--pub KEY.pub` (the key that signed the manifest)"))
    tools = load_tool_descriptors(tools_file, usage) if tools_file else []
    if usage:
        return _emit_replay(None, usage, fmt)
    try:
        loaded = load_manifest(manifest, read_public_keys(pubs), allow_unsigned=allow_unsigned)
        report = replay(log, loaded, tools)
    except ManifestRefused as exc:
        return _emit_replay(None, refused_diagnostics(exc), fmt)
    except audit.AuditError as exc:
        return _emit_replay(None, [_diag("AC716", log, str(exc))], fmt)
    diags = [_diag("AC720", log, None, f"/records/{d.seq}", seq=d.seq, action=d.action, recorded=d.recorded,
                   replayed=d.replayed) for d in report.differences]
    diags += [_diag("AC721", log, None, f"/records/{s}", severity=Severity.WARNING, seq=s, reason=r)
              for s, r in report.skipped]
    diags += [_diag(PROBLEM_CODES.get(p.kind, "AC710"), log, p.message, f"/records/{p.seq}")
              for p in report.chain_problems]
    return _emit_replay(report, diags, fmt)


def _emit_replay(report: Any, diags: list[Diagnostic], fmt: Format) -> int:
    usage = any(d.code in ("AC716", "AC901", "AC001", "AC620") for d in diags)
    code = EXIT_USAGE if usage else EXIT_OK if report is not None and report.ok and not any(
        d.is_error for d in diags) else EXIT_FINDINGS
    if fmt is Format.json:
        doc: dict[str, Any] = {"ok": code == EXIT_OK, "diagnostics": [d.to_json() for d in diags]}
        if report is not None:
            doc.update({k: v for k, v in report.to_json().items() if k != "ok"})
        print_json(doc)
        return code
    _render(diags)
    if report is not None:
        sys.stdout.write(f"{report.replayed} decisions replayed, {report.same} same, "
                         f"{len(report.differences)} differ, {len(report.skipped)} skipped\n")
    return code


def _export(log: str, output: str | None, form: str) -> int:
    from agentos_contracts.runtime.logstore import AuditError, export_jsonl

    if form not in ("jsonl", "cloudevents"):
        _render([_diag("AC901", "<command line>", f"unknown export format `{form}`", hint="use jsonl or cloudevents")])
        return EXIT_USAGE
    writer: Any = export_jsonl
    if form == "cloudevents":
        from agentos_contracts.fleet.ship import export_events as writer
    try:
        if output is None:
            writer(log, sys.stdout)
        else:
            with open(output, "w", encoding="utf-8") as fh:
                writer(log, fh)
    except AuditError as exc:
        _render([_diag("AC716", log, str(exc))])
        return EXIT_USAGE
    except OSError as exc:
        _render([_diag("AC001", output or "-", None, file=output, reason=exc.strerror or str(exc))])
        return EXIT_USAGE
    return EXIT_OK


def refused_diagnostics(exc: Any) -> list[Diagnostic]:
    """A refused manifest's problems as diagnostics, each with its own code and hint."""
    from agentos_contracts.codes import CODES

    out = []
    for code, message in exc.problems:
        entry = CODES.get(code)
        try:
            hint = entry.hint.format(file=exc.path) if entry is not None else ""
        except (KeyError, IndexError):
            hint = ""
        out.append(Diagnostic(Span.file_start(exc.path), Severity.ERROR, code, message, "", hint))
    return out


def _public_keys(paths: list[str], usage: list[Diagnostic]) -> list[Any]:
    from agentos_contracts.seal.keys import KeyFileError, read_public_key

    keys = []
    for path in paths:
        try:
            keys.append(read_public_key(path))
        except KeyFileError as exc:
            usage.append(_diag("AC620", path, None, file=path, reason=str(exc)))
    return keys


def _read_files(paths: list[str], usage: list[Diagnostic]) -> list[bytes]:
    out = []
    for path in paths:
        try:
            out.append(Path(path).read_bytes())
        except OSError as exc:
            usage.append(_diag("AC001", path, None, file=path, reason=exc.strerror or str(exc)))
    return out


def _diag(code: str, where: str, message: str | None, path: str = "", *, severity: Severity | None = None,
          hint: str | None = None, **fmt: Any) -> Diagnostic:
    from agentos_contracts.diagnostics import make

    return make(code, Span.file_start(where), message, path=path, severity=severity, hint=hint, **fmt)


def _render(diags: list[Diagnostic]) -> None:
    from agentos_contracts.report.text import render_diagnostics

    render_diagnostics(diags, {}, sys.stderr)


# the fleet commands (ship, collect, prove, check, migrate-store), one module each, registered into this group
for _module in ("audit_ship", "audit_collect", "audit_proofs", "audit_store"):
    importlib.import_module(f"agentos_contracts.cli.{_module}").register(app)
