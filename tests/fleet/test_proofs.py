"""An auditor's view: the script in docs/audit.md verifies real proofs with only the public key."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit.md"


def _auditor_script() -> str:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- auditor-script -->\n```python\n(.*?)```", text, re.S)
    assert found, "docs/audit.md lost its auditor script"
    return found.group(1)


def test_the_documented_auditor_script_verifies_proofs_and_catches_one_changed_byte(fleet: Any,
                                                                                    tmp_path: Path) -> None:
    logs = [fleet.run_agent(a, 9) for a in ("alpha", "beta")]
    store = tmp_path / "store"
    collector = fleet.collector(store, None, "--checkpoint-every", "5")
    for log in logs:
        shipped = fleet.agentos("audit", "ship", str(log), "--to", collector.url, "--batch", "4")
        assert shipped.returncode == 0, shipped.stderr
    assert collector.stop()[0] == 0
    script = tmp_path / "verify_proof.py"
    script.write_text(_auditor_script(), encoding="utf-8")
    pub = str(fleet.keys.collector_pub)
    for log in logs:
        for event in fleet.log_event_ids(log)[::4]:
            proved = fleet.agentos("audit", "prove", "--store", str(store), "--event", event, "--format", "json")
            assert proved.returncode == 0, proved.stdout
            proof_file = tmp_path / f"{event}.json"
            proof_file.write_text(proved.stdout, encoding="utf-8")
            ok = subprocess.run([sys.executable, str(script), str(proof_file), pub], capture_output=True, text=True)
            assert ok.returncode == 0 and ok.stdout.startswith("verified"), ok.stdout + ok.stderr

    proof = json.loads(proof_file.read_text())
    for name, change in (("record", lambda p: p["record"].update(seq=p["record"]["seq"] + 1)),
                         ("path", lambda p: p["inclusion_path"].__setitem__(0, p["inclusion_path"][1])),
                         ("index", lambda p: p.update(leaf_index=p["leaf_index"] ^ 1)),
                         ("note", lambda p: p.update(checkpoint=p["checkpoint"].replace("\n", "\n\n", 1)))):
        bad = json.loads(json.dumps(proof))
        change(bad)
        bad_file = tmp_path / f"bad-{name}.json"
        bad_file.write_text(json.dumps(bad), encoding="utf-8")
        failed = subprocess.run([sys.executable, str(script), str(bad_file), pub], capture_output=True, text=True)
        assert failed.returncode != 0, name
    other = subprocess.run([sys.executable, str(script), str(proof_file), str(fleet.keys.runtime_pub)],
                           capture_output=True, text=True)
    assert other.returncode != 0
