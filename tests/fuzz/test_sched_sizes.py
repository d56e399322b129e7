"""`agentos sched` on task sets of every size: one JSON document, located diagnostics, no
traceback and (in the long campaign, whose deadline is 10 s per input) no hang.

Sizes that once hung or crashed (10^9 cores, thousands of unrelated periods) replay from
tests/fixtures/fuzz/sched/.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from agentos_contracts.cli import app
from agentos_contracts.codes import CODES

ROOT = Path(__file__).resolve().parents[2]
REPLAYS = sorted((ROOT / "tests" / "fixtures" / "fuzz" / "sched").glob("*.yaml"))
FUZZ = settings.get_profile("agentos-fuzz")
runner = CliRunner()

ms = st.one_of(st.sampled_from([1, 2, 5, 10, 20, 40, 100, 1000]), st.integers(1, 10**9),
               st.decimals(min_value="0.000001", max_value="100000", places=6).map(str), st.sampled_from([0, -1]))
task = st.fixed_dictionaries({"period_ms": ms, "wcet_ms": ms}, optional={"deadline_ms": ms, "jitter_ms": ms,
                                                                          "priority": st.integers(0, 5), "core": st.integers(-1, 5)})


def check(path: Path, *args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["sched", str(path), "--format", "json", "--time-limit", "8", *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    doc = json.loads(result.stdout)
    assert result.exit_code in (0, 1, 2)
    for d in doc["diagnostics"]:
        assert d["code"] in CODES and d["line"] >= 1 and d["column"] >= 1
    if result.exit_code == 0:
        assert doc["reports"] and all(r["schedulable"] for r in doc["reports"])
    return doc


@settings(parent=FUZZ)
@given(st.one_of(st.integers(1, 8), st.integers(1, 10**12)), st.sampled_from(["RM", "DM", "EDF", "FP"]),
       st.lists(task, max_size=12))
def test_any_task_set_gets_an_answer(tmp_path_factory: pytest.TempPathFactory, cores: int, scheduler: str,
                                     tasks: list[dict]) -> None:  # type: ignore[type-arg]
    lines = ["apiVersion: agentos/v0.2", "kind: TaskSet", "name: s", f"scheduler: {scheduler}", f"cores: {cores}",
             "tasks:"]
    lines += ["  - {name: t%d, %s}" % (i, ", ".join(f"{k}: {v}" for k, v in t.items())) for i, t in enumerate(tasks)]
    if not tasks:
        lines[-1] = "tasks: []"
    path = tmp_path_factory.mktemp("s") / "set.yaml"
    path.write_text("\n".join(lines) + "\n")
    check(path)


@pytest.mark.parametrize("fixture", REPLAYS, ids=[p.name for p in REPLAYS])
def test_task_sets_that_once_failed(fixture: Path) -> None:
    """Each replay's first line: ``# expect: CODE`` (a located diagnostic it must give)."""
    want = fixture.read_text().splitlines()[0].split()[2]
    doc = check(fixture)
    assert want in [d["code"] for d in doc["diagnostics"]]
