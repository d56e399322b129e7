"""``agentos eval POLICY_OR_COMPILED (--requests FILE.jsonl | --action A --context JSON [--args JSON])``.

Decides requests against a policy source (compiled on the fly, with ``--contract``
and ``--platform`` as for ``compile``) or a compiled document. ``--format json``
prints JSON Lines, one ``{"decision", "rules", "reason"}`` per request, in order; a
malformed request line gets a deny record whose reason carries the diagnostic, and
the run goes on. Exit 0 when everything was allowed, 1 on any deny or consent (or a
policy with errors), 2 on usage or I/O errors.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Iterator, List, Optional, TextIO

import typer

from agentos_contracts.cli.options import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, FORMAT, Format, guarded, start, usage_error


def command(
    policies: List[str] = typer.Argument(..., help="Policy files or folders, or one compiled document (*.json)."),
    requests: Optional[str] = typer.Option(None, "--requests", "-r", help="JSON Lines file of requests (- for standard input).", metavar="FILE"),
    action: Optional[str] = typer.Option(None, "--action", "-a", help="Decide one request for this action."),
    context: Optional[str] = typer.Option(None, "--context", help="The request context, a JSON object (with --action)."),
    args: Optional[str] = typer.Option(None, "--args", help="Tool arguments, a JSON object, seen at `args` (with --action)."),
    contract: Optional[str] = typer.Option(None, "--contract", "-c", help="AgentContract YAML giving the ceiling (policy sources only).", metavar="FILE"),
    platform: Optional[str] = typer.Option(None, "--platform", "-p", help="Platform YAML typing `args.*` (policy sources only).", metavar="FILE"),
    fmt: Optional[Format] = FORMAT,
) -> None:
    """Decide requests: JSON Lines in, one decision per request out."""
    guarded(lambda: _run(policies, requests, action, context, args, contract, platform, start(fmt)))


def _run(paths: list[str], requests: str | None, action: str | None, context: str | None, args: str | None,
         contract: str | None, platform: str | None, fmt: Format) -> int:
    if (requests is None) == (action is None):
        usage_error("give either `--requests FILE` or `--action A`", "`--action` takes `--context JSON` and `--args JSON`")
    single: tuple[str, Any, Any] | None = None
    if action is not None:
        as_json: dict[str, Any] | None = {} if fmt is Format.json else None
        single = (action, _json_option("--context", context, as_json), _json_option("--args", args, as_json))
    elif context is not None or args is not None:
        usage_error("`--context` and `--args` go with `--action`")
    policy = _load_policy(paths, contract, platform)
    if policy is None:
        return EXIT_FINDINGS
    out = sys.stdout
    if single is not None:
        return _emit([policy.decide(single[0], single[1], single[2])], out, fmt, [1])
    return _stream(policy, requests or "-", out, fmt)


def _json_option(name: str, text: str | None, json_doc: dict[str, Any] | None = None) -> Any:
    if text is None:
        return {} if name == "--context" else None
    try:
        value = json.loads(text)
    except ValueError as exc:
        usage_error(f"`{name}` is not JSON: {exc}", "quote the JSON object for the shell: --context '{\"k\": 1}'",
                    json_doc=json_doc)
    if not isinstance(value, dict):
        usage_error(f"`{name}` must be a JSON object", json_doc=json_doc)
    return value


def _load_policy(paths: list[str], contract: str | None, platform: str | None) -> Any:
    from agentos_contracts.cli.compile import load_inputs
    from agentos_contracts.report.text import render_diagnostics

    if len(paths) == 1 and _is_compiled(paths[0]):
        from agentos_contracts.policy.evaluator import load_compiled

        if contract or platform:
            usage_error("`--contract` and `--platform` apply to policy sources, not to a compiled document",
                        "compile with them: `agentos compile POLICY --contract C -o OUT`")
        import os

        if not os.path.isfile(paths[0]):
            usage_error(f"cannot read `{paths[0]}`: no such file")
        policy = load_compiled(paths[0])
        if not policy.ok:
            render_diagnostics(policy.diagnostics, {}, sys.stderr)
            return None
        return policy
    from agentos_contracts.policy.compiler import compile_sources

    inputs = load_inputs(paths, contract, platform)
    if inputs.diagnostics:
        render_diagnostics(inputs.diagnostics, inputs.texts, sys.stderr)
        from agentos_contracts.cli.options import IO_CODES

        raise typer.Exit(EXIT_USAGE if any(d.code in IO_CODES for d in inputs.diagnostics) else EXIT_FINDINGS)
    result = compile_sources(inputs.sources, inputs.contract, tool_schemas=inputs.tool_schemas, analyse=False)
    if not result.ok:
        render_diagnostics([d for d in result.diagnostics if d.is_error], result.sources, sys.stderr)
        return None
    return result.policy


def _is_compiled(path: str) -> bool:
    if path.endswith(".json"):
        return True
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read(64).lstrip().startswith("{")
    except OSError:
        return False


def _requests(stream: TextIO) -> Iterator[tuple[int, Any]]:
    for n, line in enumerate(stream, 1):
        if line.strip():
            yield n, line


def _stream(policy: Any, requests: str, out: TextIO, fmt: Format) -> int:
    try:
        src: TextIO = sys.stdin if requests == "-" else open(requests, encoding="utf-8")
    except OSError as exc:
        usage_error(f"cannot read `{requests}`: {exc.strerror or exc}")
    code = EXIT_OK
    buf: list[str] = []
    decide = policy.decide
    rendered: dict[int, tuple[Any, str]] = {}  # decisions are shared objects: render each once
    try:
        for n, line in _requests(src):
            decision = _decide_line(decide, line, n)
            if decision.effect != "allow":
                code = EXIT_FINDINGS
            if fmt is Format.json:
                hit = rendered.get(id(decision))
                if hit is None or hit[0] is not decision:
                    hit = rendered[id(decision)] = (decision, _render(decision, fmt, n))
                    if len(rendered) > 10_000:
                        rendered.clear()
                buf.append(hit[1])
            else:
                buf.append(_render(decision, fmt, n))
            if len(buf) >= 4096:
                out.write("".join(buf))
                buf.clear()
    except UnicodeDecodeError as exc:
        out.write("".join(buf))
        usage_error(f"`{requests}` is not valid UTF-8: {exc.reason}")
    finally:
        if src is not sys.stdin:
            src.close()
    out.write("".join(buf))
    return code


def _decide_line(decide: Any, line: str, n: int) -> Any:
    from agentos_contracts.policy.evaluator import Decision

    def bad(reason: str) -> Decision:
        return Decision("deny", (), f"denied: malformed request at line {n} [AC352]: {reason}")

    try:
        req = json.loads(line)
    except ValueError as exc:
        return bad(f"not JSON ({exc.msg} at column {exc.colno})")
    except RecursionError:
        return bad("nested too deeply")
    if not isinstance(req, dict):
        return bad("not a JSON object")
    action, context, args = req.get("action"), req.get("context", {}), req.get("args")
    if not isinstance(action, str):
        return bad("`action` must be a string")
    if not isinstance(context, dict):
        return bad("`context` must be an object")
    if args is not None and not isinstance(args, dict):
        return bad("`args` must be an object")
    extra = sorted(set(req) - {"action", "context", "args"})
    if extra:
        return bad(f"unknown key `{extra[0]}`")
    return decide(action, context, args)


def _render(decision: Any, fmt: Format, n: int) -> str:
    if fmt is Format.json:
        return json.dumps(decision.to_json(), ensure_ascii=False, sort_keys=True) + "\n"
    return f"{n}: {decision.effect}: {decision.reason}\n"


def _emit(decisions: list[Any], out: TextIO, fmt: Format, lines: list[int]) -> int:
    code = EXIT_OK
    for d, n in zip(decisions, lines):
        out.write(_render(d, fmt, n) if fmt is Format.json else f"{d.effect}: {d.reason}\n")
        if d.effect != "allow":
            code = EXIT_FINDINGS
    return code
