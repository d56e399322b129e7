"""``agentos admit`` (and ``verify --contract --platform``): exit codes, JSON shape, files, clock flags."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentos_contracts.cli import app
from agentos_contracts.seal import keys

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures" / "admit"
PLATFORM = str(FIX / "platform.yaml")
runner = CliRunner()


@pytest.fixture
def keypair(tmp_path: Path) -> tuple[str, str]:
    key = keys.generate_private_key()
    paths = keys.save_key_pair(key, tmp_path / "keys", "test")
    return str(paths[0]), str(paths[1])


def invoke(args: list[str], env: dict[str, str] | None = None) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = runner.invoke(app, [*args, "--format", "json"], env=env)
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def statement(path: str) -> dict:  # type: ignore[type-arg]
    return json.loads(base64.b64decode(json.loads(Path(path).read_text())["payload"]))


def test_admitted_json_shape_and_manifest_files(tmp_path: Path, keypair: tuple[str, str]) -> None:
    out = tmp_path / "out"
    code, doc = invoke(["admit", str(FIX / "valid" / "strict-hrt.yaml"), "--platform", PLATFORM,
                        "--key", keypair[0], "-o", str(out)])
    assert code == 0 and doc["ok"] is True and doc["rejected"] == []
    [entry] = doc["admitted"]
    assert entry["name"] == "stopper" and entry["models"] == ["tiny@1.0.0"]
    assert entry["placement"] == [{"node": "edge-a", "core": 0}]
    assert entry["manifest"] == str(out / "stopper.manifest.json") and Path(entry["manifest"]).is_file()
    code, checked = invoke(["verify", entry["manifest"], "--pub", keypair[1]])
    assert code == 0 and checked["ok"] is True


def test_rejection_exits_1_with_reasons(tmp_path: Path) -> None:
    code, doc = invoke(["admit", str(FIX / "invalid" / "AC506-srt-onset.yaml"), "--platform", PLATFORM, "--dry-run"])
    assert code == 1 and doc["ok"] is False and doc["admitted"] == []
    [rejected] = doc["rejected"]
    assert rejected["name"] == "impatient"
    assert rejected["reasons"] == [{"code": "AC506", "message": (
        "impatient: onset 90 ms (model `llm@1.1.0 (prem-a)` onset_ms_p95 80 + orchestration overhead 10) > onset_ms 50")}]


def test_no_key_and_no_unsigned_is_a_usage_error(tmp_path: Path) -> None:
    code, doc = invoke(["admit", str(FIX / "valid" / "dt.yaml"), "--platform", PLATFORM, "-o", str(tmp_path)],
                       env={"AGENTOS_SIGNING_KEY": ""})
    assert code == 2 and doc["diagnostics"][0]["code"] == "AC901"
    assert "no signing key" in doc["diagnostics"][0]["message"]
    assert list(tmp_path.iterdir()) == []


def test_key_from_the_environment(tmp_path: Path, keypair: tuple[str, str]) -> None:
    pem = Path(keypair[0]).read_text()
    code, doc = invoke(["admit", str(FIX / "valid" / "dt.yaml"), "--platform", PLATFORM, "-o", str(tmp_path)],
                       env={"AGENTOS_SIGNING_KEY": pem})
    assert code == 0
    code, _ = invoke(["verify", doc["admitted"][0]["manifest"], "--pub", keypair[1]])
    assert code == 0


def test_dry_run_writes_nothing_and_needs_no_key(tmp_path: Path) -> None:
    code, doc = invoke(["admit", str(FIX / "valid" / "dt.yaml"), "--platform", PLATFORM, "--dry-run", "-o", str(tmp_path)],
                       env={"AGENTOS_SIGNING_KEY": ""})
    assert code == 0 and doc["admitted"][0]["manifest"] is None
    assert list(tmp_path.iterdir()) == []


def test_unsigned_manifests_are_reported_by_verify(tmp_path: Path, keypair: tuple[str, str]) -> None:
    code, doc = invoke(["admit", str(FIX / "valid" / "dt.yaml"), "--platform", PLATFORM, "--unsigned", "-o", str(tmp_path)])
    assert code == 0
    code, checked = invoke(["verify", doc["admitted"][0]["manifest"], "--pub", keypair[1]])
    assert code == 1 and checked["results"][0]["errors"] == ["manifest is unsigned"]


def test_clock_and_sequence_flags(tmp_path: Path, keypair: tuple[str, str]) -> None:
    args = ["admit", str(FIX / "valid" / "dt.yaml"), "--platform", PLATFORM, "--key", keypair[0]]
    invoke([*args, "-o", str(tmp_path / "a"), "--issued-at", "2025-03-01T12:00:00Z", "--valid-for", "30d", "--sequence", "4"])
    p = statement(str(tmp_path / "a" / "indexer.manifest.json"))["predicate"]
    assert (p["issuedAt"], p["expiresAt"], p["sequence"]) == ("2025-03-01T12:00:00Z", "2025-03-31T12:00:00Z", 4)
    invoke([*args, "-o", str(tmp_path / "b")], env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert statement(str(tmp_path / "b" / "indexer.manifest.json"))["predicate"]["issuedAt"] == "2023-11-14T22:13:20Z"
    invoke([*args, "-o", str(tmp_path / "c")], env={"SOURCE_DATE_EPOCH": ""})
    assert "issuedAt" not in statement(str(tmp_path / "c" / "indexer.manifest.json"))["predicate"]
    code, doc = invoke([*args, "-o", str(tmp_path / "d"), "--valid-for", "soon"])
    assert code == 2 and "is not a duration" in doc["diagnostics"][0]["message"]


def test_invalid_contract_is_a_located_diagnostic(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: agentos/v0.2\nkind: AgentContract\nname: bad\nclass:\n  latency: HRT\n  slo: {period_ms: 10}\n")
    code, doc = invoke(["admit", str(bad), "--platform", PLATFORM, "--dry-run"])
    assert code == 1 and doc["admitted"] == [] and doc["rejected"] == []
    d = next(d for d in doc["diagnostics"] if d["severity"] == "error")
    assert d["file"] == str(bad) and d["line"] >= 4 and d["code"].startswith("AC")


def test_missing_input_exits_2() -> None:
    code, doc = invoke(["admit", "no/such.yaml", "--platform", PLATFORM, "--dry-run"])
    assert code == 2 and doc["diagnostics"][0]["code"] == "AC001"


def test_text_output_for_people(tmp_path: Path) -> None:
    result = runner.invoke(app, ["admit", str(FIX / "invalid" / "AC509-token-capacity.yaml"), "--platform", PLATFORM,
                                 "--dry-run"])
    assert result.exit_code == 1
    assert "admitted  batch-first: llm@1.1.0 on " in result.stdout
    assert "rejected  batch-second" in result.stdout
    assert "    AC509 batch-second: model `llm@1.1.0 (prem-a)`: needs 20000 tokens/min" in result.stdout
    assert "1 admitted, 1 rejected" in result.stdout


def test_verify_drift_check_catches_a_changed_contract(tmp_path: Path, keypair: tuple[str, str]) -> None:
    src = tmp_path / "src"
    shutil.copytree(FIX / "valid", src)
    shutil.copy(PLATFORM, tmp_path / "platform.yaml")
    plat = str(tmp_path / "platform.yaml")
    out = tmp_path / "out"
    code, _ = invoke(["admit", str(src / "smooth-srt.yaml"), "--platform", plat, "--key", keypair[0], "-o", str(out)])
    assert code == 0
    manifest = str(out / "notes-assistant.manifest.json")
    drift = ["verify", manifest, "--pub", keypair[1], "--contract", str(src / "smooth-srt.yaml"), "--platform", plat]
    code, doc = invoke(drift)
    assert code == 0 and doc["ok"] is True
    text = (src / "smooth-srt.yaml").read_text().replace("turn_ms: 1000", "turn_ms: 1500")
    (src / "smooth-srt.yaml").write_text(text)
    code, doc = invoke(drift)
    assert code == 1
    errors = doc["results"][0]["errors"]
    assert any(e.startswith("manifest drifted: contract file changed since admission") for e in errors)
    assert any("/slo/turn_ms" in e for e in errors)
    code, doc = invoke(["verify", manifest, "--pub", keypair[1], "--contract", str(src / "smooth-srt.yaml")])
    assert code == 2


def test_readme_main_job(tmp_path: Path) -> None:
    """keygen → admit the examples → verify, exactly as a new user would run it."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        assert runner.invoke(app, ["keygen", "-o", str(tmp_path / "keys")]).exit_code == 0
        out = tmp_path / "out"
        result = runner.invoke(app, ["admit", "contracts/", "--platform", "contracts/platforms/city-edge.yaml",
                                     "--key", str(tmp_path / "keys" / "agentos.key"), "-o", str(out)])
        assert result.exit_code == 0, result.output
        manifests = sorted(str(p) for p in out.glob("*.manifest.json"))
        assert len(manifests) == 8
        checked = runner.invoke(app, ["verify", *manifests, "--pub", str(tmp_path / "keys" / "agentos.pub")])
        assert checked.exit_code == 0 and "ok: 8 manifests verified" in checked.stdout
    finally:
        os.chdir(cwd)


def test_no_answer_in_time_admits_what_a_greedy_placement_proves_and_the_rest_is_unknown() -> None:
    bound = FIX / "invalid" / "AC509-token-capacity.yaml"  # two agents, tokens for one of them
    code, doc = invoke(["admit", str(FIX / "valid"), str(bound), "--platform", PLATFORM, "--dry-run", "--time-limit", "0"])
    assert code == 1 and doc["solver"]["status"] == "unknown"
    assert [d["code"] for d in doc["diagnostics"]] == ["AC531"] and "placed greedily" in doc["diagnostics"][0]["message"]
    _, exact = invoke(["admit", str(FIX / "valid"), str(bound), "--platform", PLATFORM, "--dry-run"])
    assert len(doc["admitted"]) == len(exact["admitted"])
    assert [(e["verdict"], [r["code"] for r in e["reasons"]]) for e in doc["rejected"]] == [("unknown", ["AC512"])]
