"""Mutated example documents: validate never raises and every finding has a place.

Each input is one bundled example (contract, workflow, platform, task set, policy test)
with one value anywhere in it replaced by a mapping, a list, a number, a string, a
boolean or null, validated alongside the other examples (so cross-document checks run)
and rendered in every output format. Inputs that once crashed are replayed from
tests/fixtures/fuzz/validate/.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.codes import CODES
from agentos_contracts.documents.loader import load_text
from agentos_contracts.report import REPORTERS, reporter
from agentos_contracts.validate.pipeline import run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.relative_to(ROOT / "contracts") for p in (ROOT / "contracts").rglob("*.yaml"))
REPLAYS = sorted((ROOT / "tests" / "fixtures" / "fuzz" / "validate").glob("*.yaml"))

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=2**63 - 2, max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["on-prem", "HRT", "string", "web.fetch", "1.2.0", "10ms", "2Gi", "", "*", "{a: 1}"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)), max_leaves=6)


@pytest.fixture(scope="module")
def tree() -> Iterator[Path]:
    """A copy of contracts/ the test overwrites one file of at a time."""
    with tempfile.TemporaryDirectory() as tmp:
        dst = Path(tmp) / "contracts"
        shutil.copytree(ROOT / "contracts", dst)
        yield dst


def check_run(paths: list[str]) -> None:
    """The oracle: no exception, located known codes, every format renders."""
    report = run(paths)
    for d in report.diagnostics:
        assert d.code in CODES, d
        assert d.file and d.line >= 1 and d.column >= 1, d
        assert d.message and "Traceback" not in d.message, d
    for name in REPORTERS:
        out = io.StringIO()
        reporter(name).render(report, out)
        if name in ("json", "sarif"):
            json.loads(out.getvalue())


def mutate_and_check(tree: Path, rel: Path, mutated: Any) -> None:
    target = tree / rel
    original = target.read_text(encoding="utf-8")
    text = yaml.safe_dump(mutated, sort_keys=False, allow_unicode=True)
    target.write_text(text, encoding="utf-8")
    try:
        check_run([str(tree)])
    except BaseException:
        print(f"failing input ({rel}):\n{text}")
        raise
    finally:
        target.write_text(original, encoding="utf-8")


@settings(parent=settings.get_profile("agentos-fuzz"),
          max_examples=settings.get_profile("agentos-fuzz").max_examples * 3)
@given(st.data())
def test_a_mutated_example_never_crashes_validate(tree: Path, edits: Any, data: st.DataObject) -> None:
    rel = data.draw(st.sampled_from(EXAMPLES), label="file")
    loaded = load_text(str(rel), (ROOT / "contracts" / rel).read_text(encoding="utf-8"))
    doc = data.draw(st.sampled_from(loaded.documents), label="document").data
    path = data.draw(st.sampled_from(list(edits.places(doc))), label="place")
    mutate_and_check(tree, rel, edits.replaced(doc, path, data.draw(values, label="value")))


@pytest.mark.parametrize("fixture", REPLAYS, ids=[p.name for p in REPLAYS])
def test_inputs_that_once_crashed_validate(tree: Path, fixture: Path) -> None:
    """Each replay names the example it replaces in its first line: ``# replaces: <path>``."""
    text = fixture.read_text(encoding="utf-8")
    rel = text.splitlines()[0].removeprefix("# replaces:").strip()
    target = tree / rel
    original = target.read_text(encoding="utf-8")
    target.write_text(text, encoding="utf-8")
    try:
        check_run([str(tree)])
    finally:
        target.write_text(original, encoding="utf-8")
