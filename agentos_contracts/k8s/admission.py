"""One admission review → a verdict: validate, then admit in dry run against the platform and the store.

CREATE and UPDATE of an AgentContract or Workflow run ``admit`` on the object (written to
a private temporary file in its custom-resource form, so every diagnostic carries the
``/spec/...`` pointer) with the reservation store as the manifests already admitted. A
Platform object is validated only: the webhook binds against its ``--platform`` file.
DELETE is allowed and frees the reservation. Dry-run requests decide and change nothing.

Admissions run one at a time (each sees the reservations of the one before), inside a
time budget: waiting for the lock and the solve both spend it, the MILP gets what is left
as its time limit, and a review that cannot finish in time is denied ("admission timed
out"). A review abandoned at its deadline never writes to the store afterwards.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentos_contracts.diagnostics import Diagnostic
from agentos_contracts.documents.custom import GROUP, document_pointer_to_resource
from agentos_contracts.k8s.reservations import ReservationStore
from agentos_contracts.k8s.webhook import Finding, ReviewRequest, Verdict

OUR_KINDS = ("AgentContract", "Workflow", "Platform")
SOLVER_MARGIN_S = 0.05  # left for building the response after the solver's time limit


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSettings:
    platform: str  # the Platform document admission binds against
    policies: str  # the folder policy paths in contracts are relative to
    reservations: str | None = None  # the store folder; None keeps nothing (every review sees an empty cluster)
    budget_ms: int = 2500  # per review, under the webhook configuration's timeoutSeconds: 3


class Ticket:
    """Who finishes a review first: the worker (commit) or the server's deadline (abandon)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = "open"

    def commit(self) -> bool:
        with self._lock:
            if self._state == "open":
                self._state = "committed"
            return self._state == "committed"

    def abandon(self) -> bool:
        with self._lock:
            if self._state == "open":
                self._state = "abandoned"
            return self._state == "abandoned"


def timed_out(budget_ms: int) -> Verdict:
    return Verdict(allowed=False, reason="admission timed out",
                   findings=(Finding(severity="error", code="AC840", message=f"admission timed out after {budget_ms} ms"),))


def internal_error(exc: BaseException) -> Verdict:
    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return Verdict(allowed=False, reason="internal error",
                   findings=(Finding(severity="error", code="AC841", message=f"internal error while reviewing: {reason}"),))


def subject(request: ReviewRequest) -> str:
    where = f" in namespace `{request.namespace}`" if request.namespace else ""
    return f"{request.kind} `{request.name}`{where}"


class Reviewer:
    """Decides reviews against one platform and one reservation store."""

    def __init__(self, settings: WebhookSettings) -> None:
        self.settings = settings
        self.store = ReservationStore(Path(settings.reservations)) if settings.reservations else None
        self.policy_root = os.path.realpath(settings.policies)
        self.lock = threading.Lock()

    def warm_up(self) -> None:
        """Import what admission needs (solver, policy parser) before the first review, not during it.

        A fresh process spends seconds importing PuLP, HiGHS and Lark; without this the first
        review after a start or a rollout could run out of its budget and be denied.
        """
        import agentos_contracts.admit  # noqa: F401
        import agentos_contracts.binding.milp  # noqa: F401
        import agentos_contracts.binding.resolve  # noqa: F401
        import agentos_contracts.policy.parser  # noqa: F401
        import agentos_contracts.validate.contract  # noqa: F401
        import agentos_contracts.validate.schema  # noqa: F401

    def decide(self, request: ReviewRequest, deadline: float, ticket: Ticket) -> Verdict:
        """The verdict; internal errors deny (fail closed)."""
        try:
            return self._decide(request, deadline, ticket)
        except Exception as exc:  # noqa: BLE001 - the one boundary: any bug denies, never admits
            import sys
            import traceback

            sys.stderr.write(f"agentos webhook: internal error reviewing {subject(request)} (uid {request.uid}):\n")
            traceback.print_exc(file=sys.stderr)  # the log gets the details; the response only the message
            return internal_error(exc)

    def _decide(self, request: ReviewRequest, deadline: float, ticket: Ticket) -> Verdict:
        if request.group != GROUP or request.kind not in OUR_KINDS:
            return Verdict(allowed=True)  # not ours: the configuration should not send it
        if request.operation == "CONNECT":
            return Verdict(allowed=True)
        if request.operation == "DELETE":
            return self._delete(request, deadline, ticket)
        assert request.object is not None
        if not self.lock.acquire(timeout=max(deadline - time.monotonic(), 0.0)):
            return timed_out(self.settings.budget_ms)
        try:
            if self.store is None:
                return self._review(request, deadline, ticket)
            with self.store.locked(deadline) as held:
                return self._review(request, deadline, ticket) if held else timed_out(self.settings.budget_ms)
        finally:
            self.lock.release()

    def _delete(self, request: ReviewRequest, deadline: float, ticket: Ticket) -> Verdict:
        if self.store is None or request.dry_run or request.kind == "Platform":
            return Verdict(allowed=True)
        if not self.lock.acquire(timeout=max(deadline - time.monotonic(), 0.0)):
            return timed_out(self.settings.budget_ms)
        try:
            with self.store.locked(deadline) as held:
                if not held:
                    return timed_out(self.settings.budget_ms)
                if ticket.commit():
                    self.store.remove(request.kind, request.namespace, request.name)
        finally:
            self.lock.release()
        return Verdict(allowed=True)

    def _review(self, request: ReviewRequest, deadline: float, ticket: Ticket) -> Verdict:
        obj, problems = self._prepared(request)
        if problems:
            return Verdict(allowed=False, reason=f"{len(problems)} error(s)", findings=tuple(problems))
        if self.store is not None and request.kind != "Platform":
            others = [n for n in self.store.namespaces_holding(request.kind, request.name)
                      if n != (request.namespace or "_cluster")]
            if others:
                return Verdict(allowed=False, reason="name taken", findings=(Finding(
                    severity="error", code="AC845", path="/metadata/name",
                    message=f"{request.kind} `{request.name}` is already admitted in namespace `{others[0]}`"),))
        with tempfile.TemporaryDirectory(prefix="agentos-review-") as tmp:
            path = os.path.join(tmp, "object.yaml")
            Path(path).write_text(json.dumps(obj), encoding="utf-8")
            if request.kind == "Platform":
                return self._validate_only(path)
            return self._admit(request, obj, path, deadline, ticket)

    def _prepared(self, request: ReviewRequest) -> tuple[dict[str, Any], list[Finding]]:
        """The object as admission reads it: namespace filled in, policy paths under the policy folder."""
        obj = copy.deepcopy(request.object) or {}
        obj.pop("status", None)
        meta = obj.get("metadata")
        if isinstance(meta, dict):
            meta = {k: v for k, v in meta.items() if k in ("name", "namespace")}
            if request.name:
                meta.setdefault("name", request.name)  # generated names are filled in on the request
            if request.namespace and request.kind != "Platform":
                meta.setdefault("namespace", request.namespace)
            obj["metadata"] = meta
        problems: list[Finding] = []
        spec = obj.get("spec")
        if isinstance(spec, dict):
            for pointer, holder, key in _path_lists(spec):
                holder[key] = self._rooted(holder[key], pointer, problems)
        return obj, problems

    def _rooted(self, paths: list[Any], pointer: str, problems: list[Finding]) -> list[Any]:
        """File paths resolved under the policy folder; any that would leave it is a finding."""
        out = []
        for i, p in enumerate(paths):
            if not isinstance(p, str):
                out.append(p)  # validation reports the wrong type
                continue
            full = os.path.realpath(os.path.join(self.policy_root, p))
            if os.path.isabs(p) or os.path.commonpath([full, self.policy_root]) != self.policy_root:
                problems.append(Finding(severity="error", code="AC843", path=f"{pointer}/{i}",
                                        message=f"file `{p}` is outside the webhook's policy folder"))
            out.append(full)
        return out

    def _validate_only(self, path: str) -> Verdict:
        from agentos_contracts.validate import validate_paths

        report = validate_paths([path], check_policies=True)
        findings = tuple(_finding(d, path) for d in report.diagnostics if d.severity.value != "note")
        errors = sum(1 for f in findings if f.severity == "error")
        return Verdict(allowed=not errors, reason=f"{errors} error(s)" if errors else "", findings=findings)

    def _admit(self, request: ReviewRequest, obj: dict[str, Any], path: str, deadline: float,
               ticket: Ticket) -> Verdict:
        from agentos_contracts.admit import AdmitOptions, admit

        paths = [path]
        if request.kind == "Workflow":
            missing, found = self._step_agents(obj, request.namespace)
            if missing:
                return Verdict(allowed=False, reason="step agents not admitted", findings=tuple(missing))
            paths += found
        limit = max(deadline - time.monotonic() - SOLVER_MARGIN_S, 0.01)
        existing = (str(self.store.folder),) if self.store is not None else ()
        keep = not request.dry_run and self.store is not None  # only a kept reservation needs its manifest
        options = AdmitOptions(time_limit=limit, existing=existing, existing_unsigned=True, seal=keep, key=None)
        result = admit(paths, self.settings.platform, options)
        if time.monotonic() > deadline:
            return timed_out(self.settings.budget_ms)
        findings = [_finding(d, path) for d in result.diagnostics
                    if d.severity.value != "note" and (d.file in (path, "<command line>") or d.is_error or d.code == "AC534")]
        mine = next((a for a in result.admitted if a.kind == request.kind and a.name == request.name), None)
        rejected = next((r for r in result.rejected if r.kind == request.kind and r.name == request.name), None)
        if rejected is not None:
            for r in rejected.reasons:
                findings.append(Finding(severity="error", code=r.code, message=r.message,
                                        path=document_pointer_to_resource(r.pointer) if r.pointer else ""))
            why = "verdict unknown" if rejected.verdict == "unknown" else "rejected"
            return Verdict(allowed=False, reason=why, findings=tuple(findings))
        errors = sum(1 for f in findings if f.severity == "error")
        if errors or mine is None or (keep and mine.envelope is None):
            return Verdict(allowed=False, reason=f"{errors} error(s)" if errors else "not decided",
                           findings=tuple(findings))
        if keep and mine.envelope is not None and self.store is not None:
            if not ticket.commit():
                return timed_out(self.settings.budget_ms)
            self.store.put(request.kind, request.namespace, request.name, mine.envelope, obj)
        return Verdict(allowed=True, findings=tuple(findings))


    def _step_agents(self, obj: dict[str, Any], namespace: str | None) -> tuple[list[Finding], list[str]]:
        """The admitted contracts a workflow's steps name (same namespace), and a finding per one missing."""
        steps = (obj.get("spec") or {}).get("steps")
        named = {i: s["agent"] for i, s in enumerate(steps) if isinstance(s, dict) and isinstance(s.get("agent"), str)} \
            if isinstance(steps, list) else {}
        have = self.store.objects("AgentContract", namespace, set(named.values())) if self.store is not None else []
        admitted = {p.name.split(".")[2] for p in have}
        where = f"namespace `{namespace}`" if namespace else "the cluster"
        missing = [Finding(severity="error", code="AC208", path=f"/spec/steps/{i}/agent",
                           message=f"step `{steps[i].get('id')}` names agent `{agent}`, which is not among the "
                                   f"contracts admitted in {where}")
                   for i, agent in sorted(named.items()) if agent not in admitted]
        return missing, [str(p) for p in have]


def _path_lists(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """Where a spec names files: `policies` (contract, step override, platform layers), `reservations`."""
    out: list[tuple[str, dict[str, Any], str]] = []

    def take(holder: Any, pointer: str, key: str) -> None:
        if isinstance(holder, dict) and isinstance(holder.get(key), list):
            out.append((f"{pointer}/{key}", holder, key))

    take(spec, "/spec", "policies")
    take(spec, "/spec", "reservations")
    take(spec.get("defaults"), "/spec/defaults", "policies")
    steps = spec.get("steps")
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        if isinstance(step, dict):
            take(step.get("contract"), f"/spec/steps/{i}/contract", "policies")
    tenants = spec.get("tenants")
    for i, tenant in enumerate(tenants if isinstance(tenants, list) else []):
        if not isinstance(tenant, dict):
            continue
        take(tenant.get("defaults"), f"/spec/tenants/{i}/defaults", "policies")
        roles = tenant.get("roles")
        for j, role in enumerate(roles if isinstance(roles, list) else []):
            if isinstance(role, dict):
                take(role.get("defaults"), f"/spec/tenants/{i}/roles/{j}/defaults", "policies")
    return out


def _finding(d: Diagnostic, path: str) -> Finding:
    """A diagnostic in the CLI's words; places outside the reviewed object keep their file and line."""
    message = d.message if d.file == path else f"{d.file}:{d.line}:{d.column}: {d.message}"
    return Finding(severity=d.severity.value, code=d.code, message=message, path=d.path if d.file == path else "")
