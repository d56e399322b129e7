"""The webhook over real HTTPS: AdmissionReview v1 in, decisions out, as the API server sees them."""

from __future__ import annotations

import copy
import ssl
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from tests.k8s.conftest import Webhook, edited, example, review, running_webhook


def _post(hook: Webhook, body: dict[str, Any]) -> dict[str, Any]:
    with hook.client() as c:
        r = c.post("/validate", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["apiVersion"] == "admission.k8s.io/v1" and out["kind"] == "AdmissionReview"
    return out["response"]


def test_probes(webhook: Webhook) -> None:
    with webhook.client() as c:
        assert c.get("/healthz").text == "ok"
        ready = c.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True


def test_valid_contract_is_allowed_with_warnings_and_uid_echoed(webhook: Webhook) -> None:
    body = review(example("speech-copilot"), dry_run=True, uid="4b1f7a52-uid-echo")
    resp = _post(webhook, body)
    assert resp["uid"] == "4b1f7a52-uid-echo"
    assert resp["allowed"] is True, resp
    assert any(w.startswith("warning[AC530]") for w in resp["warnings"]), resp["warnings"]
    assert all(len(w) <= 256 for w in resp["warnings"])


def test_invalid_contract_is_denied_with_located_messages(webhook: Webhook) -> None:
    obj = example("safety-kill-switch")
    obj["spec"]["class"]["slo"]["wcet_ms"] = 12
    obj["spec"]["capabilites"] = ["x.y"]  # a typo: unknown key
    resp = _post(webhook, review(obj, dry_run=True))
    assert resp["allowed"] is False
    assert resp["status"]["code"] == 403
    message = resp["status"]["message"]
    assert message.startswith("agentos denied AgentContract `safety-kill-switch` in namespace `robotics`")
    assert "error[AC112] /spec/class/slo/wcet_ms: `wcet_ms` 12 exceeds `deadline_ms` 10" in message
    assert "/spec/capabilites" in message and "AC101" in message


def test_unschedulable_hrt_is_denied_with_response_time_numbers(webhook: Webhook) -> None:
    obj = example("safety-kill-switch")
    obj["metadata"]["name"] = "kill-switch-heavy"
    obj["spec"]["class"]["slo"] = {"deadline_ms": 10, "period_ms": 10, "wcet_ms": 8, "jitter_ms": 2.5}
    resp = _post(webhook, review(obj))
    assert resp["allowed"] is False
    message = resp["status"]["message"]
    assert "rejected" in message.splitlines()[0]
    assert "AC511" in message and "response time 10.5 ms > deadline 10 ms" in message
    assert not webhook.reviewer.store.manifest_path("AgentContract", "robotics", "kill-switch-heavy").exists()


def test_dry_run_has_no_side_effects_and_create_delete_hold_and_free(webhook: Webhook) -> None:
    store = webhook.reviewer.store
    obj = example("planner")
    ns = obj["metadata"].get("namespace")
    path = store.manifest_path("AgentContract", ns, "planner")
    assert _post(webhook, review(obj, dry_run=True))["allowed"] is True
    assert not path.exists()
    assert _post(webhook, review(obj))["allowed"] is True
    assert path.exists() and store.object_path("AgentContract", ns, "planner").exists()
    assert _post(webhook, review(obj, "UPDATE"))["allowed"] is True  # its own reservation is not counted twice
    assert _post(webhook, review(obj, "DELETE", dry_run=True))["allowed"] is True
    assert path.exists()
    assert _post(webhook, review(obj, "DELETE"))["allowed"] is True
    assert not path.exists()


def test_capacity_held_by_admitted_contracts_denies_the_next(webhook: Webhook) -> None:
    """Reservations are real: HRT contracts fill the edge cores until the next one is refused."""
    base = example("safety-kill-switch")
    base["spec"]["class"]["slo"] = {"deadline_ms": 10, "period_ms": 10, "wcet_ms": 6}  # one per core
    answers = []
    for i in range(6):
        obj = copy.deepcopy(base)
        obj["metadata"]["name"] = f"guard-{i}"
        answers.append(_post(webhook, review(obj)))
    allowed = [a["allowed"] for a in answers]
    assert allowed == sorted(allowed, reverse=True) and allowed[0] and not allowed[-1], allowed
    assert sum(allowed) == 4  # the platform's four edge cores that declare a scheduler
    assert "AC511" in answers[-1]["status"]["message"]
    for i in range(6):
        obj = copy.deepcopy(base)
        obj["metadata"]["name"] = f"guard-{i}"
        _post(webhook, review(obj, "DELETE"))


def test_malformed_reviews_get_400_json(webhook: Webhook) -> None:
    with webhook.client() as c:
        for body in (b"{not json", b"[]", b'{"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview"}',
                     b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": 5}}'):
            r = c.post("/validate", content=body, headers={"content-type": "application/json"})
            assert r.status_code == 400, body
            assert r.json()["error"]["code"] == "AC842"
            assert "Traceback" not in r.text


def test_foreign_kinds_are_allowed_untouched(webhook: Webhook) -> None:
    body = review(example("planner"), dry_run=True)
    body["request"]["kind"] = {"group": "", "version": "v1", "kind": "ConfigMap"}
    assert _post(webhook, body)["allowed"] is True


def test_policy_paths_cannot_leave_the_policy_folder(webhook: Webhook) -> None:
    obj = edited(example("planner"), policies=["../../etc/passwd"])
    resp = _post(webhook, review(obj, dry_run=True))
    assert resp["allowed"] is False and "error[AC843] /spec/policies/0: file `../../etc/passwd`" in resp["status"]["message"]


def test_fifty_concurrent_reviews_are_all_answered_correctly(webhook: Webhook) -> None:
    good = example("doc-rag-planner")
    bad = copy.deepcopy(good)
    bad["spec"]["class"]["slo"]["onset_ms"] = 5000
    bodies = [review(good if i % 2 == 0 else bad, dry_run=True, uid=f"uid-{i}") for i in range(50)]
    with webhook.client() as c:
        c.get("/healthz")

        def send(body: dict[str, Any]) -> dict[str, Any]:
            return c.post("/validate", json=body).json()["response"]

        with ThreadPoolExecutor(max_workers=50) as pool:
            answers = list(pool.map(send, bodies))
    assert [a["uid"] for a in answers] == [f"uid-{i}" for i in range(50)]
    assert [a["allowed"] for a in answers] == [i % 2 == 0 for i in range(50)]
    assert all("AC115" in a["status"]["message"] for a in answers[1::2])


def test_a_review_past_its_budget_is_denied_as_timed_out(tmp_path: Path) -> None:
    with running_webhook(tmp_path, budget_ms=300) as hook:
        hook.reviewer.lock.acquire()  # another admission holds the store for longer than the budget
        try:
            resp = _post(hook, review(example("planner")))
        finally:
            hook.reviewer.lock.release()
        assert resp["allowed"] is False
        assert "admission timed out" in resp["status"]["message"] and "AC840" in resp["status"]["message"]
        assert hook.reviewer.store.count() == 0


def test_certificate_rotation_is_picked_up_without_restart(tmp_path: Path) -> None:
    with running_webhook(tmp_path) as hook:
        with hook.client() as c:
            assert c.get("/healthz").status_code == 200
        new_ca = trustme.CA()
        hook.issue(new_ca)
        with hook.client(new_ca) as c:  # trusts only the new CA
            assert c.get("/healthz").status_code == 200
        with hook.client() as c, pytest.raises(httpx.ConnectError):
            c.get("/healthz")  # the old certificate is no longer served
        (tmp_path / "tls.key").write_text("not a key")  # a broken rotation keeps the last good pair
        with hook.client(new_ca) as c:
            assert c.get("/healthz").status_code == 200
        assert hook.reloader.reloads == 1


def test_internal_errors_deny(webhook: Webhook, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("solver exploded")

    monkeypatch.setattr("agentos_contracts.admit.admit", broken)
    resp = _post(webhook, review(example("planner"), dry_run=True))
    assert resp["allowed"] is False
    assert "error[AC841]" in resp["status"]["message"] and "solver exploded" in resp["status"]["message"]


def test_tls_is_required(webhook: Webhook) -> None:
    plain = webhook.url.replace("https://", "http://")
    with pytest.raises(httpx.HTTPError):
        httpx.get(plain + "/healthz", timeout=5)
    assert ssl  # the client context in conftest refuses unknown CAs: no test disables verification


def _workflow(namespace: str) -> dict[str, Any]:
    from agentos_contracts.documents.loader import load_text
    from agentos_contracts.k8s.resources import to_resource

    path = Path(__file__).resolve().parents[2] / "contracts" / "workflows" / "city-permit-assistant.yaml"
    return to_resource(load_text(str(path), path.read_text()).documents[0].data, namespace)


def test_workflow_is_admitted_with_the_contracts_admitted_in_its_namespace(tmp_path: Path) -> None:
    with running_webhook(tmp_path) as hook:
        wf = _workflow("city-planning")
        first = _post(hook, review(wf, dry_run=True))
        assert first["allowed"] is False  # its agents are not admitted yet
        assert "error[AC208] /spec/steps/0/agent: step `plan` names agent `planner`, which is not among the " \
               "contracts admitted in namespace `city-planning`" in first["status"]["message"]
        for name in ("planner", "browser-agent", "doc-rag-planner"):
            assert _post(hook, review(example(name)))["allowed"] is True
        assert _post(hook, review(wf))["allowed"] is True
        assert hook.reviewer.store.manifest_path("Workflow", "city-planning", wf["metadata"]["name"]).exists()
        other = _post(hook, review(_workflow("elsewhere"), dry_run=True))  # agents of another namespace do not count
        assert other["allowed"] is False


def test_names_that_cannot_name_a_file_never_reach_the_store(webhook: Webhook) -> None:
    obj = example("planner")
    obj["metadata"]["name"] = "../../escape"
    body = review(obj)
    assert _post(webhook, body)["allowed"] is False
    assert _post(webhook, review(obj, "DELETE"))["allowed"] is True  # nothing to free, nothing refused
    assert not list(webhook.reviewer.store.folder.parent.glob("escape*"))


def test_platform_objects_are_validated_only(webhook: Webhook) -> None:
    from agentos_contracts.documents.loader import load_text
    from agentos_contracts.k8s.resources import to_resource

    path = Path(__file__).resolve().parents[2] / "contracts" / "platforms" / "city-edge.yaml"
    platform = to_resource(load_text(str(path), path.read_text()).documents[0].data)
    assert _post(webhook, review(platform))["allowed"] is True
    assert not list(webhook.reviewer.store.folder.glob("Platform.*"))  # nothing held: the webhook binds against --platform
    platform["spec"]["nodes"][0]["cores"] = 0
    denied = _post(webhook, review(platform, "UPDATE"))
    assert denied["allowed"] is False and "/spec/nodes/0/cores" in denied["status"]["message"]
