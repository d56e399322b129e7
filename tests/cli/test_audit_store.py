"""``agentos audit migrate-store`` and a collector meeting an old store, as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "fleet" / "store-v1"
AGENTOS = [sys.executable, "-m", "agentos_contracts"]


def _run(*args: str) -> tuple[int, dict[str, object]]:
    done = subprocess.run([*AGENTOS, *args, "--format", "json"], capture_output=True, text=True, timeout=120)
    return done.returncode, json.loads(done.stdout)


def test_collect_refuses_an_old_store_then_migrate_store_upgrades_it_once(tmp_path: Path) -> None:
    store = tmp_path / "store"
    shutil.copytree(FIXTURE / "store", store)
    key = str(FIXTURE / "collector.key")
    code, doc = _run("audit", "collect", "--listen", "127.0.0.1:0", "--store", str(store), "--key", key)
    assert code == 2 and [d["code"] for d in doc["diagnostics"]] == ["AC878"]
    assert "migrate-store" in doc["diagnostics"][0]["message"]  # type: ignore[index]

    code, doc = _run("audit", "migrate-store", "--store", str(store))
    assert code == 0 and doc["migrated"] is True and doc["ok"] is True
    assert (doc["format_before"], doc["format"], doc["records"], doc["chains"]) == \
        ("agentos-fleet/1", "agentos-fleet/2", 49, 2)
    code, again = _run("audit", "migrate-store", "--store", str(store))
    assert code == 0 and again["migrated"] is False and again["root_hash"] == doc["root_hash"]

    code, checked = _run("audit", "check", "--store", str(store), "--pub", str(FIXTURE / "collector.pub"))
    assert code == 1 and [d["code"] for d in checked["diagnostics"]] == ["AC860"]  # the stored gap, nothing else
    assert checked["verified_checkpoints"] == 4


def test_migrate_store_refuses_what_it_cannot_use(tmp_path: Path) -> None:
    code, doc = _run("audit", "migrate-store", "--store", str(tmp_path / "missing"))
    assert code == 2 and [d["code"] for d in doc["diagnostics"]] == ["AC868"]
    store = tmp_path / "store"
    shutil.copytree(FIXTURE / "store", store)
    import sqlite3

    conn = sqlite3.connect(store / "fleet.db")
    conn.execute("UPDATE leaves SET body = CAST('{}' AS BLOB) WHERE idx = 3")
    conn.commit()
    conn.close()
    code, doc = _run("audit", "migrate-store", "--store", str(store))
    assert code == 1 and [d["code"] for d in doc["diagnostics"]] == ["AC879"]
