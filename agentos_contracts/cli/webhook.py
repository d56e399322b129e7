"""``agentos webhook serve``: the Kubernetes validating admission webhook over HTTPS.

Start-up checks everything it can before listening (the platform validates, the TLS pair
loads, the reservation folder is writable, ``--listen`` parses) and exits 2 with a
diagnostic otherwise; then it serves until SIGINT/SIGTERM.
"""

from __future__ import annotations

import os
import sys
from typing import Optional

import typer

from agentos_contracts.cli.options import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, FORMAT, Format, guarded, print_json, start
from agentos_contracts.diagnostics import Diagnostic, Severity, Span

app = typer.Typer(name="webhook", help="The Kubernetes admission webhook for agentos custom resources.",
                  no_args_is_help=True, add_completion=False)


@app.command("serve")
def serve_command(
    platform: str = typer.Option(..., "--platform", "-p", help="The platform catalog admission binds against.",
                                 metavar="FILE"),
    tls_cert: str = typer.Option(..., "--tls-cert", help="PEM certificate chain; re-read when it changes.",
                                 metavar="CERT"),
    tls_key: str = typer.Option(..., "--tls-key", help="PEM private key; re-read when it changes.", metavar="KEY"),
    listen: str = typer.Option("0.0.0.0:8443", "--listen", help="HOST:PORT to serve on.", metavar="HOST:PORT"),
    reservations: Optional[str] = typer.Option(None, "--reservations", help="Folder of admitted manifests (the "
                                               "webhook's state); without it every review sees an empty cluster.",
                                               metavar="DIR"),
    policies: Optional[str] = typer.Option(None, "--policies", help="Folder that contracts' policy paths are "
                                           "relative to (default: the platform file's folder).", metavar="DIR"),
    budget_ms: int = typer.Option(2500, "--budget-ms", min=50, help="Time budget per review; past it the review "
                                  "is denied as timed out.", metavar="MS"),
    fmt: Optional[Format] = FORMAT,
) -> None:
    """Serve POST /validate (AdmissionReview v1), GET /healthz and GET /readyz over HTTPS."""
    guarded(lambda: _run(platform, tls_cert, tls_key, listen, reservations, policies, budget_ms, start(fmt)))


def _run(platform: str, cert: str, key: str, listen: str, reservations: str | None, policies: str | None,
         budget_ms: int, fmt: Format) -> int:
    import ssl

    from agentos_contracts.diagnostics import make
    from agentos_contracts.validate import validate_paths

    usage: list[Diagnostic] = []
    host, _, port_text = listen.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        usage.append(make("AC851", Span("<command line>"), listen=listen))
    report = validate_paths([platform])
    if report.ok and not report.valid_documents("Platform"):
        usage.append(make("AC500", Span.file_start(platform), file=platform))
    from agentos_contracts.k8s.admission import Reviewer, WebhookSettings

    try:
        from agentos_contracts.k8s.server import CertificateReloader, serve
    except ImportError as exc:
        hint = "install the server extra: pip install 'agentos-contracts[k8s]'"
        _report([Diagnostic(Span("<command line>"), Severity.ERROR, "AC901", f"cannot serve: {exc}", "", hint)],
                {}, fmt)
        return EXIT_USAGE

    reloader = None
    try:
        reloader = CertificateReloader(cert, key)
    except (ssl.SSLError, OSError) as exc:
        usage.append(make("AC852", Span.file_start(cert), cert=cert, key=key, reason=str(exc)))
    settings = WebhookSettings(platform=platform, policies=policies or os.path.dirname(platform) or ".",
                               reservations=reservations, budget_ms=budget_ms)
    reviewer = Reviewer(settings)
    if reviewer.store is not None:
        try:
            reviewer.store.open()
        except OSError as exc:
            usage.append(make("AC844", Span.file_start(reservations or ""), folder=reservations,
                              reason=exc.strerror or str(exc)))
    problems = [d for d in report.diagnostics if d.is_error] + usage
    if problems:
        _report(problems, report.sources, fmt)
        return EXIT_USAGE if usage else EXIT_FINDINGS
    assert reloader is not None
    reviewer.warm_up()
    sys.stderr.write(f"agentos webhook: serving https://{listen}/validate (platform {platform}, "
                     f"{reviewer.store.count() if reviewer.store else 0} reservations, budget {budget_ms} ms)\n")
    serve(reviewer, reloader, host.strip("[]"), int(port_text))
    return EXIT_OK


def _report(diags: list[Diagnostic], sources: dict[str, str], fmt: Format) -> None:
    from agentos_contracts.diagnostics import sort_diagnostics
    from agentos_contracts.report.text import render_diagnostics

    diags = sort_diagnostics(diags)
    if fmt is Format.json:
        print_json({"ok": False, "diagnostics": [d.to_json() for d in diags]})
    render_diagnostics(diags, sources, sys.stderr)
