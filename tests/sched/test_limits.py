"""Sizes that drive the work (cores, tasks, hyperperiod) are refused before any work, and
``--time-limit`` bounds the whole ``agentos sched`` command on the wall clock."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from agentos_contracts.cli import app
from agentos_contracts.model.tasks import MAX_CORES, MAX_TASKS, Scheduler, Task, TaskSet
from agentos_contracts.sched import Verdict, analyse

runner = CliRunner()
PRIMES = [p for p in range(1009, 20_000) if all(p % q for q in range(2, int(p ** 0.5) + 1))]


def taskset_yaml(cores: int, tasks: list[tuple[float, float]], scheduler: str = "RM") -> str:
    lines = ["apiVersion: agentos/v0.2", "kind: TaskSet", "name: big", f"scheduler: {scheduler}", f"cores: {cores}",
             "tasks:"]
    lines += [f"  - {{name: t{i}, period_ms: {t}, wcet_ms: {c}}}" for i, (t, c) in enumerate(tasks)]
    return "\n".join(lines) + "\n"


def sched(tmp_path: Path, text: str, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    path = tmp_path / "set.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["sched", str(path), "--format", "json", *args])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def test_a_billion_cores_is_a_located_error_not_a_hang(tmp_path: Path) -> None:
    # regression: 10^9 cores ran past 120 s and 13 GB before any answer
    code, doc = sched(tmp_path, taskset_yaml(10**9, [(10, 2)]))
    assert code == 1 and doc["reports"] == []
    assert [(d["code"], d["line"], d["column"]) for d in doc["diagnostics"]] == [("AC408", 5, 8)]
    code, doc = sched(tmp_path, taskset_yaml(MAX_CORES, [(10, 2)]))
    assert code == 0 and doc["reports"][0]["schedulable"] is True


def test_too_many_cores_on_the_command_line_is_a_usage_error(tmp_path: Path) -> None:
    code, doc = sched(tmp_path, taskset_yaml(1, [(10, 2)]), "--cores", str(10**9))
    assert code == 2 and doc["ok"] is False and doc["diagnostics"][0]["code"] == "AC901"


def test_too_many_tasks_is_a_located_error(tmp_path: Path) -> None:
    code, doc = sched(tmp_path, taskset_yaml(1, [(1000, 0.001)] * (MAX_TASKS + 1)))
    assert code == 1 and [(d["code"], d["line"]) for d in doc["diagnostics"]] == [("AC409", 6)]


def test_unrelated_periods_are_analysed_and_reported_exactly(tmp_path: Path) -> None:
    # regression: 400 tasks with unrelated periods crashed printing a utilisation whose exact
    # denominator has thousands of digits; the hyperperiod drives no analysis, so none is refused
    code, doc = sched(tmp_path, taskset_yaml(1, [(p, 0.001) for p in PRIMES[:400]]))
    (report,) = doc["reports"]
    assert code == 0 and report["verdict"] == "schedulable"
    n, d = report["utilization_exact"].split("/")
    assert len(d) > 1000 and int(n) * 1000 < int(d)  # exact, and well under 1


def test_the_library_refuses_the_same_sizes_before_any_work() -> None:
    one = Task(name="a", period_ns=10_000_000, wcet_ns=2_000_000, deadline_ns=10_000_000)
    report = analyse(TaskSet(name="huge", tasks=(one,), scheduler=Scheduler.RM, cores=10**9))
    assert report.verdict is Verdict.UNKNOWN and "cores" in report.reason and report.method == "refused"


def test_time_limit_is_a_wall_clock_limit_on_the_whole_command(tmp_path: Path) -> None:
    # regression: --time-limit bounded only the partitioning MILP; sensitivity on 3,000 tasks ran on
    tasks = [((100, 200, 400, 800, 1600)[i % 5], 0.001) for i in range(3000)]
    code, doc = sched(tmp_path, taskset_yaml(1, tasks), "--sensitivity", "--time-limit", "5")
    assert code == 1 and doc["ok"] is False
    if doc["reports"]:  # the time ran out during the analysis
        (r,) = doc["reports"]
        assert r["verdict"] == "unknown" and "wall-clock time limit of 5 s" in r["reason"]
        assert [d["code"] for d in doc["diagnostics"]] == ["AC402"]
    else:  # ... or already while the inputs were read and checked
        assert [d["code"] for d in doc["diagnostics"]] == ["AC411"]


def test_an_astronomical_gantt_window_is_refused_with_a_message(tmp_path: Path) -> None:
    # regression: the refusal's message turned a 10^470 ms window into a float and crashed
    code, doc = sched(tmp_path, taskset_yaml(1, [(f"{p}.000001", 0.001) for p in PRIMES[:60]]),
                      "--gantt", str(tmp_path / "g.svg"), "--no-sensitivity")
    assert code == 2 and [d["code"] for d in doc["diagnostics"]] == ["AC405"]  # an output not written
    assert "about 10^" in doc["diagnostics"][0]["message"]
