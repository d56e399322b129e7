"""`validate` with a platform alongside: the layering rules located in the contract, high-risk warnings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from agentos_contracts.cli import app

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "governance"


def _validate(tmp: Path, contract: str, *extra: str) -> tuple[int, list[dict[str, Any]]]:
    for name in ("platform.yaml", "tenant.policy", "own.policy"):
        shutil.copy(FIX / name, tmp / name)
    (tmp / "agent.yaml").write_text(contract)
    out = CliRunner().invoke(app, ["validate", str(tmp / "agent.yaml"), str(tmp / "platform.yaml"), *extra,
                                   "--format", "json"])
    return out.exit_code, json.loads(out.stdout)["diagnostics"]


def test_a_widening_is_located_at_the_contracts_entry(tmp_path: Path) -> None:
    text = (FIX / "agent.yaml").read_text().replace("notes.remember]", "notes.remember, fs.write]")
    code, diags = _validate(tmp_path, text)
    [d] = [d for d in diags if d["code"] == "AC536"]
    assert code == 1 and (d["line"], d["path"]) == (6, "/capabilities/3")
    assert d["message"] == ("shopper: the contract layer's `capabilities` names action `fs.write`, which the "
                            "tenant layer does not allow")


def test_high_risk_without_a_gate_is_a_warning_and_a_policy_rule_is_a_gate(tmp_path: Path) -> None:
    text = (FIX / "agent.yaml").read_text().replace("tenant: shop\n", "tenant: clinic\n")
    code, diags = _validate(tmp_path, text)
    [d] = [d for d in diags if d["code"] == "AC150"]
    assert code == 0 and d["severity"] == "warning" and d["path"] == "/capabilities/1"
    assert "`payment.charge` is high-risk" in d["message"]
    (tmp_path / "gate.policy").write_text("policy gate\nREQUIRE CONSENT FOR payment.charge\nALLOW *\n")
    gated = text.replace("policies: [own.policy]", "policies: [own.policy, gate.policy]")
    code, diags = _validate(tmp_path, gated)
    assert "AC150" not in {d["code"] for d in diags}
    code, diags = _validate(tmp_path, gated, "--no-policies")  # policies unread: only consent_for gates
    assert "AC150" in {d["code"] for d in diags}


def test_a_lowered_limit_is_a_warning_at_the_contracts_value(tmp_path: Path) -> None:
    code, diags = _validate(tmp_path, (FIX / "agent.yaml").read_text())
    [d] = [d for d in diags if d["code"] == "AC538"]
    assert code == 0 and d["severity"] == "warning" and d["path"] == "/budgets/cost_per_day"
