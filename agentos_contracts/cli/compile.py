"""``agentos compile POLICY... [--contract C] [--platform P] [-o OUT]``: policies → one compiled document.

All inputs are combined into one document, written to ``-o`` (default: the first
input's path + ``.compiled.json``); the report goes to standard output. Without
POLICY arguments, ``--contract`` compiles the policies the contract names (and a
contract naming none allows each capability unconditionally). Nothing is written
when there are errors. Exit 0 compiled, 1 errors in the inputs, 2 usage or I/O.
The input helpers here are shared by ``eval`` and ``test``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any, List, Optional

import typer

from agentos_contracts.cli.options import (FORMAT, IGNORE, QUIET, STDIN_FILENAME, Format, drop_ignored, exit_code, guarded,
                                          say, settings, start)
from agentos_contracts.diagnostics import Diagnostic, Span


def command(
    policies: Optional[List[str]] = typer.Argument(None, help="Policy files or folders (*.policy, *.dsl), or - for standard input."),
    contract: Optional[str] = typer.Option(None, "--contract", "-c", help="AgentContract YAML: its capabilities are the ceiling.", metavar="FILE"),
    platform: Optional[str] = typer.Option(None, "--platform", "-p", help="Platform YAML: tools' MCP inputSchemas type `args.*`.", metavar="FILE"),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Where to write the compiled document.", metavar="OUT"),
    fmt: Optional[Format] = FORMAT,
    ignore: List[str] = IGNORE,
    stdin_filename: Optional[str] = STDIN_FILENAME,
    quiet: bool = QUIET,
) -> None:
    """Parse, check and compile policies into the compiled JSON form."""
    guarded(lambda: _run(policies or [], contract, platform, output, start(fmt, stdin_filename=stdin_filename, quiet=quiet),
                         ignore))


def _run(paths: list[str], contract_path: str | None, platform: str | None, output: str | None, fmt: Format,
         ignore: list[str]) -> int:
    from agentos_contracts.policy.compiler import compile_sources

    from agentos_contracts.documents.discover import is_stdin

    inputs = load_inputs(paths, contract_path, platform or settings.config.platform)
    diags = list(inputs.diagnostics)
    doc: dict[str, Any] = {"ok": False, "diagnostics": [], "outputs": []}
    if not diags and not inputs.sources and inputs.contract is None:
        diags.append(usage("give at least one policy file, or `--contract`",
                           "pass policy files or folders, `-` for standard input, or `--contract FILE`"))
    if output is None and inputs.first and is_stdin(inputs.first):
        output = "-"  # like a filter: standard input in, the compiled document on standard output
    report = sys.stderr if output == "-" else sys.stdout  # standard output then holds the document alone
    if not any(d.is_error for d in diags):
        result = compile_sources(inputs.sources, inputs.contract, tool_schemas=inputs.tool_schemas)
        diags += result.diagnostics
        inputs.texts.update(result.sources)
        if result.ok and result.policy.data is not None:
            out = output or inputs.first + ".compiled.json"
            try:
                if out == "-":
                    sys.stdout.buffer.write(result.policy.data + (b"" if result.policy.data.endswith(b"\n") else b"\n"))
                    sys.stdout.flush()
                else:
                    Path(out).write_bytes(result.policy.data)
            except OSError as exc:
                diags.append(make("AC001", Span.file_start(out), file=out, reason=exc.strerror or str(exc)))
            else:
                digest = "sha256:" + hashlib.sha256(result.policy.data).hexdigest()
                doc["outputs"].append({"path": out, "digest": digest})
                doc["rules"] = len(result.policy.rule_ids)
    from agentos_contracts.diagnostics import sort_diagnostics

    diags = sort_diagnostics(drop_ignored(diags, ignore, texts=inputs.texts))
    doc["ok"] = bool(doc["outputs"]) and not any(d.is_error for d in diags)
    doc["diagnostics"] = [d.to_json() for d in diags]
    if fmt is Format.json:
        report.write(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    else:
        from agentos_contracts.report.text import render_diagnostics, summary

        render_diagnostics(diags, inputs.texts, report)
        for o in doc["outputs"]:
            say(report, f"compiled {doc['rules']} rules from {len(inputs.sources)} file(s) into {'standard output' if o['path'] == '-' else o['path']} ({o['digest']})\n")
        if not doc["outputs"] or diags:
            say(report, summary(diags, max(1, len(inputs.sources))) + "\n")
    return exit_code(diags, findings=not doc["ok"])


# ---- inputs shared by compile, eval and test -------------------------------------------------


class Inputs:
    """Policy sources, the contract's data and tool schemas, read from the command line."""

    def __init__(self) -> None:
        self.sources: list[tuple[str, bytes]] = []
        self.texts: dict[str, str] = {}
        self.contract: dict[str, Any] | None = None
        self.tool_schemas: dict[str, Any] = {}
        self.diagnostics: list[Diagnostic] = []
        self.first = ""


def make(code: str, span: Span, **kw: Any) -> Diagnostic:
    from agentos_contracts.diagnostics import make as _make

    return _make(code, span, **kw)


def usage(message: str, hint: str = "") -> Diagnostic:
    return make("AC901", Span("<command line>"), message=message, hint=hint)


def load_inputs(paths: list[str], contract_path: str | None, platform: str | None) -> Inputs:
    from agentos_contracts.documents.discover import POLICY_PATTERNS, find_files, read_source

    inputs = Inputs()
    files, inputs.diagnostics = find_files(paths, POLICY_PATTERNS)
    if paths and not files and not inputs.diagnostics:
        inputs.diagnostics.append(make("AC904", Span("<command line>"), paths=" ".join(paths)))
    for name in files:
        source, bad = read_source(name)
        inputs.diagnostics += bad
        if source is not None:
            inputs.sources.append((name, source.data))
    inputs.first = files[0] if files else (contract_path or "")
    if contract_path is not None:
        data = load_document(contract_path, "AgentContract", inputs)
        if data is not None:
            inputs.contract = data
            if not paths:
                named = data.get("policies") if isinstance(data.get("policies"), list) else []
                base = Path(contract_path).parent
                for p in named:
                    name = str(base / p) if isinstance(p, str) else ""
                    source, bad = read_source(name)
                    inputs.diagnostics += bad
                    if source is not None:
                        inputs.sources.append((name, source.data))
                if inputs.sources:
                    inputs.first = inputs.sources[0][0]
    if platform is not None:
        from agentos_contracts.policy.tools import schemas_from_platform

        data = load_document(platform, "Platform", inputs)
        if data is not None:
            inputs.tool_schemas = schemas_from_platform(data)
    return inputs


def load_document(path: str, kind: str, inputs: Inputs) -> dict[str, Any] | None:
    """The first document of ``kind`` in a YAML file; problems become diagnostics."""
    from agentos_contracts.documents.discover import read_source
    from agentos_contracts.documents.loader import load_source

    source, bad = read_source(path)
    inputs.diagnostics += bad
    if source is None:
        return None
    loaded = load_source(source)
    inputs.texts[path] = loaded.text
    errors = [d for d in loaded.diagnostics if d.is_error]
    inputs.diagnostics += errors
    if errors:
        return None
    for doc in loaded.documents:
        if doc.kind == kind and isinstance(doc.data, dict):
            return doc.data
    inputs.diagnostics.append(make("AC901", Span.file_start(path), message=f"`{path}` holds no {kind} document",
                                   hint=f"pass a YAML file with `kind: {kind}`"))
    return None
