"""``agentos k8s manifests``: the CRDs and the webhook's Kubernetes objects, as YAML.

Without ``-o`` the objects go to standard output as one multi-document YAML stream (pipe it
to ``kubectl apply -f -``); with ``-o DIR`` they are written to ``DIR/crds.yaml`` and
``DIR/webhook.yaml``. The output depends only on the options: same options, same bytes.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from agentos_contracts.cli.options import EXIT_OK, EXIT_USAGE, FORMAT, Format, guarded, print_json, start
from agentos_contracts.diagnostics import Diagnostic, Span

app = typer.Typer(name="k8s", help="Kubernetes: custom resource definitions and the admission webhook's objects.",
                  no_args_is_help=True, add_completion=False)

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")


@app.command("manifests")
def manifests_command(
    namespace: str = typer.Option("agentos", "--namespace", "-n", help="Namespace of the webhook's objects."),
    image: Optional[str] = typer.Option(None, "--image", help="Container image with agentos-contracts installed "
                                                               "(default agentos-contracts:VERSION).", metavar="IMAGE"),
    out_dir: Optional[str] = typer.Option(None, "-o", "--output", help="Write crds.yaml and webhook.yaml here "
                                                                      "instead of standard output.", metavar="DIR"),
    ca_bundle: Optional[str] = typer.Option(None, "--ca-bundle", help="PEM of the CA that signed the webhook's "
                                            "certificate (default: cert-manager injects it).", metavar="FILE"),
    fmt: Optional[Format] = FORMAT,
) -> None:
    """Write the CRDs (structural schemas generated from the JSON Schemas) and the webhook's objects."""
    guarded(lambda: _run(namespace, image, out_dir, ca_bundle, start(fmt)))


def _run(namespace: str, image: str | None, out_dir: str | None, ca_file: str | None, fmt: Format) -> int:
    import base64

    from agentos_contracts import __version__
    from agentos_contracts.diagnostics import make

    diags: list[Diagnostic] = []
    if not _DNS_LABEL.match(namespace):
        diags.append(make("AC850", Span("<command line>"), namespace=namespace))
    bundle = None
    if ca_file is not None:
        try:
            bundle = base64.b64encode(Path(ca_file).read_bytes()).decode("ascii")
        except OSError as exc:
            diags.append(make("AC001", Span.file_start(ca_file), file=ca_file, reason=exc.strerror or str(exc)))
    if diags:
        return _fail(diags, fmt)
    from agentos_contracts.documents.writer import dump_yaml
    from agentos_contracts.k8s.crds import crds
    from agentos_contracts.k8s.deployment import deployment_objects

    groups = {"crds.yaml": crds(),
              "webhook.yaml": deployment_objects(namespace, image or f"agentos-contracts:{__version__}", bundle)}
    written: list[str] = []
    if out_dir is not None:
        try:
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            for name, objects in groups.items():
                path = Path(out_dir) / name
                path.write_text(dump_yaml(objects), encoding="utf-8")
                written.append(str(path))
        except OSError as exc:
            where = str(exc.filename or out_dir)
            return _fail([make("AC001", Span.file_start(where), file=where, reason=exc.strerror or str(exc))], fmt)
    objects = [o for group in groups.values() for o in group]
    if fmt is Format.json:
        doc: dict[str, Any] = {"ok": True, "diagnostics": [], "files": written, "objects": [_ref(o) for o in objects]}
        if out_dir is None:
            doc["manifests"] = objects
        print_json(doc)
    elif out_dir is None:
        sys.stdout.write(dump_yaml(objects))
    else:
        for path in written:
            sys.stdout.write(f"wrote {path}\n")
    return EXIT_OK


def _ref(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": meta.get("name"),
            "namespace": meta.get("namespace")}


def _fail(diags: list[Diagnostic], fmt: Format) -> int:
    from agentos_contracts.report.text import render_diagnostics

    if fmt is Format.json:
        print_json({"ok": False, "diagnostics": [d.to_json() for d in diags], "files": [], "objects": []})
    render_diagnostics(diags, {}, sys.stderr)
    return EXIT_USAGE
