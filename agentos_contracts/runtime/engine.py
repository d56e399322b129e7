"""The Runtime: one sealed manifest, one audit log, every call decided, gated and recorded.

`authorize` decides and records; `call` and the `tool` decorator add the consent gate,
the call itself and its outcome. A decision that cannot be recorded is a deny: what
the audit log does not show did not happen.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import threading
import time
import uuid
from collections.abc import Mapping  # not typing's alias: its isinstance check is several times slower
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TypeVar

from agentos_contracts.model.manifest import Fallback
from agentos_contracts.runtime import telemetry as telemetry_
from agentos_contracts.runtime.audit import AuditLog, Durability
from agentos_contracts.runtime.authorize import Authorizer, Decision, StepCeiling, args_digest
from agentos_contracts.runtime.budgets import Budgets, BudgetError
from agentos_contracts.runtime.call_args import arguments as _arguments, snapshot as _snapshot
from agentos_contracts.runtime.call_args import usage_report as _usage_report
from agentos_contracts.runtime.chain import SCHEMA_VERSION, RecordError, format_time_ns
from agentos_contracts.runtime.consent import Approver, ConsentGate, ConsentOutcome, DEFAULT_TTL_NS
from agentos_contracts.runtime.manifest import LoadedManifest, ManifestRefused, load_manifest, read_public_keys
from agentos_contracts.runtime.model_calls import (
    authorize_model, guarded_model_call, held_to_memory, result_withheld,
)
from agentos_contracts.runtime.retention import log_fields, retained_view
from agentos_contracts.runtime import revocations as revocations_
from agentos_contracts.runtime.controls import Controls, PolicyDenied, refused as refusal
from agentos_contracts.runtime.lifecycle import KILL_SWITCH
from agentos_contracts.runtime.revocations import RevocationWatch
from agentos_contracts.runtime.tools import ToolSchemaError, build_validators
from agentos_contracts.runtime.watch import Watch
from agentos_contracts.seal import keys as keys_
from agentos_contracts.seal.canonical import Canonical, precanonical

F = TypeVar("F", bound=Callable[..., Any])

# the record type of each decision; schema, budget and internal denials are constraint failures
_DENY_TYPE = {"ceiling": "tool.denied", "policy": "tool.denied"}
_current_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar("agentos_context", default={})


def build_authorizer(loaded: LoadedManifest, tools: Sequence[Mapping[str, Any]] = (),
                     clock: Callable[[], int] = time.time_ns) -> Authorizer:
    """The decision path for a manifest (fresh budgets); raises ManifestRefused if it cannot be enforced."""
    m = loaded.manifest
    try:
        budgets = Budgets.from_manifest(m.budgets, clock)
        # descriptors sealed in the manifest first; any offered from outside must match the same pins
        sealed = [t.descriptor for t in m.resolved.tools if t.descriptor is not None]
        validators = build_validators({t.name: t.descriptor_digest for t in m.resolved.tools}, [*sealed, *tools])
    except (BudgetError, ToolSchemaError) as exc:
        raise ManifestRefused(loaded.path, [("AC703", str(exc))]) from None
    steps = {s.id: StepCeiling(s.capabilities, s.consent_for) for s in m.workflow.steps} if m.workflow else {}
    return Authorizer(capabilities=m.capabilities, consent_for=m.consent_for, policy=loaded.policy,
                      tools=validators, budgets=budgets, steps=steps, unchecked=m.unchecked_actions)


def decision_type(decision: Decision) -> str:
    if decision.effect == "allow":
        return "tool.allowed"
    if decision.effect == "consent":
        return "consent.required"
    return _DENY_TYPE.get(decision.stage, "constraint.failed")


class Runtime(Controls):
    """Enforces one manifest. Build it with :meth:`load`; close it (or use ``with``) to seal the log."""

    def __init__(self, loaded: LoadedManifest, log: AuditLog, *, approver: Approver | None = None,
                 clock: Callable[[], int] = time.time_ns, tools: Sequence[Mapping[str, Any]] = (),
                 trace_id: str | None = None, retain_args: bool = False,
                 telemetry: telemetry_.Telemetry | None = None, consent_ttl_ns: int = DEFAULT_TTL_NS,
                 authorizer: Authorizer | None = None, revocations: RevocationWatch | None = None,
                 pause_wait_s: float = 30.0) -> None:
        m = loaded.manifest
        self.loaded = loaded
        self.manifest = m
        self.digest = loaded.digest
        self.log = log
        self.retain_args = retain_args
        self.telemetry = telemetry or telemetry_.Telemetry()
        self.trace = self.telemetry.start_trace(f"invoke_agent {m.name}", {
            "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": m.name,
            "agentos.manifest.digest": loaded.digest, "agentos.tenant": m.tenant}, trace_id)
        self.trace_id = self.trace.trace_id  # the OTel trace id when tracing is on
        self._clock = clock
        self.authorizer = authorizer or build_authorizer(loaded, tools, clock)
        self.budgets = self.authorizer.budgets
        self.gate = ConsentGate(approver, clock=clock, ttl_ns=consent_ttl_ns)
        self.active_fallbacks: list[Fallback] = []
        # MCP tools sealed from the catalog are `extension`s in GenAI terms; plain functions are `function`s
        self._tool_types = {t.name: "extension" for t in m.resolved.tools}
        self._lock = threading.RLock()
        self._finished = False
        self.watch = Watch(self, revocations, pause_wait_s=pause_wait_s)  # monitors, breakers, canary, lifecycle
        self.record("agent.started", detail={"kind": m.kind, "name": m.name, "signed_by": list(loaded.signed_by)})

    @classmethod
    def load(cls, manifest_path: str | Path, public_key_path: str | Path | Sequence[str | Path] | None = None,
             audit: str | Path | None = None, checkpoint_key: Any = None, approver: Approver | None = None,
             allow_unsigned: bool = False, *, durability: Durability = "durable", batch_size: int = 256,
             tools: Sequence[Mapping[str, Any]] = (), clock: Callable[[], int] = time.time_ns,
             trace_id: str | None = None, retain_args: bool = False, now: datetime | None = None,
             min_sequence: int | None = None, telemetry: telemetry_.Telemetry | None = None,
             revocations: str | Path | None = None, pause_wait_s: float = 30.0) -> Runtime:
        """Verify the manifest (refusing unsigned ones unless ``allow_unsigned``) and open the audit log.

        ``checkpoint_key`` (a private key or a PEM path) signs audit checkpoints; ``tools`` are
        MCP descriptors, each used only if its digest is the one the manifest pins. ``revocations``
        (default: ``$AGENTOS_REVOCATIONS``) is the signed revocation list, checked now and on every call.
        """
        if audit is None:
            raise ValueError("Runtime.load needs audit=PATH: every decision is recorded")
        loaded = load_manifest(manifest_path, read_public_keys(public_key_path), allow_unsigned=allow_unsigned,
                               now=now, min_sequence=min_sequence)
        authorizer = build_authorizer(loaded, tools, clock)  # refuse what cannot be enforced before opening anything
        revoked = revocations_.watch_for(loaded, revocations, read_public_keys(public_key_path))
        key = keys_.read_private_key(checkpoint_key) if isinstance(checkpoint_key, (str, Path)) else checkpoint_key
        log = AuditLog.open(audit, durability=durability, batch_size=batch_size, checkpoint_key=key, clock=clock)
        try:
            return cls(loaded, log, approver=approver, clock=clock, trace_id=trace_id, retain_args=retain_args,
                       telemetry=telemetry, authorizer=authorizer, revocations=revoked, pause_wait_s=pause_wait_s)
        except BaseException:
            log.close()
            raise

    # --- records ---------------------------------------------------------------------------------

    def record(self, type_: str, *, agent: str | None = None, retain: Mapping[str, Any] | None = None,
               at: int | None = None, **fields: Any) -> None:
        """Append one record with this run's header (trace, agent, tenant, manifest digest)."""
        header = {"schema_version": SCHEMA_VERSION, "type": type_, "trace_id": self.trace_id,
                  "span_id": self.trace.span_id, "agent": agent or self.manifest.name,
                  "tenant": self.manifest.tenant, "manifest": self.digest,
                  "occurred_at": format_time_ns(at) if at is not None else None}
        with self._lock:
            try:
                self.log.append({**header, **fields},
                                retain_args=self._retained(retain, fields.get("step")) if self.retain_args else None)
            except (RecordError, RecursionError):  # a context nested too deep must not hide the decision
                if "context" not in fields:
                    raise
                rest = {k: v for k, v in fields.items() if k != "context"}
                self.log.append({**header, **rest, "detail": {"context": "not recordable as canonical JSON"}},
                                retain_args=self._retained(retain, fields.get("step")) if self.retain_args else None)

    def _retained(self, args: Any, step: str | None) -> Any:
        """Argument values as kept: the sealed log_fields (the step's in a workflow) as values, others as digests."""
        return retained_view(log_fields(self.manifest, step), args)

    # --- deciding --------------------------------------------------------------------------------

    @contextmanager
    def context(self, /, **values: Any) -> Iterator[None]:
        """Attributes every decision inside the block sees (per thread and task); any key, even `self`."""
        token = _current_context.set({**_current_context.get(), **values})
        try:
            yield
        finally:
            _current_context.reset(token)

    def authorize(self, action: str, context: Mapping[str, Any] | None = None, args: Mapping[str, Any] | None = None,
                  *, tokens: Any = 0, cost: Any = 0, step: str | None = None) -> Decision:
        """Decide and record one request; an allow counts one call against the budgets.

        ``step`` (a workflow step id) holds the request to that step's own ceiling first.
        """
        agent = self._step_agent(step)
        if action == KILL_SWITCH or self.watch.lifecycle.state != "running" or self.watch.revocations is not None:
            stopped = self._lifecycle_decision(action, context, agent, step)
            if stopped is not None:
                return stopped
        with self.trace.span(f"authorize {action}", {"gen_ai.operation.name": "authorize", "gen_ai.tool.name": action,
                                                     "agentos.manifest.digest": self.digest,
                                                     "gen_ai.agent.name": agent or self.manifest.name}) as span:
            decision = self._authorize(action, context, args, tokens=tokens, cost=cost, step=step, agent=agent)
            _set(span, decision)
        return decision

    def _step_agent(self, step: str | None) -> str | None:
        plan = self.manifest.workflow
        return next((s.agent for s in plan.steps if s.id == step), None) if plan and step is not None else None

    def _authorize(self, action: str, context: Mapping[str, Any] | None, args: Mapping[str, Any] | None, *,
                   tokens: Any = 0, cost: Any = 0, step: str | None = None, agent: str | None = None,
                   consent_for: Sequence[str] = ()) -> Decision:
        ctx: Any = _request_context(context)
        embedded = ctx.pop("args", None) if isinstance(ctx, dict) else None  # arguments are never context
        call_args: Any = args if args is not None else (embedded if embedded is not None else {})
        with self._lock:
            now = self._clock()  # one instant for the decision, its record and its charge: replay sees the same
            decision = self.authorizer.decide(action, ctx, call_args, step=step, consent_for=consent_for,
                                              tokens=tokens, cost=cost, at=now)
            recorded, unrecordable = _recordable(ctx)
            if unrecordable:  # a decision is recorded with its context, or the call is refused: never half
                decision = Decision(effect="deny", rules=(), stage="error", action=str(action),
                                    args_digest=decision.args_digest,
                                    reason=f"denied: the request context cannot be recorded ({unrecordable})")
                ctx = None
            usage = {k: str(v) for k, v in (("tokens", tokens), ("cost", cost)) if v}
            try:
                self.record(decision_type(decision), agent=agent, action=str(action), decision=decision.effect,
                            stage=decision.stage, rules=list(decision.rules), reason=decision.reason,
                            args_digest=decision.args_digest or None,
                            context=recorded, step=step, usage=usage or None,
                            detail={"context": f"cannot be recorded: {unrecordable}"} if unrecordable else None,
                            retain=call_args if isinstance(call_args, Mapping) else None, at=now)
            except Exception as exc:  # unrecorded means not allowed
                return Decision(effect="deny", rules=(), reason=f"audit log could not record the decision "
                                f"({type(exc).__name__})", stage="error", action=str(action),
                                args_digest=decision.args_digest)
            if decision.effect == "allow":
                self.budgets.charge(calls=1, at=now)
        if self.telemetry.metrics.active:
            self.telemetry.metrics.decision(decision.effect, {"gen_ai.tool.name": str(action)})
        return decision

    def ask_consent(self, decision: Decision, args: Mapping[str, Any], *, step: str | None = None,
                    agent: str | None = None, timeout_s: float | None = None,
                    escalate_to: str | None = None) -> Decision:
        """The consent gate for a `consent` decision: an allow (counted) or a deny, both recorded."""
        misuse = _consent_misuse(decision, args)
        if misuse is not None:  # a person may only turn a `consent` into an allow, for the arguments decided
            self.record("consent.denied", agent=agent, action=str(decision.action), step=step, decision="deny",
                        reason=misuse, rules=list(decision.rules))
            return Decision(effect="deny", rules=decision.rules, reason=misuse, stage="consent",
                            action=decision.action, args_digest=decision.args_digest)
        # the request stays valid for as long as the approver may take (both rounds when it escalates)
        ttl = None if timeout_s is None else int(timeout_s * (2 if escalate_to else 1) * 1e9) + 1_000_000_000
        req = self.gate.request(action=decision.action, args=args, args_digest=decision.args_digest,
                                manifest=self.digest, rules=decision.rules, reason=decision.reason,
                                agent=agent or self.manifest.name, step=step,
                                ttl_ns=None if ttl is None else max(ttl, self.gate.ttl_ns))
        self.record("consent.requested", agent=agent, action=req.action, call_digest=req.call_digest,
                    args_digest=req.args_digest, rules=list(req.rules), step=step,
                    detail={"request": req.request_id, "expires_at_ns": str(req.expires_at_ns)})
        outcome = self.gate.decide(req, timeout_s=timeout_s, escalate_to=escalate_to)
        if outcome.escalated_to:
            self.record("consent.escalated", agent=agent, action=req.action, call_digest=req.call_digest,
                        step=step, approver=outcome.escalated_to)
        with self._lock:
            now = self._clock()
            if outcome.granted:  # other calls may have spent the budget while the approver thought
                over = self._budget_after_consent(now)
                if over is not None:
                    outcome = ConsentOutcome(granted=False, reason=f"approved, but {over}", approver=outcome.approver,
                                             escalated_to=outcome.escalated_to)
            kind = "consent.granted" if outcome.granted else "consent.denied"
            self.record(kind, agent=agent, action=req.action, call_digest=req.call_digest, step=step,
                        decision="allow" if outcome.granted else "deny", reason=outcome.reason,
                        approver=outcome.approver, rules=list(req.rules), at=now)
            if outcome.granted:
                self.budgets.charge(calls=1, at=now)
        effect = "allow" if outcome.granted else "deny"
        return Decision(effect=effect, rules=decision.rules, reason=outcome.reason if not outcome.granted
                        else f"approved by {outcome.approver}", stage="consent", action=decision.action,
                        args_digest=decision.args_digest)

    def _budget_after_consent(self, now: int) -> str | None:
        try:
            return self.budgets.check(calls=1, at=now)
        except Exception as exc:  # fail closed
            return f"budget check failed ({type(exc).__name__})"

    # --- guarded calls ---------------------------------------------------------------------------

    def call(self, action: str, args: Mapping[str, Any] | None, fn: Callable[..., Any], *,
             context: Mapping[str, Any] | None = None, tokens: Any = 0, cost: Any = 0,
             usage: Callable[[Any], Mapping[str, Any]] | None = None, step: str | None = None,
             agent: str | None = None, consent_for: Sequence[str] = (), timeout_s: float | None = None,
             escalate_to: str | None = None) -> Any:
        """Authorize, pass the consent gate, run ``fn(**args)``, record the outcome; PolicyDenied if refused."""
        call_args = _snapshot(dict(args or {}))  # what is decided, approved and run is one private copy
        return self._guarded(action, call_args, lambda: fn(**call_args), context=context, tokens=tokens, cost=cost,
                             usage=usage, step=step, agent=agent, consent_for=consent_for, timeout_s=timeout_s,
                             escalate_to=escalate_to, force_memory=True)

    def call_model(self, model: str, input_tokens: int, max_output_tokens: int,
                   fn: Callable[[], Any] | None = None, *, step: str | None = None, agent: str | None = None) -> Any:
        """Hold one model call to the sealed modelPolicy before it runs; recorded like tool calls.

        Raises PolicyDenied (``fn`` never runs) when the input exceeds ``max_context_tokens``,
        the call asks more than ``max_output_tokens``, or names a model the manifest does not
        bind; otherwise runs ``fn()`` (if given) as a timed model unit and returns its result.
        """
        return guarded_model_call(self, model, input_tokens, max_output_tokens, fn, step=step, agent=agent)

    def authorize_model(self, model: str | None, input_tokens: int, max_output_tokens: int, *,
                        step: str | None = None, agent: str | None = None) -> Decision:
        """Decide (and record) one model call against the sealed modelPolicy; ``call_model`` also runs it."""
        return authorize_model(self, model, input_tokens, max_output_tokens, step=step, agent=agent)

    def tool(self, name: str, *, context: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None,
             usage: Callable[[Any], Mapping[str, Any]] | None = None) -> Callable[[F], F]:
        """Decorate a function as the tool ``name``: its bound arguments are the call's ``args``."""

        def wrap(fn: F) -> F:
            signature = inspect.signature(fn)

            @functools.wraps(fn)
            def guarded(*a: Any, **kw: Any) -> Any:
                bound = signature.bind(*a, **kw)
                bound.apply_defaults()
                frozen = _snapshot(dict(bound.arguments))
                if isinstance(frozen, dict):  # run on the copy that was decided, never the caller's live objects
                    bound = inspect.BoundArguments(signature, frozen)  # type: ignore[arg-type]
                ctx = context() if callable(context) else context
                args = _arguments(bound) if isinstance(frozen, dict) else frozen
                return self._guarded(name, args, lambda: fn(*bound.args, **bound.kwargs),
                                     context=ctx, usage=usage)

            return guarded  # type: ignore[return-value]

        return wrap

    def _guarded(self, action: str, args: dict[str, Any], run: Callable[[], Any], *, context: Mapping[str, Any] | None,
                 usage: Callable[[Any], Mapping[str, Any]] | None, tokens: Any = 0, cost: Any = 0,
                 step: str | None = None, agent: str | None = None, consent_for: Sequence[str] = (),
                 timeout_s: float | None = None, escalate_to: str | None = None, force_memory: bool = False) -> Any:
        base = {"agentos.manifest.digest": self.digest, "gen_ai.agent.name": agent or self.manifest.name,
                "gen_ai.tool.call.id": uuid.uuid4().hex, "gen_ai.tool.type": self._tool_types.get(action, "function")}
        with self.telemetry.tool_span(action, base, self.trace) as span:
            if action == KILL_SWITCH:
                self.pause(str(args.get("reason", "")) if isinstance(args, dict) else "")
                return None
            problem = self.watch.check(wait=True) or self.watch.allow(action)
            if problem is not None:
                self.watch.refuse(action, problem, agent=agent, step=step)
                telemetry_.mark_failed(span, "PolicyDenied", problem)
                raise refusal(action, problem)
            decision = held_to_memory(self, action, args, force=force_memory, step=step, agent=agent) or \
                self._authorize(action, context, args, tokens=tokens, cost=cost, step=step, agent=agent,
                                consent_for=consent_for)
            if decision.effect == "consent":
                decision = self.ask_consent(decision, args, step=step, agent=agent, timeout_s=timeout_s,
                                            escalate_to=escalate_to)
            _set(span, decision)
            if decision.effect != "allow":
                self.watch.release(action)
                telemetry_.mark_failed(span, "PolicyDenied", decision.reason)
                raise PolicyDenied(decision)

            def failed(exc: Exception) -> None:  # each failed attempt
                self.record("tool.failed", agent=agent, action=action, step=step, args_digest=decision.args_digest,
                            outcome="error", error=type(exc).__name__)

            def again() -> bool:  # a retry is a new decision: budgets count it; one needing consent is not retried
                return self._authorize(action, context, args, tokens=tokens, cost=cost, step=step, agent=agent,
                                       consent_for=consent_for).effect == "allow"

            try:
                result = self.watch.run(action, run, again, failed)
            except Exception as exc:  # the call failed for good (after any retries)
                span.record_exception(exc)
                telemetry_.mark_failed(span, type(exc).__qualname__, str(exc))
                raise
            withheld = result_withheld(self, action, result, decision, step=step, agent=agent)
            if withheld is not None:
                telemetry_.mark_failed(span, "ToolResultRejected", withheld.reason)
                raise withheld
            spent, refused = _usage_report(usage, result)
            with self._lock:
                now = self._clock()
                self.budgets.charge(**spent, at=now)
                self.record("tool.completed", agent=agent, action=action, step=step,
                            args_digest=decision.args_digest, outcome="ok", error=refused,
                            usage={k: str(v) for k, v in spent.items()} or None, at=now)
            return result

    # --- fallbacks and lifecycle -----------------------------------------------------------------

    def report_signal(self, name: str) -> list[Fallback]:
        """Activate the manifest's fallbacks whose ``when`` is ``name`` (each once); audited."""
        with self._lock:
            fresh = [f for f in self.manifest.fallbacks if f.when == name and f not in self.active_fallbacks]
            for fallback in fresh:
                self.active_fallbacks.append(fallback)
                self.record("fallback.activated", signal=name, fallback=fallback.substitute)
        return fresh

    def substitutions(self) -> dict[str, Any]:
        """The active fallbacks' substitutes merged, later activations winning."""
        out: dict[str, Any] = {}
        for fallback in self.active_fallbacks:
            out.update(fallback.substitute)
        return out

    def finish(self, outcome: str = "ok", **detail: Any) -> None:
        """Record how the run ended (once)."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
            self.watch.move("completed", outcome)
            self.record("agent.completed" if outcome == "ok" else "agent.failed", outcome=outcome,
                        usage=self.budgets.usage(), detail=detail or None)

    def close(self) -> None:
        try:
            self.finish()
        finally:
            self.trace.end()
            self.log.close()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            self.finish("ok" if exc_type is None else "failed")
        finally:
            self.trace.end()
            self.log.close()


def _recordable(ctx: Any) -> tuple[Canonical | None, str]:
    """A mapping context's canonical form for its record, or why it has none.

    The form is computed once, here, before the decision is recorded (a context that
    cannot be recorded refuses the call), and the record carries it as is.
    """
    if not isinstance(ctx, dict):
        return None, ""  # not an object: the policy denies it, and there is nothing to record
    try:
        return precanonical(ctx), ""
    except RecursionError:
        return None, "nested too deeply"
    except (ValueError, TypeError) as exc:  # CanonicalError is a ValueError
        return None, str(exc) or type(exc).__name__


def _request_context(context: Any) -> Any:
    """The block's context under the caller's; anything but a mapping is passed on to be denied."""
    if context is None:
        return dict(_current_context.get())
    if isinstance(context, Mapping):
        return {**_current_context.get(), **context}
    return context


def _consent_misuse(decision: Decision, args: Any) -> str | None:
    if decision.effect != "consent":
        return f"consent cannot overturn a `{decision.effect}` decision"
    try:
        same = isinstance(args, Mapping) and args_digest(args) == decision.args_digest
    except Exception:
        same = False
    return None if same else "consent asked for other arguments than those decided"


def _set(span: Any, decision: Decision) -> None:
    for key, value in telemetry_.decision_attributes(decision=decision.effect, rules=decision.rules,
                                                     args_digest=decision.args_digest, stage=decision.stage,
                                                     reason=decision.reason).items():
        span.set_attribute(key, value)
