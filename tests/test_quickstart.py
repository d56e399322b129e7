"""docs/quickstart.md works as written: its files are written, its commands run in order, its outputs shown.

Fenced blocks tagged ``file=NAME`` are written to a fresh folder; ``sh`` blocks run line by line
(a trailing ``# exit N`` gives the expected exit code, else 0); an untagged block right after
an ``sh`` block is the output it shows (``...`` stands for what differs per run: digests).
The install lines are the one thing skipped: this interpreter's environment already has agentos.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "quickstart.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
SKIP = ("python3 -m venv", ". .venv/bin/activate")


def test_quickstart_runs_as_written(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
           "CI": "true", "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    last_output = None
    ran = 0
    for match in FENCE.finditer(DOC):
        info, body = match.group(1).strip(), match.group(2)
        name = re.search(r"file=(\S+)", info)
        if name:
            (tmp_path / name.group(1)).write_text(body, encoding="utf-8")
        elif info == "sh":
            last_output = ""
            for line in body.splitlines():
                if not line.strip() or line.startswith(SKIP):
                    continue
                want = re.search(r"#\s*exit (\d+)\s*$", line)
                proc = subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True,
                                      timeout=300)
                assert proc.returncode == (int(want.group(1)) if want else 0), (line, proc.stdout, proc.stderr)
                assert "Traceback" not in proc.stderr, proc.stderr
                last_output += proc.stdout
                ran += 1
        elif info == "" and last_output is not None:
            for shown in body.splitlines():
                expected = shown.split("...")[0].rstrip() if "..." in shown else shown
                assert expected in last_output, (shown, last_output)
            last_output = None
    assert ran >= 10
