"""``agentos test CASES... [--coverage]``: run policy test cases (``kind: PolicyTest``).

Each PolicyTest names its policies and, optionally, a contract (paths relative to
the case file); its cases are decided by the compiled policy. The text report lists
failures as diagnostics and ends with the line ``N passed, M failed``;
``--coverage`` also lists the rules no case exercised. Exit 0 all passed, 1 any
failed (or errors in the inputs), 2 usage or I/O.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, List, Optional

import typer

from agentos_contracts.cli.options import (CI_FORMATS, IGNORE, OUTPUT, PATHS, QUIET, REPORT_FORMAT, STDIN_FILENAME,
                                          ValidateFormat, drop_ignored, exit_code, guarded, print_json, render_ci, say,
                                          settings, start)
from agentos_contracts.diagnostics import Span


def command(
    paths: List[str] = PATHS,
    coverage: bool = typer.Option(False, "--coverage", help="List rules that no case exercised."),
    platform: Optional[str] = typer.Option(None, "--platform", "-p", help="Platform YAML typing `args.*`.", metavar="FILE"),
    fmt: Optional[ValidateFormat] = REPORT_FORMAT,
    ignore: List[str] = IGNORE,
    output: Optional[str] = OUTPUT,
    stdin_filename: Optional[str] = STDIN_FILENAME,
    quiet: bool = QUIET,
) -> None:
    """Run policy test cases; ends with `N passed, M failed`."""
    guarded(lambda: _run(paths, coverage, platform, start(fmt, stdin_filename=stdin_filename, quiet=quiet,
                                                          choices=ValidateFormat), ignore, output))


def _run(paths: list[str], coverage: bool, platform: str | None, fmt: ValidateFormat, ignore: list[str],
         output: str | None = None) -> int:
    from agentos_contracts import diagnostics as dg
    from agentos_contracts.cli.compile import Inputs, load_document, load_inputs
    from agentos_contracts.policy.cases import SuiteResult, run_cases, uncovered
    from agentos_contracts.policy.compiler import compile_sources
    from agentos_contracts.validate.pipeline import load_documents
    from agentos_contracts.validate.schema import check_schema

    _, docs, texts, diags = load_documents(paths)
    suite = SuiteResult()
    uncovered_ids: list[dict[str, Any]] = []
    schemas: dict[str, Any] = {}
    platform = platform or settings.config.platform
    if platform is not None:
        from agentos_contracts.policy.tools import schemas_from_platform

        holder = Inputs()
        data = load_document(platform, "Platform", holder)
        diags += holder.diagnostics
        schemas = schemas_from_platform(data) if data else {}
    tests = [d for d in docs if d.kind == "PolicyTest"]
    policies: list[Any] = []
    if not tests and not any(d.is_error for d in diags):
        diags.append(dg.make("AC354", Span.file_start(paths[0] if paths else "<command line>")))
    for doc in tests:
        found = check_schema(doc)
        diags += found
        if any(d.is_error for d in found):
            continue
        base = Path(doc.file).parent
        named = [str(base / p) for p in doc.data.get("policies") or []]
        contract = doc.data.get("contract")
        inputs = load_inputs(named, str(base / contract) if contract else None, None)
        texts.update(inputs.texts)
        if inputs.contract is not None and not named:
            inputs.sources = []  # a case file naming no policies tests the contract alone
        diags += inputs.diagnostics
        if inputs.diagnostics:
            continue
        compiled = compile_sources(inputs.sources, inputs.contract, tool_schemas=schemas, analyse=False)
        texts.update(compiled.sources)
        diags += [d for d in compiled.diagnostics if d.is_error]
        run_cases(doc.data.get("cases") or [], compiled.policy, doc.file, doc.span, suite)
        policies.append(compiled.policy)
    if coverage:
        for rule_id, d in uncovered(policies, suite.exercised):
            suite.diagnostics.append(d)
            uncovered_ids.append({"id": rule_id, "file": d.file, "line": d.line})
    diags = drop_ignored(diags + suite.diagnostics, ignore, texts=texts)
    diags = dg.sort_diagnostics(diags)
    summary = f"{suite.passed} passed, {suite.failed} failed"
    ok = suite.failed == 0 and not any(d.is_error for d in diags)
    if fmt.value in CI_FORMATS:
        render_ci(fmt.value, "test", [d.file for d in tests] + [d.file for d in diags if not d.file.startswith("<")],
                  diags, output or settings.config.output, texts)
    elif fmt is ValidateFormat.json:
        doc_out: dict[str, Any] = {"ok": ok, "diagnostics": [d.to_json() for d in diags], "passed": suite.passed,
                                   "failed": suite.failed, "cases": [c.to_json() for c in suite.cases],
                                   "summary": summary}
        if coverage:
            doc_out["uncovered"] = uncovered_ids
        print_json(doc_out)
    else:
        from agentos_contracts.report.text import render_diagnostics

        render_diagnostics(diags, texts, sys.stdout)
        if coverage:
            say(sys.stdout, f"coverage: {len(uncovered_ids)} rule(s) exercised by no case\n")
        say(sys.stdout, summary + "\n")
    return exit_code(diags, findings=not ok)
