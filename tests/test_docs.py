"""User docs: every relative link resolves, no internal jargon, pictures are well-formed SVG,
and the Gantt chart in docs/sched.md is what `agentos sched --gantt` draws today."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

ROOT = Path(__file__).resolve().parent.parent
USER_DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
LINK = re.compile(r"\]\(([^)\s]+)\)")
JARGON = re.compile(r"\bissue \d+|\(issue \d|\baudit of \d{4}|\bhelpers?\b(?! text)", re.IGNORECASE)


@pytest.mark.parametrize("doc", USER_DOCS, ids=lambda p: p.name)
def test_relative_links_resolve(doc: Path) -> None:
    text = re.sub(r"```.*?```", "", doc.read_text(encoding="utf-8"), flags=re.DOTALL)
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = target.split("#")[0]
        if not (doc.parent / path).exists():
            broken.append(target)
    assert not broken, f"{doc.name}: dead links {broken}"


@pytest.mark.parametrize("doc", USER_DOCS, ids=lambda p: p.name)
def test_no_internal_jargon(doc: Path) -> None:
    found = JARGON.findall(doc.read_text(encoding="utf-8"))
    assert not found, f"{doc.name}: {found}"


def test_quickstart_is_linked_first_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = LINK.search(readme)
    assert first is not None and first.group(1) == "docs/quickstart.md"


@pytest.mark.parametrize("svg", sorted((ROOT / "docs").glob("*.svg")), ids=lambda p: p.name)
def test_pictures_are_well_formed_svg(svg: Path) -> None:
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")


def test_sched_gantt_picture_is_current(tmp_path: Path) -> None:
    out = tmp_path / "g.svg"
    proc = subprocess.run([sys.executable, "-m", "agentos_contracts", "sched", "contracts/tasksets/robot-safety.yaml",
                           "--gantt", str(out), "--horizon", "100", "-q"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text(encoding="utf-8") == (ROOT / "docs" / "sched-gantt.svg").read_text(encoding="utf-8")
