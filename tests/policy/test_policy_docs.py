"""docs/policy.md is tested: every example in it is compiled, decided or run.

Fenced blocks: ```policy NAME (written to NAME; compiles without errors unless it is
`broken.policy`), ```decisions (`action JSON -> effect [rule ids]`, against the policy
block before it), ```yaml NAME / ```jsonl NAME (written), ```console (`$ agentos ...`
lines run in order, output compared; a line `...` skips lines, `...` inside a line
matches any text) and ```python (run).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentos_contracts.cli import app
from agentos_contracts.policy.compiler import compile_sources

DOC = Path(__file__).resolve().parents[2] / "docs" / "policy.md"
FENCE = re.compile(r"^```(\w+)(?: ([^\n]+))?\n(.*?)^```$", re.S | re.M)


def blocks() -> list[tuple[str, str | None, str]]:
    return [(m.group(1), m.group(2), m.group(3)) for m in FENCE.finditer(DOC.read_text())]


def matches(expected: list[str], actual: list[str]) -> bool:
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head == "...":
        return any(matches(rest, actual[i:]) for i in range(len(actual) + 1))
    if not actual:
        return False
    pattern = ".*".join(re.escape(part) for part in head.split("..."))
    ok = re.fullmatch(pattern, actual[0]) is not None
    return ok and matches(rest, actual[1:])


def test_the_doc_has_examples_of_every_kind() -> None:
    kinds = {k for k, _, _ in blocks()}
    assert {"policy", "decisions", "console", "python", "yaml"} <= kinds


def test_every_example_in_docs_policy_md(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    all_blocks = blocks()
    for kind, name, body in all_blocks:  # files first: commands may name any of them
        if name:
            Path(name).write_text(body)
    runner = CliRunner()
    last_policy: str | None = None
    checked = 0
    for kind, name, body in all_blocks:
        if kind == "policy":
            assert name, "policy blocks are named"
            result = compile_sources([(name, body.encode())])
            assert result.ok == (name != "broken.policy"), (name, result.diagnostics)
            last_policy = name
        elif kind == "decisions":
            assert last_policy is not None
            policy = compile_sources([(last_policy, Path(last_policy).read_bytes())]).policy
            for line in body.splitlines():
                m = re.fullmatch(r"(\S+) (\{.*\}) -> (\w+)((?: \S+)*)", line)
                assert m, line
                action, ctx, effect, rules = m.groups()
                d = policy.decide(action, json.loads(ctx))
                assert (d.effect, list(d.rules)) == (effect, rules.split()), (line, d)
                checked += 1
        elif kind == "console":
            commands = re.split(r"^\$ ", body, flags=re.M)[1:]
            for chunk in commands:
                command, *expected = chunk.rstrip("\n").split("\n")
                argv = shlex.split(command)
                assert argv[0] == "agentos"
                result = runner.invoke(app, argv[1:])
                assert "Traceback" not in result.output
                assert matches(expected, result.stdout.rstrip("\n").split("\n")), (command, result.stdout)
                checked += 1
        elif kind == "python":
            exec(compile(body, f"{DOC}:python", "exec"), {})
            checked += 1
    assert checked >= 25
