"""``agentos run MANIFEST --steps module:object``: execute an admitted workflow under the runtime.

Exit 0 when every step completed, 1 when the manifest was refused or a step failed or
was denied (completed steps are then compensated), 2 on a usage or I/O problem.
Consent is asked on the terminal; without one (CI, a pipe) every consent is refused.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from agentos_contracts.cli.options import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, FORMAT, Format, guarded, print_json, start
from agentos_contracts.diagnostics import Diagnostic, Span


def command(
    manifest: str = typer.Argument(..., help="The sealed workflow manifest (from `agentos admit`)."),
    steps: str = typer.Option(..., "--steps", help="Step implementations: module:object or path/file.py:object.",
                              metavar="MODULE:OBJECT"),
    pub: list[str] = typer.Option([], "--pub", help="Trusted public key of the manifest's signer (repeatable).",
                                  metavar="KEY"),
    audit: str = typer.Option(..., "--audit", help="The audit log (SQLite) to append to.", metavar="DB"),
    journal: Optional[str] = typer.Option(None, "--journal", help="Idempotency journal (default: AUDIT.journal).",
                                          metavar="DB"),
    input_: list[str] = typer.Option([], "--input", help="A workflow input NAME=VALUE (JSON or text; repeatable).",
                                     metavar="NAME=VALUE"),
    inputs_file: Optional[str] = typer.Option(None, "--inputs", help="Workflow inputs as a JSON object file.",
                                              metavar="FILE"),
    tools: Optional[str] = typer.Option(None, "--tools", help="MCP tool descriptors: JSON, or a Platform YAML.",
                                        metavar="FILE"),
    checkpoint_key: Optional[str] = typer.Option(None, "--checkpoint-key", help="Private key that signs audit "
                                                 "checkpoints.", metavar="KEY"),
    batched: bool = typer.Option(False, "--batched", help="Commit the audit log in batches (faster, less durable)."),
    retain_args: bool = typer.Option(False, "--retain-args", help="Keep call arguments (outside the chain) for "
                                     "`audit replay`."),
    context: Optional[str] = typer.Option(None, "--context", help="Request context every call sees, a JSON object "
                                          "(environment attributes the policies read, e.g. unsafe_environment).",
                                          metavar="JSON"),
    allow_unsigned: bool = typer.Option(False, "--allow-unsigned", help="Accept an unsigned manifest (local tests)."),
    revocations: Optional[str] = typer.Option(None, "--revocations", help="Signed revocation list to obey "
                                              "(default: $AGENTOS_REVOCATIONS).", metavar="FILE"),
    fmt: Optional[Format] = FORMAT,
) -> None:
    """Execute an admitted workflow: every tool call decided, gated and recorded."""
    guarded(lambda: _run(manifest, steps, pub, audit, journal, input_, inputs_file, tools, checkpoint_key, batched,
                         retain_args, allow_unsigned, start(fmt), context, revocations))


def _run(manifest: str, steps_ref: str, pubs: list[str], audit_path: str, journal_path: str | None,
         pairs: list[str], inputs_file: str | None, tools_file: str | None, checkpoint_key: str | None,
         batched: bool, retain_args: bool, allow_unsigned: bool, fmt: Format, context: str | None = None,
         revocations: str | None = None) -> int:
    from agentos_contracts.cli.audit import refused_diagnostics
    from agentos_contracts.runtime import ManifestRefused, Runtime
    from agentos_contracts.runtime.audit import AuditError, AuditLocked
    from agentos_contracts.runtime.consent import TerminalApprover
    from agentos_contracts.runtime.journal import Journal, JournalError
    from agentos_contracts.runtime.workflow import StepsError, load_steps, run_workflow
    from agentos_contracts.seal.keys import KeyFileError

    usage: list[Diagnostic] = []
    if not pubs and not allow_unsigned:
        usage.append(_diag("AC901", "<command line>", "no trusted public key given",
                           hint="pass `--pub KEY.pub` (the key that signed the manifest)"))
    inputs = _inputs(pairs, inputs_file, usage)
    request_context = _context(context, usage)
    tools = load_tool_descriptors(tools_file, usage) if tools_file else []
    if usage:
        return _emit(None, usage, fmt, EXIT_USAGE)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # `--steps mysteps:STEPS` finds mysteps.py here, as `python -m` would
    try:
        steps = load_steps(steps_ref)
    except StepsError as exc:
        return _emit(None, [_diag("AC730", "<command line>", str(exc))], fmt, EXIT_USAGE)
    try:
        rt = Runtime.load(manifest, pubs or None, audit=audit_path, checkpoint_key=checkpoint_key,
                          approver=TerminalApprover(), allow_unsigned=allow_unsigned,
                          durability="batched" if batched else "durable", tools=tools, retain_args=retain_args,
                          revocations=revocations)
    except ManifestRefused as exc:
        diags = refused_diagnostics(exc)
        io = any(d.code in ("AC001", "AC620") for d in diags)
        return _emit(None, diags, fmt, EXIT_USAGE if io else EXIT_FINDINGS)
    except KeyFileError as exc:
        return _emit(None, [_diag("AC620", checkpoint_key or "-", None, file=checkpoint_key, reason=str(exc))], fmt,
                     EXIT_USAGE)
    except AuditLocked as exc:
        return _emit(None, [_diag("AC717", audit_path, str(exc))], fmt, EXIT_USAGE)
    except AuditError as exc:
        return _emit(None, [_diag("AC716", audit_path, str(exc))], fmt, EXIT_USAGE)
    try:
        with Journal.open(journal_path or f"{audit_path}.journal") as book, rt.context(**request_context):
            report = run_workflow(rt, steps, inputs, book)
    except JournalError as exc:
        rt.finish("failed", error="journal")
        rt.close()
        return _emit(None, [_diag("AC733", journal_path or f"{audit_path}.journal", str(exc))], fmt, EXIT_USAGE)
    except StepsError as exc:
        rt.finish("failed", error="steps")
        rt.close()
        return _emit(None, [_diag("AC730", "<command line>", str(exc))], fmt, EXIT_USAGE)
    trace_id = rt.trace_id
    rt.close()
    diags = [] if report.ok else [_diag("AC731", manifest, report.error or "workflow failed")]
    diags += [_diag("AC732", manifest, None, step=s.id, reason=s.error or "")
              for s in report.steps if s.status == "compensation_failed"]
    extra = {**report.to_json(), "audit": audit_path, "trace_id": trace_id}
    return _emit(extra, diags, fmt, EXIT_OK if report.ok else EXIT_FINDINGS)


def _emit(result: dict[str, Any] | None, diags: list[Diagnostic], fmt: Format, code: int) -> int:
    if fmt is Format.json:
        doc: dict[str, Any] = {"ok": code == EXIT_OK, "diagnostics": [d.to_json() for d in diags]}
        if result is not None:
            doc.update({k: v for k, v in result.items() if k != "ok"})
        print_json(doc)
        return code
    from agentos_contracts.report.text import render_diagnostics

    render_diagnostics(diags, {}, sys.stderr)
    if result is not None:
        for step in result["steps"]:
            sys.stdout.write(f"{step['status']:<20} {step['id']}\n")
        verdict = "ok" if code == EXIT_OK else "FAILED"
        sys.stdout.write(f"{verdict}: workflow {result['workflow']} (audit {result['audit']}, "
                         f"trace {result['trace_id']})\n")
    return code


def _context(text: str | None, usage: list[Diagnostic]) -> dict[str, Any]:
    """``--context``: one JSON object; anything else is a usage error, never a guess."""
    if text is None:
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        usage.append(_diag("AC901", "<command line>", f"`--context` is not JSON: {exc}",
                           hint="pass a JSON object, e.g. --context '{\"unsafe_environment\": false}'"))
        return {}
    if not isinstance(data, dict):
        usage.append(_diag("AC901", "<command line>", "`--context` must be a JSON object",
                           hint="pass a JSON object, e.g. --context '{\"unsafe_environment\": false}'"))
        return {}
    return data


def _inputs(pairs: list[str], inputs_file: str | None, usage: list[Diagnostic]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if inputs_file is not None:
        try:
            data = json.loads(Path(inputs_file).read_text(encoding="utf-8"))
        except OSError as exc:
            usage.append(_diag("AC001", inputs_file, None, file=inputs_file, reason=exc.strerror or str(exc)))
            return out
        except ValueError as exc:
            usage.append(_diag("AC734", inputs_file, f"`{inputs_file}` is not JSON: {exc}"))
            return out
        if not isinstance(data, dict):
            usage.append(_diag("AC734", inputs_file, f"`{inputs_file}` does not hold a JSON object"))
            return out
        out.update(data)
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            usage.append(_diag("AC734", "<command line>", f"`--input {pair}` is not NAME=VALUE"))
            continue
        try:
            out[name] = json.loads(value)
        except ValueError:
            out[name] = value  # plain text needs no quotes
    return out


_TOOLS_HINT = "pass a JSON list of MCP tool descriptors, or the Platform YAML the manifest was admitted against"


def load_tool_descriptors(path: str, usage: list[Diagnostic]) -> list[dict[str, Any]]:
    """MCP descriptors from a JSON file (a list, or ``{"tools": [...]}``) or a Platform YAML's ``tools``."""
    if path.endswith((".yaml", ".yml")):
        from agentos_contracts.documents.discover import read_source
        from agentos_contracts.documents.loader import load_source

        source, diags = read_source(path)
        if source is None:
            usage.extend(diags)
            return []
        loaded = load_source(source)
        errors = [d for d in loaded.diagnostics if d.is_error]
        if errors:
            usage.extend(errors)
            return []
        return [t for doc in loaded.documents if doc.kind == "Platform" and isinstance(doc.data, dict)
                for t in doc.data.get("tools") or [] if isinstance(t, dict)]
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        usage.append(_diag("AC001", path, None, file=path, reason=exc.strerror or str(exc)))
        return []
    except ValueError as exc:
        usage.append(_diag("AC734", path, f"`{path}` is not JSON: {exc}", hint=_TOOLS_HINT))
        return []
    items = data.get("tools") if isinstance(data, dict) else data
    if not isinstance(items, list):
        usage.append(_diag("AC734", path, f"`{path}` holds no list of tool descriptors", hint=_TOOLS_HINT))
        return []
    return [t for t in items if isinstance(t, dict)]


def _diag(code: str, where: str, message: str | None, *, hint: str | None = None, **fmt: Any) -> Diagnostic:
    from agentos_contracts.diagnostics import make

    return make(code, Span.file_start(where), message, hint=hint, **fmt)

