"""``agentos gateway MANIFEST --pub KEY --audit LOG --upstream PREFIX=...``: an MCP gateway held to a sealed manifest.

Exit 2, before listening, when the manifest is unsigned, tampered with, not an
AgentContract manifest, or an option is wrong; exit 0 when the client disconnects
(stdio) or the gateway is stopped (HTTP). With ``--listen stdio`` standard output is the
MCP channel, so the gateway reports on standard error; ``--format json`` applies to the
start-up report only.
"""

from __future__ import annotations

import sys
from typing import Any, Optional

import typer

from agentos_contracts.cli.options import EXIT_OK, EXIT_USAGE, FORMAT, Format, guarded, print_json
from agentos_contracts.diagnostics import Diagnostic, Severity, Span


def command(
    manifest: str = typer.Argument(..., help="The sealed AgentContract manifest (from `agentos admit`)."),
    pub: list[str] = typer.Option([], "--pub", help="Trusted public key of the manifest's signer (repeatable).",
                                  metavar="KEY"),
    audit: str = typer.Option(..., "--audit", help="The audit log (SQLite) every decision and result goes to.",
                              metavar="LOG"),
    upstream: list[str] = typer.Option([], "--upstream", help="PREFIX=COMMAND (a stdio MCP server, shell-split) or "
                                       "PREFIX=http://HOST:PORT/PATH (streamable HTTP); tool T is action PREFIX.T.",
                                       metavar="PREFIX=TARGET"),
    listen: str = typer.Option("stdio", "--listen", help="`stdio` or http://127.0.0.1:PORT/mcp.", metavar="WHERE"),
    context: Optional[str] = typer.Option(None, "--context", help="Environment attributes for the policy, a JSON "
                                          "object.", metavar="JSON"),
    context_file: Optional[str] = typer.Option(None, "--context-file", help="A file holding that JSON object; "
                                               "re-read when it changes.", metavar="FILE"),
    monitor: bool = typer.Option(False, "--monitor", help="Decide and audit, but forward everything (shadow mode)."),
    timeout: float = typer.Option(60.0, "--timeout", help="Seconds an upstream may take per request.",
                                  metavar="SECONDS"),
    fmt: Format = FORMAT,
) -> None:
    """Serve MCP to any client, every tool call decided by the sealed manifest."""
    guarded(lambda: _gateway(manifest, pub, audit, upstream, listen, context, context_file, monitor, timeout, fmt))


def _diag(code: str, file: str, message: str, hint: str | None = None) -> Diagnostic:
    from agentos_contracts.codes import CODES

    return Diagnostic(Span.file_start(file), Severity.ERROR, code, message, "",
                      hint if hint is not None else CODES[code].hint)


def _fail(diags: list[Diagnostic], fmt: Format) -> int:
    if fmt is Format.json:
        print_json({"ok": False, "diagnostics": [d.to_json() for d in diags]})
    from agentos_contracts.report.text import render_diagnostics

    render_diagnostics(diags, {}, sys.stderr)
    return EXIT_USAGE


def _options(pubs: list[str], upstreams: list[str], listen: str, context: str | None,
             context_file: str | None, timeout: float) -> tuple[list[Diagnostic], Any, Any, Any]:
    from agentos_contracts.gateway.context import ContextSource, parse_context
    from agentos_contracts.gateway.server import parse_listen
    from agentos_contracts.gateway.upstream import parse_upstream

    line = "<command line>"
    diags: list[Diagnostic] = []
    if not pubs:
        diags.append(_diag("AC615", line, "no trusted public key given"))
    if not upstreams:
        diags.append(_diag("AC801", line, "no `--upstream` given: the gateway needs at least one MCP server"))
    specs: dict[str, Any] = {}
    for text in upstreams:
        spec = parse_upstream(text)
        if isinstance(spec, str):
            diags.append(_diag("AC801", line, spec))
        elif spec.prefix in specs:
            diags.append(_diag("AC801", line, f"upstream prefix `{spec.prefix}` is given twice"))
        else:
            specs[spec.prefix] = spec
    where = parse_listen(listen)
    if isinstance(where, str):
        diags.append(_diag("AC802", line, where))
    if not timeout > 0:
        diags.append(_diag("AC901", line, "`--timeout` must be a positive number of seconds", hint=""))
    source = None
    if context is not None and context_file is not None:
        diags.append(_diag("AC803", line, "give `--context` or `--context-file`, not both"))
    elif context is not None:
        parsed = parse_context(context, "`--context`")
        if isinstance(parsed, str):
            diags.append(_diag("AC803", line, parsed))
        else:
            source = ContextSource(static=parsed)
    else:
        source = ContextSource(file=context_file) if context_file is not None else ContextSource()
        now = source.current()
        if isinstance(now, str):
            diags.append(_diag("AC803", context_file or line, now))
    return diags, list(specs.values()), where, source


def _gateway(manifest: str, pubs: list[str], audit: str, upstreams: list[str], listen: str, context: str | None,
             context_file: str | None, monitor: bool, timeout: float, fmt: Format) -> int:
    from agentos_contracts.cli.audit import refused_diagnostics
    from agentos_contracts.runtime import ManifestRefused
    from agentos_contracts.runtime.audit import AuditError, AuditLocked
    from agentos_contracts.runtime.manifest import load_manifest, read_public_keys

    diags, specs, where, source = _options(pubs, upstreams, listen, context, context_file, timeout)
    if diags:
        return _fail(diags, fmt)
    try:
        loaded = load_manifest(manifest, read_public_keys(pubs))
    except ManifestRefused as exc:
        return _fail(refused_diagnostics(exc), fmt)
    if loaded.manifest.kind != "AgentContract":
        return _fail([_diag("AC800", manifest, f"manifest `{manifest}` is a `{loaded.manifest.kind}` manifest, "
                            "not an AgentContract manifest")], fmt)
    from agentos_contracts.gateway.relay import runtime_approver
    from agentos_contracts.runtime import Runtime

    try:
        rt = Runtime.load(manifest, pubs, audit=audit, approver=runtime_approver, durability="batched")
    except ManifestRefused as exc:
        return _fail(refused_diagnostics(exc), fmt)
    except AuditLocked as exc:
        return _fail([_diag("AC717", audit, str(exc))], fmt)
    except AuditError as exc:
        return _fail([_diag("AC716", audit, str(exc))], fmt)
    return _run(rt, specs, where, source, monitor, timeout)


def _run(rt: Any, specs: list[Any], where: Any, source: Any, monitor: bool, timeout: float) -> int:
    import anyio

    from agentos_contracts.gateway.server import build_relay, serve
    from agentos_contracts.gateway.upstream import stderr_log

    relay = build_relay(rt, specs, source, monitor=monitor, timeout_s=timeout, log=stderr_log)
    outcome = "ok"
    try:
        anyio.run(serve, relay, where, stderr_log)
    except KeyboardInterrupt:
        pass
    except BaseException:
        outcome = "failed"
        raise
    finally:
        rt.finish(outcome)
        rt.close()
    return EXIT_OK
