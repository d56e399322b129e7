"""A real webhook server on 127.0.0.1 with trustme certificates, and AdmissionReview builders."""

from __future__ import annotations

import copy
import socket
import ssl
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import trustme

from agentos_contracts.documents.loader import load_text
from agentos_contracts.k8s.admission import Reviewer, WebhookSettings
from agentos_contracts.k8s.resources import BY_KIND, to_resource
from agentos_contracts.k8s.server import CertificateReloader, make_server

REPO = Path(__file__).resolve().parents[2]
PLATFORM = REPO / "contracts" / "platforms" / "city-edge.yaml"


@dataclass
class Webhook:
    url: str
    ca: trustme.CA
    cert: Path
    key: Path
    reviewer: Reviewer
    reloader: CertificateReloader

    def client(self, ca: trustme.CA | None = None) -> httpx.Client:
        ctx = ssl.create_default_context()
        (ca or self.ca).configure_trust(ctx)
        return httpx.Client(verify=ctx, base_url=self.url, timeout=120)

    def issue(self, ca: trustme.CA) -> None:
        """Write a new certificate/key pair from ``ca`` over the served files (a rotation)."""
        leaf = ca.issue_cert("127.0.0.1", "localhost")
        leaf.private_key_pem.write_to_path(str(self.key))
        leaf.cert_chain_pems[0].write_to_path(str(self.cert))


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@contextmanager
def running_webhook(folder: Path, *, budget_ms: int = 120_000, store: bool = True) -> Iterator[Webhook]:
    ca = trustme.CA()
    cert, key = folder / "tls.crt", folder / "tls.key"
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    settings = WebhookSettings(platform=str(PLATFORM), policies=str(REPO / "contracts"),
                               reservations=str(folder / "reservations") if store else None, budget_ms=budget_ms)
    reviewer = Reviewer(settings)
    if reviewer.store is not None:
        reviewer.store.open()
    reloader = CertificateReloader(str(cert), str(key))
    port = _free_port()
    server = make_server(reviewer, reloader, "127.0.0.1", port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(400):
        if server.started:
            break
        time.sleep(0.025)
    assert server.started, "the webhook did not start"
    try:
        yield Webhook(f"https://127.0.0.1:{port}", ca, cert, key, reviewer, reloader)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def example(name: str) -> dict[str, Any]:
    """A bundled example contract in its custom-resource form."""
    path = REPO / "contracts" / f"{name}.yaml"
    return to_resource(load_text(str(path), path.read_text()).documents[0].data)


def review(obj: dict[str, Any], operation: str = "CREATE", *, dry_run: bool = False,
           uid: str | None = None) -> dict[str, Any]:
    kind = obj["kind"]
    meta = obj.get("metadata") or {}
    request: dict[str, Any] = {
        "uid": uid or str(uuid.uuid4()),
        "kind": {"group": "agentos.dev", "version": "v1alpha1", "kind": kind},
        "resource": {"group": "agentos.dev", "version": "v1alpha1", "resource": BY_KIND[kind].plural},
        "name": meta.get("name"),
        "operation": operation,
        "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters"]},
        "dryRun": dry_run,
    }
    if meta.get("namespace"):
        request["namespace"] = meta["namespace"]
    if operation == "DELETE":
        request["oldObject"] = obj
    else:
        request["object"] = obj
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}


def edited(obj: dict[str, Any], **spec: Any) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["spec"].update(spec)
    return out


@pytest.fixture(scope="module")
def webhook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Webhook]:
    with running_webhook(tmp_path_factory.mktemp("webhook")) as hook:
        yield hook
