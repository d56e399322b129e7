"""Concurrent writers on one audit log through its several names (the file, a hard link, a
symlink), some killed with SIGKILL part-way: no acknowledged record is ever lost, the chain
always verifies, and every name shows the same records.

Each input draws the writers (which name, how many records, killed after how many
acknowledgements or left to finish); a last writer then appends through a drawn name.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.runtime import audit
from agentos_contracts.runtime.logstore import iter_records, read_log

FUZZ = settings.get_profile("agentos-fuzz")
WRITER = Path(__file__).resolve().parents[1] / "fixtures" / "fuzz" / "audit_writer.py"
NAMES = ("file", "hardlink", "symlink")
writers = st.lists(st.tuples(st.sampled_from(NAMES), st.integers(1, 25), st.one_of(st.none(), st.integers(1, 10))),
                   min_size=1, max_size=3)


def start(path: Path, n: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(WRITER), str(path), str(n), "w", "0", "-"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def acks_of(lines: list[str]) -> list[str]:
    return [line.split()[2] for line in lines if line.startswith("ack ")]


@settings(parent=FUZZ, max_examples=max(2, FUZZ.max_examples // 20))
@given(writers, st.sampled_from(NAMES))
def test_no_acknowledged_record_is_ever_lost(plan: list[tuple[str, int, int | None]], last: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "a").mkdir()
        (base / "b").mkdir()
        names = {"file": base / "a" / "audit.db", "hardlink": base / "b" / "hard.db", "symlink": base / "b" / "soft.db"}
        audit.AuditLog.open(names["file"]).close()
        os.link(names["file"], names["hardlink"])
        names["symlink"].symlink_to(names["file"])
        acked: list[str] = []
        procs = [(start(names[name], n), kill_after) for name, n, kill_after in plan]
        for proc, kill_after in procs:
            assert proc.stdout is not None
            if kill_after is not None:
                lines = []
                while len(acks_of(lines)) < kill_after:
                    line = proc.stdout.readline()
                    if not line:
                        break
                    lines.append(line)
                proc.send_signal(signal.SIGKILL)
                rest, _ = proc.communicate(timeout=60)
                acked += acks_of(lines + rest.splitlines())
            else:
                out, err = proc.communicate(timeout=120)
                assert proc.returncode == 0, err
                acked += acks_of(out.splitlines())
        heir = start(names[last], 3)
        out, err = heir.communicate(timeout=120)
        assert heir.returncode == 0, err
        acked += acks_of(out.splitlines())
        stored = {name: [r["event_id"] for r in iter_records(read_log(path))] for name, path in names.items()}
        assert stored["file"] == stored["hardlink"] == stored["symlink"]
        assert set(acked) <= set(stored["file"]), "an acknowledged record was lost"
        report = audit.verify(names["hardlink"])
        assert report.ok, report.problems
