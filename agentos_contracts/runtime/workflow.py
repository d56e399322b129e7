"""Running an admitted workflow: DAG order, journaled steps, saga compensation, HITL gates.

Each step is a Python callable ``run(inputs, ctx) -> outputs`` (JSON object) found on a
user object by step id; it sees the workflow inputs plus everything its upstream steps
produced. The journal makes a completed step never run again for the same inputs, even
after a crash; when a step fails, the completed steps are compensated in reverse order
of completion. Every tool call a step makes through ``ctx.call`` is decided, gated and
recorded by the runtime; HITL steps wait for the approver with the step's timeout and
escalation target.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from agentos_contracts.model.manifest import WorkflowPlan, WorkflowStep
from agentos_contracts.runtime.authorize import Decision
from agentos_contracts.runtime.engine import PolicyDenied, Runtime
from agentos_contracts.runtime.journal import Journal
from agentos_contracts.seal.canonical import CanonicalError, canonical_digest

RunFn = Callable[[dict[str, Any], "StepContext"], Mapping[str, Any] | None]
CompensateFn = Callable[[dict[str, Any], dict[str, Any], "StepContext"], Any]


class StepsError(Exception):
    """The step implementations cannot be found or do not fit the workflow."""


@dataclass(frozen=True, slots=True)
class StepImpl:
    """A step's implementation and, optionally, how to undo it."""

    run: RunFn
    compensate: CompensateFn | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StepResult:
    id: str
    status: str  # completed | journaled | failed | compensated | compensation_failed | not_run
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "error": self.error}


@dataclass(frozen=True, slots=True, kw_only=True)
class RunReport:
    ok: bool
    workflow: str
    steps: tuple[StepResult, ...]
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "workflow": self.workflow, "steps": [s.to_json() for s in self.steps],
                "outputs": self.outputs, "error": self.error}


class StepContext:
    """What a step implementation may use: guarded tool calls, signals, its idempotency key."""

    def __init__(self, runtime: Runtime, step: WorkflowStep, idempotency_key: str, attempt: int) -> None:
        self.runtime = runtime
        self.step = step
        self.idempotency_key = idempotency_key
        self.attempt = attempt

    def call(self, action: str, args: Mapping[str, Any] | None, fn: Callable[..., Any], **kw: Any) -> Any:
        """A tool call under the runtime, as this step's agent: the step's own ceiling and consent list
        (from the manifest, by step id) apply before the workflow's; HITL timeout and escalation too."""
        return self.runtime.call(action, args, fn, step=self.step.id, agent=self.step.agent,
                                 timeout_s=_seconds(self.step.timeout_s), escalate_to=self.step.escalate_to, **kw)

    def report_signal(self, name: str) -> list[Any]:
        return self.runtime.report_signal(name)

    def substitutions(self) -> dict[str, Any]:
        return self.runtime.substitutions()


def load_steps(ref: str) -> Any:
    """``module:object`` or ``path/to/file.py:object`` → the object holding the step callables."""
    module_name, sep, attr = ref.rpartition(":")
    if not sep or not module_name or not attr:
        raise StepsError(f"`{ref}` is not of the form module:object")
    try:
        if module_name.endswith(".py") or "/" in module_name or os.sep in module_name:
            module = _module_from_file(Path(module_name))
        else:
            module = importlib.import_module(module_name)
    except Exception as exc:  # a module that fails to import is the user's to fix: say how it failed
        raise StepsError(f"cannot import `{module_name}`: {type(exc).__name__}: {exc}") from None
    target: Any = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise StepsError(f"`{module_name}` has no `{attr}`")
        target = getattr(target, part)
    return target


def _module_from_file(path: Path) -> Any:
    if not path.is_file():
        raise ImportError(f"no file `{path}`")
    name = f"agentos_steps_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"`{path}` is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def order_steps(plan: WorkflowPlan) -> list[WorkflowStep]:
    """Topological order, ties in manifest order (Kahn); a cycle or unknown dependency is an error."""
    by_id = {s.id: s for s in plan.steps}
    for s in plan.steps:
        unknown = [d for d in s.depends_on if d not in by_id]
        if unknown:
            raise StepsError(f"step `{s.id}` depends on unknown step(s) {', '.join(unknown)}")
    done: list[WorkflowStep] = []
    placed: set[str] = set()
    while len(done) < len(plan.steps):
        ready = [s for s in plan.steps if s.id not in placed and all(d in placed for d in s.depends_on)]
        if not ready:
            raise StepsError("workflow steps have a dependency cycle")
        done.append(ready[0])
        placed.add(ready[0].id)
    return done


def resolve_steps(obj: Any, plan: WorkflowPlan) -> dict[str, StepImpl | None]:
    """Each step's implementation (None allowed only for HITL steps, which the runtime then runs)."""
    out: dict[str, StepImpl | None] = {}
    missing: list[str] = []
    for step in plan.steps:
        found = _lookup(obj, step.id)
        impl = _as_impl(found, step.id)
        if impl is None and step.agent is not None:
            missing.append(step.id)
        out[step.id] = impl
    if missing:
        raise StepsError(f"no implementation for step(s) {', '.join(missing)}")
    return out


def _lookup(obj: Any, step_id: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(step_id)
    return getattr(obj, step_id, None) or getattr(obj, step_id.replace("-", "_"), None)


def _as_impl(found: Any, step_id: str) -> StepImpl | None:
    if found is None or isinstance(found, StepImpl):
        return found
    if isinstance(found, Mapping):
        run, comp = found.get("run"), found.get("compensate")
        if callable(run) and (comp is None or callable(comp)):
            return StepImpl(run, comp)
    elif callable(found):
        return StepImpl(found)
    raise StepsError(f"implementation of step `{step_id}` is not callable")


def run_workflow(rt: Runtime, steps: Any, inputs: Mapping[str, Any], journal: Journal) -> RunReport:
    """Run (or resume) the manifest's workflow; the report says what happened to each step.
    The run is one timed job: its response time is held to the workflow's sealed ``deadline_ms``."""
    plan = rt.manifest.workflow
    if plan is None:
        raise StepsError(f"manifest `{rt.manifest.name}` is a {rt.manifest.kind}, not a workflow")
    deadline = float(plan.deadline_ms) if plan.deadline_ms is not None else None
    with rt.watch.job("workflow", deadline):
        return _run_plan(rt, plan, steps, inputs, journal)


def _run_plan(rt: Runtime, plan: WorkflowPlan, steps: Any, inputs: Mapping[str, Any], journal: Journal) -> RunReport:
    order = order_steps(plan)
    impls = resolve_steps(steps, plan)
    name = rt.manifest.name
    produced: dict[str, dict[str, Any]] = {}
    done: list[tuple[WorkflowStep, dict[str, Any], str, StepContext]] = []
    results: dict[str, StepResult] = {}
    for step in order:
        step_inputs = _inputs_for(step, plan, dict(inputs), produced)
        try:
            digest = canonical_digest(step_inputs)
        except CanonicalError as exc:
            return _fail(rt, journal, step, None, f"inputs have no canonical form: {exc}",
                         _Progress(done, produced, results, impls, order))
        entry = journal.get(name, step.id, digest)
        if entry is not None and entry.status == "completed":
            produced[step.id] = entry.outputs or {}
            ctx = StepContext(rt, step, f"{name}/{step.id}/{digest}", entry.attempts)
            done.append((step, step_inputs, digest, ctx))
            results[step.id] = StepResult(id=step.id, status="journaled")
            rt.record("step.skipped", agent=step.agent, step=step.id, input_digest=digest, outcome="journaled")
            continue
        attempt = journal.start(name, step.id, digest)
        ctx = StepContext(rt, step, f"{name}/{step.id}/{digest}", attempt)
        rt.record("step.started", agent=step.agent, step=step.id, input_digest=digest, detail={"attempt": attempt})
        try:
            with rt.telemetry.agent_span(step.agent or "hitl", {"agentos.step": step.id,
                                                                 "agentos.manifest.digest": rt.digest}, rt.trace):
                outputs = _run_step(rt, step, impls[step.id], step_inputs, ctx)
        except Exception as exc:
            reason = exc.reason if isinstance(exc, PolicyDenied) else f"{type(exc).__name__}: {exc}"
            return _fail(rt, journal, step, digest, reason, _Progress(done, produced, results, impls, order))
        journal.complete(name, step.id, digest, outputs)
        produced[step.id] = outputs
        done.append((step, step_inputs, digest, ctx))
        results[step.id] = StepResult(id=step.id, status="completed")
        rt.record("step.completed", agent=step.agent, step=step.id, input_digest=digest, outcome="ok")
    final: dict[str, Any] = {}
    for step in order:
        final.update(produced.get(step.id, {}))
    rt.finish("ok")
    return RunReport(ok=True, workflow=name, steps=tuple(results[s.id] for s in order), outputs=final)


def _inputs_for(step: WorkflowStep, plan: WorkflowPlan, inputs: dict[str, Any],
                produced: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """Workflow inputs plus the outputs of every upstream step, in upstream order."""
    by_id = {s.id: s for s in plan.steps}
    seen: list[str] = []

    def visit(sid: str) -> None:
        for dep in by_id[sid].depends_on:
            if dep not in seen:
                visit(dep)
                seen.append(dep)

    visit(step.id)
    out = dict(inputs)
    for dep in seen:
        out.update(produced.get(dep, {}))
    return out


def _run_step(rt: Runtime, step: WorkflowStep, impl: StepImpl | None, inputs: dict[str, Any],
              ctx: StepContext) -> dict[str, Any]:
    if impl is None:  # a HITL step with no code: the runtime asks for each action it approves
        for action in step.consent_for or ("workflow.approve",):
            ask = Decision(effect="consent", rules=(f"step:{step.id}",), reason=f"HITL approval of `{action}`",
                           stage="policy", action=action, args_digest=canonical_digest(inputs))
            answer = rt.ask_consent(ask, inputs, step=step.id, agent=step.agent, timeout_s=_seconds(step.timeout_s),
                                    escalate_to=step.escalate_to)
            if answer.effect != "allow":
                raise PolicyDenied(answer)
        return {}
    result = impl.run(inputs, ctx)
    outputs = {} if result is None else result
    if not isinstance(outputs, Mapping):
        raise StepsError(f"step `{step.id}` returned {type(outputs).__name__}, not a JSON object")
    outputs = dict(outputs)
    canonical_digest(outputs)  # outputs are journaled: they must be JSON
    return outputs


@dataclass(frozen=True, slots=True)
class _Progress:
    done: list[tuple[WorkflowStep, dict[str, Any], str, StepContext]]
    produced: dict[str, dict[str, Any]]
    results: dict[str, StepResult]
    impls: dict[str, StepImpl | None]
    order: list[WorkflowStep]


def _fail(rt: Runtime, journal: Journal, step: WorkflowStep, digest: str | None, reason: str,
          progress: _Progress) -> RunReport:
    """Record the failure, then compensate the completed steps, last completed first."""
    name, results = rt.manifest.name, progress.results
    if digest is not None:
        journal.fail(name, step.id, digest, reason)
    rt.record("step.failed", agent=step.agent, step=step.id, input_digest=digest, outcome="error", reason=reason)
    results[step.id] = StepResult(id=step.id, status="failed", error=reason)
    all_undone = True
    for done_step, step_inputs, done_digest, ctx in reversed(progress.done):
        impl = progress.impls.get(done_step.id)
        if impl is None or impl.compensate is None:
            continue
        try:
            impl.compensate(step_inputs, progress.produced.get(done_step.id, {}), ctx)
        except Exception as exc:
            all_undone = False
            rt.record("step.compensation_failed", agent=done_step.agent, step=done_step.id,
                      input_digest=done_digest, outcome="error", error=type(exc).__name__)
            results[done_step.id] = StepResult(id=done_step.id, status="compensation_failed",
                                               error=f"{type(exc).__name__}: {exc}")
            continue
        journal.compensated(name, done_step.id, done_digest)
        rt.record("step.compensated", agent=done_step.agent, step=done_step.id, input_digest=done_digest,
                  outcome="ok")
        results[done_step.id] = StepResult(id=done_step.id, status="compensated")
    rt.finish("failed", step=step.id, compensated=all_undone)
    steps = tuple(results.get(s.id, StepResult(id=s.id, status="not_run")) for s in progress.order)
    return RunReport(ok=False, workflow=name, steps=steps, error=f"step `{step.id}` failed: {reason}")


def _seconds(value: Any) -> float | None:
    return None if value is None else float(value)
