"""The webhook's own Kubernetes objects: Deployment, PodDisruptionBudget, Service, webhook configuration.

Choices that matter when the webhook is down or slow: ``failurePolicy: Fail`` for our API
group only (nothing else is routed here, so a broken webhook never blocks Pods or
ConfigMaps), ``timeoutSeconds: 3`` with the webhook answering within its own 2.5 s budget,
``sideEffects: None`` (the reservation store is the webhook's private state and dry-run
reviews leave it untouched), and a ``namespaceSelector`` that skips ``kube-system`` and the
webhook's own namespace so the webhook can always be repaired. Two replicas and a
PodDisruptionBudget keep one serving through node drains. Both replicas keep
the reservation store on a shared ReadWriteMany volume; a file lock serialises admissions.
"""

from __future__ import annotations

from typing import Any

from agentos_contracts.documents.custom import GROUP, VERSION
from agentos_contracts.k8s.resources import KINDS

NAME = "agentos-webhook"
PORT = 8443
LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "agentos"}
CONFIG = "/etc/agentos"  # platform/ and policies/, one ConfigMap each (contracts name `policies/x.policy`)
TLS = "/etc/agentos-tls"  # tls.crt and tls.key, from the Secret (kubelet refreshes it: rotation without restart)
STATE = "/var/lib/agentos"
BUDGET_MS = 2500


def _meta(name: str, namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = dict(LABELS)
    return meta


def namespace_object(namespace: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(namespace)}


def service_account(namespace: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(NAME, namespace),
            "automountServiceAccountToken": False}


def deployment(namespace: str, image: str) -> dict[str, Any]:
    probe = {"scheme": "HTTPS", "port": "https"}
    container = {
        "name": "webhook",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["agentos"],
        "env": [{"name": "XDG_CACHE_HOME", "value": "/tmp/cache"}],
        "args": ["webhook", "serve", "--platform", f"{CONFIG}/platform/platform.yaml", "--policies", CONFIG,
                 "--tls-cert", f"{TLS}/tls.crt", "--tls-key", f"{TLS}/tls.key", "--listen", f"0.0.0.0:{PORT}",
                 "--reservations", STATE, "--budget-ms", str(BUDGET_MS)],
        "ports": [{"name": "https", "containerPort": PORT, "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {**probe, "path": "/readyz"}, "periodSeconds": 5, "timeoutSeconds": 2,
                           "failureThreshold": 2},
        "livenessProbe": {"httpGet": {**probe, "path": "/healthz"}, "initialDelaySeconds": 5, "periodSeconds": 10,
                          "timeoutSeconds": 2, "failureThreshold": 3},
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "runAsNonRoot": True, "runAsUser": 65532, "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [{"name": "platform", "mountPath": f"{CONFIG}/platform", "readOnly": True},
                         {"name": "policies", "mountPath": f"{CONFIG}/policies", "readOnly": True},
                         {"name": "tls", "mountPath": TLS, "readOnly": True},
                         {"name": "state", "mountPath": STATE},
                         {"name": "tmp", "mountPath": "/tmp"}],
    }
    pod = {
        "metadata": {"labels": dict(LABELS)},
        "spec": {
            "serviceAccountName": NAME,
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [container],
            "volumes": [{"name": "platform", "configMap": {"name": "agentos-platform"}},
                        {"name": "policies", "configMap": {"name": "agentos-policies"}},
                        {"name": "tls", "secret": {"secretName": f"{NAME}-tls"}},
                        {"name": "state", "persistentVolumeClaim": {"claimName": f"{NAME}-reservations"}},
                        {"name": "tmp", "emptyDir": {}}],
            "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
                                           "whenUnsatisfiable": "ScheduleAnyway",
                                           "labelSelector": {"matchLabels": dict(LABELS)}}],
        },
    }
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(NAME, namespace),
            "spec": {"replicas": 2, "selector": {"matchLabels": dict(LABELS)}, "template": pod}}


def reservations_claim(namespace: str) -> dict[str, Any]:
    """Both replicas share one reservation store (a file lock serialises their admissions)."""
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": _meta(f"{NAME}-reservations", namespace),
            "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}}}}


def disruption_budget(namespace: str) -> dict[str, Any]:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": _meta(NAME, namespace),
            "spec": {"minAvailable": 1, "selector": {"matchLabels": dict(LABELS)}}}


def service(namespace: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(NAME, namespace),
            "spec": {"selector": dict(LABELS),
                     "ports": [{"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}]}}


def webhook_configuration(namespace: str, ca_bundle: str | None = None) -> dict[str, Any]:
    rules = [{"apiGroups": [GROUP], "apiVersions": [VERSION], "operations": ["CREATE", "UPDATE", "DELETE"],
              "resources": [k.plural for k in KINDS], "scope": "*"}]
    hook = {
        "name": f"validate.{GROUP}",
        "admissionReviewVersions": ["v1"],
        "clientConfig": {"service": {"name": NAME, "namespace": namespace, "path": "/validate", "port": 443}},
        "rules": rules,
        "failurePolicy": "Fail",
        "matchPolicy": "Equivalent",
        "sideEffects": "None",
        "timeoutSeconds": 3,
        "namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                                                    "values": sorted({"kube-system", namespace})}]},
    }
    meta: dict[str, Any] = {"name": f"{NAME}.{GROUP}", "labels": dict(LABELS)}
    if ca_bundle is None:  # cert-manager's CA injector fills caBundle from the Certificate
        meta["annotations"] = {"cert-manager.io/inject-ca-from": f"{namespace}/{NAME}-tls"}
    else:
        hook["clientConfig"]["caBundle"] = ca_bundle
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
            "metadata": meta, "webhooks": [hook]}


def deployment_objects(namespace: str, image: str, ca_bundle: str | None = None) -> list[dict[str, Any]]:
    """Everything but the CRDs, in the order `kubectl apply` needs them (``ca_bundle``: base64 PEM)."""
    return [namespace_object(namespace), service_account(namespace), reservations_claim(namespace),
            deployment(namespace, image), disruption_budget(namespace), service(namespace),
            webhook_configuration(namespace, ca_bundle)]
