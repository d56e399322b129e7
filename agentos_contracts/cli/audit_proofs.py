"""``agentos audit prove`` and ``agentos audit check``: what an auditor asks of a fleet store."""

from __future__ import annotations

from typing import Any, Optional

import typer

from agentos_contracts.cli.audit_report import KIND_CODES, diag, emit, key_or_diag
from agentos_contracts.cli.options import FORMAT, Format, guarded, start

STORE = typer.Option(..., "--store", help="The collector's folder.", metavar="DIR")


def prove_command(
    store: str = STORE,
    event: str = typer.Option(..., "--event", help="The event id (the record's `event_id`).", metavar="ID"),
    pub: Optional[str] = typer.Option(None, "--pub", help="The collector's public key: also check the signature.",
                                      metavar="K"),
    fmt: Optional[Format] = FORMAT,
) -> None:
    """Print an RFC 9162 inclusion proof of one record against the newest signed checkpoint."""
    guarded(lambda: _prove(store, event, pub, start(fmt)))


def check_command(
    store: str = STORE,
    pub: str = typer.Option(..., "--pub", help="The collector's public key.", metavar="K"),
    fmt: Optional[Format] = FORMAT,
) -> None:
    """Re-verify every checkpoint's signature and its consistency with the one before (the log only grew)."""
    guarded(lambda: _check(store, pub, start(fmt)))


def register(app: typer.Typer) -> None:
    app.command("prove")(prove_command)
    app.command("check")(check_command)


def _prove(store: str, event: str, pub_file: str | None, fmt: Format) -> int:
    from agentos_contracts.fleet.collect import StoreError
    from agentos_contracts.fleet.proofs import ProofError, prove

    diags: list[Any] = []
    key = key_or_diag(pub_file, False, diags) if pub_file else None
    doc: dict[str, Any] = {"store": store, "event": event}
    if diags:
        return emit(fmt, doc, diags)
    try:
        proof = prove(store, event, key)
    except ProofError as exc:
        code = "AC869" if "is not in the fleet log" in str(exc) else "AC872" if "signature" in str(exc) else "AC870"
        return emit(fmt, doc, [diag(code, store, str(exc))])
    except StoreError as exc:
        return emit(fmt, doc, [diag("AC868", store, str(exc))])
    doc.update(proof.to_json())
    if not proof.verified:
        diags.append(diag("AC871", store, f"the inclusion proof of `{event}` does not lead to the signed root"))
    signed = "signature checked" if proof.signature_checked else "signature not checked (no --pub)"
    text = (f"{'ok' if proof.verified else 'FAILED'}: `{event}` is leaf {proof.leaf_index} of {proof.tree_size} "
            f"in `{proof.checkpoint.origin}` ({signed})\n"
            + "\n".join(doc["inclusion_path"]) + "\n\n" + proof.checkpoint.note)
    return emit(fmt, doc, diags, text)


def _check(store: str, pub_file: str, fmt: Format) -> int:
    from agentos_contracts.fleet.collect import StoreError
    from agentos_contracts.fleet.proofs import check

    diags: list[Any] = []
    key = key_or_diag(pub_file, False, diags)
    doc: dict[str, Any] = {"store": store}
    if diags:
        return emit(fmt, doc, diags)
    try:
        report = check(store, key)
    except StoreError as exc:
        return emit(fmt, doc, [diag("AC868", store, str(exc))])
    diags += [diag(KIND_CODES[f.kind], store, f.message) for f in report.findings]
    diags += [diag(KIND_CODES.get(p.kind, "AC861"), store, p.message,
                   path=f"/chains/{p.log}/{p.seq if p.seq is not None else ''}") for p in report.problems]
    doc.update(report.to_json())
    text = (f"{'ok' if report.ok else 'FINDINGS'}: `{report.origin}` holds {report.size} record(s); "
            f"{report.verified} of {report.checkpoints} checkpoint(s) verified and consistent"
            if report.ok else f"FINDINGS: `{report.origin}`: {len(diags)} finding(s)")
    return emit(fmt, doc, diags, text)
