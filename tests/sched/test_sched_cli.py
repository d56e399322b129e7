"""``agentos sched``: exit codes, the JSON shape of interfaces.md, located diagnostics, Gantt files."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentos_contracts.cli import app

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures" / "sched"
runner = CliRunner()


def invoke(*args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = runner.invoke(app, ["sched", *args, "--format", "json"])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def report(doc: dict, name: str) -> dict:  # type: ignore[type-arg]
    return next(r for r in doc["reports"] if r["name"] == name)


def test_schedulable_set_json_shape() -> None:
    code, doc = invoke(str(FIX / "valid" / "robot-safety.yaml"))
    assert code == 0 and doc["ok"] is True and doc["diagnostics"] == []
    r = report(doc, "robot-safety")
    for key in ("file", "name", "scheduler", "schedulable", "utilization", "tasks", "verdict", "utilization_exact",
                "suggested_priorities"):
        assert key in r
    assert (r["verdict"], r["schedulable"], r["scheduler"]) == ("schedulable", True, "RM")
    assert r["utilization"] == 0.4375 and r["utilization_exact"] == "7/16"
    planner = next(t for t in r["tasks"] if t["name"] == "planner")
    assert planner == {**planner, "core": 0, "response_time_ms": 13.5, "deadline_ms": 40, "max_wcet_ms": 32}
    assert r["sensitivity"]["scaling_factor"] == "16/7" and r["sensitivity"]["exact"] is True


def test_lehoczky_response_time_is_the_worst_job() -> None:
    code, doc = invoke(str(FIX / "valid" / "lehoczky-arbitrary-deadline.yaml"))
    slow = next(t for t in report(doc, "lehoczky")["tasks"] if t["name"] == "slow")
    assert code == 0 and slow["response_time_ms"] == 118


def test_jitter_example_is_rejected_with_r_against_d() -> None:
    path = str(FIX / "invalid" / "jitter-counts-against-deadline.yaml")
    code, doc = invoke(path)
    assert code == 1 and doc["ok"] is False
    r = report(doc, "jitter-rm")
    b = next(t for t in r["tasks"] if t["name"] == "b")
    assert (r["verdict"], b["response_time_ms"], b["deadline_ms"], b["schedulable"]) == ("unschedulable", 12, 10, False)
    assert b["explanation"]["window_ms"] == 3 and b["explanation"]["interference"] == [{"task": "a", "jobs": 1, "work_ms": 1}]
    (d,) = doc["diagnostics"]
    assert (d["code"], d["file"], d["line"], d["path"]) == ("AC400", path, 9, "/tasks/1")
    assert "R = 12 ms > D = 10 ms" in d["message"]


def test_rm_failure_suggests_audsley_priorities() -> None:
    code, doc = invoke(str(FIX / "invalid" / "rm-fails-dm-succeeds.yaml"))
    r = report(doc, "rm-vs-dm")
    assert code == 1 and r["verdict"] == "unschedulable"
    assert r["suggested_priorities"] == [{"name": "urgent", "priority": 1}, {"name": "long", "priority": 2}]
    assert "urgent, long" in doc["diagnostics"][0]["hint"]


def test_edf_failure_gives_the_witness_interval() -> None:
    code, doc = invoke(str(FIX / "invalid" / "edf-constrained-overload.yaml"))
    r = report(doc, "edf-constrained")
    assert code == 1 and all(t["response_time_ms"] is None for t in r["tasks"])
    assert r["witness"]["t_ms"] == 3 and r["witness"]["demand_ms"] == 4
    assert [j["task"] for j in r["witness"]["jobs"]] == ["x", "y"]
    (d,) = doc["diagnostics"]
    assert d["code"] == "AC401" and d["line"] == 4 and "0.750000" in d["hint"]


@pytest.mark.parametrize("name,code,line", [
    ("duplicate-task.yaml", "AC230", 7), ("bad-core.yaml", "AC231", 7), ("fp-missing-priority.yaml", "AC232", 7),
    ("negative-wcet.yaml", "AC117", 6), ("empty.yaml", "AC407", 5),
])
def test_bad_task_sets_yield_located_diagnostics(name: str, code: str, line: int) -> None:
    path = str(FIX / "invalid" / name)
    exit_code, doc = invoke(path)
    assert exit_code == 1 and doc["reports"] == []
    assert [(d["code"], d["file"], d["line"]) for d in doc["diagnostics"]] == [(code, path, line)]


def test_utilisation_over_one_is_a_verdict_not_a_document_error() -> None:
    code, doc = invoke(str(FIX / "invalid" / "wcet-over-period.yaml"))
    assert code == 1 and report(doc, "overload")["utilization_exact"] == "6/5"
    assert [d["code"] for d in doc["diagnostics"]] == ["AC401"]


def test_hrt_contracts_form_one_edf_set() -> None:
    code, doc = invoke(str(FIX / "contracts"))
    r = report(doc, "hrt-contracts")
    assert code == 0 and (r["scheduler"], r["cores"], r["verdict"]) == ("EDF", 1, "schedulable")
    assert [t["name"] for t in r["tasks"]] == ["guard", "planner"]  # the SRT contract is not a task
    assert {t["name"]: (t["period_ms"], t["deadline_ms"]) for t in r["tasks"]} == {"guard": (10, 10), "planner": (40, 40)}
    assert len(r["files"]) == 2


def test_scheduler_and_cores_options() -> None:
    code, doc = invoke(str(FIX / "contracts"), "--scheduler", "RM", "--cores", "2")
    r = report(doc, "hrt-contracts")
    assert code == 0 and (r["scheduler"], r["cores"]) == ("RM", 2)
    code, doc = invoke(str(FIX / "valid" / "robot-safety.yaml"), "--scheduler", "EDF")
    assert report(doc, "robot-safety")["scheduler"] == "EDF"
    code, doc = invoke(str(FIX / "valid" / "robot-safety.yaml"), "--scheduler", "FP")
    assert code == 1 and [d["code"] for d in doc["diagnostics"]] == ["AC232", "AC232"] and doc["reports"] == []


def test_a_broken_contract_blocks_the_whole_set() -> None:
    code, doc = invoke(str(FIX / "contracts-broken"))
    r = report(doc, "hrt-contracts")
    assert code == 1 and r["verdict"] == "unknown" and r["schedulable"] is False
    assert {d["code"] for d in doc["diagnostics"]} == {"AC110", "AC404"}


def test_multicore_sets() -> None:
    code, doc = invoke(str(FIX / "multicore"))
    assert code == 1
    ok = report(doc, "four-on-two")
    cores = {t["name"]: t["core"] for t in ok["tasks"]}
    assert ok["verdict"] == "schedulable" and cores["a"] == cores["c"] != cores["b"] == cores["d"]
    bad = report(doc, "no-partition")
    assert bad["verdict"] == "unschedulable" and all(t["core"] is None for t in bad["tasks"])


def test_nothing_to_analyse(tmp_path: Path) -> None:
    (tmp_path / "srt.yaml").write_text((FIX / "contracts" / "planner.yaml").read_text().split("---")[1])
    code, doc = invoke(str(tmp_path))
    assert code == 2 and [d["code"] for d in doc["diagnostics"]] == ["AC403"]  # nothing to read: usage error


def test_missing_file_is_an_io_error() -> None:
    code, doc = invoke(str(FIX / "no-such-file.yaml"))
    assert code == 2 and doc["diagnostics"][0]["code"] == "AC001"


def test_yaml_syntax_error_is_located(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: agentos/v0.2\nkind: TaskSet\ntasks: [\n")
    code, doc = invoke(str(bad))
    assert code == 1 and doc["diagnostics"][0]["code"] == "AC004" and doc["diagnostics"][0]["file"] == str(bad)


def test_gantt_svg_is_written_and_marks_misses(tmp_path: Path) -> None:
    out = tmp_path / "g.svg"
    code, _ = invoke(str(FIX / "invalid" / "jitter-counts-against-deadline.yaml"), "--gantt", str(out))
    assert code == 1
    svg = ET.parse(out).getroot()
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "a" in texts and "b" in texts
    titles = [t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}title")]
    assert any("b job 0 missed its deadline at 1 ms" in t for t in titles)


def test_gantt_for_several_sets_and_refusal(tmp_path: Path) -> None:
    out = tmp_path / "g.svg"
    code, doc = invoke(str(FIX / "valid"), "--gantt", str(out))
    assert code == 0 and out.exists() and (tmp_path / "g-robot-safety.svg").exists()
    code, doc = invoke(str(FIX / "valid" / "robot-safety.yaml"), "--gantt", str(out), "--horizon", "100000")
    assert code == 2 and doc["diagnostics"][0]["code"] == "AC405"


def test_gantt_write_failure_is_an_io_error(tmp_path: Path) -> None:
    code, doc = invoke(str(FIX / "valid" / "robot-safety.yaml"), "--gantt", str(tmp_path / "missing" / "g.svg"))
    assert code == 2 and doc["diagnostics"][0]["code"] == "AC406"


def test_text_output_for_people() -> None:
    result = runner.invoke(app, ["sched", str(FIX / "invalid" / "jitter-counts-against-deadline.yaml")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "verdict: unschedulable" in result.output
    assert "error[AC400]: task `b` misses its deadline: R = 12 ms > D = 10 ms" in result.output
    assert "1 task set analysed, 1 not schedulable" in result.output


def test_ignore_silences_a_code() -> None:
    result = runner.invoke(app, ["sched", str(FIX / "invalid" / "jitter-counts-against-deadline.yaml"),
                                 "--format", "json", "--ignore", "AC400"])
    doc = json.loads(result.stdout)
    assert doc["diagnostics"] == [] and result.exit_code == 1  # the verdict still counts


def test_time_limit_gives_unknown_with_a_reason(tmp_path: Path) -> None:
    import random

    from agentos_contracts.sched import generate

    ts = generate.random_taskset(200, 16 * 0.9875, random.Random(8), cores=16)
    lines = ["apiVersion: agentos/v0.2", "kind: TaskSet", "name: big", "scheduler: RM", "cores: 16", "tasks:"]
    lines += [f"  - {{name: {t.name}, period_ms: {t.period_ns / 1e6:.6f}, wcet_ms: {t.wcet_ns / 1e6:.6f}}}"
              for t in ts.tasks]
    path = tmp_path / "big.yaml"
    path.write_text("\n".join(lines) + "\n")
    code, doc = invoke(str(path), "--time-limit", "0.2")
    r = report(doc, "big")
    assert code == 1 and r["verdict"] == "unknown" and r["schedulable"] is False and "time limit" in r["reason"]
    assert [d["code"] for d in doc["diagnostics"]] == ["AC402"]


def test_bad_horizon_is_a_usage_error() -> None:
    result = runner.invoke(app, ["sched", str(FIX / "valid" / "robot-safety.yaml"), "--gantt", "x.svg",
                                 "--horizon", "0.0000001"])
    assert result.exit_code == 2 and "Traceback" not in result.output and "AC901" in result.output
