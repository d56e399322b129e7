"""The configuration file: found walking up, agentos.toml before pyproject.toml, bad input located."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.config import Config, find_config, load_config


def test_walks_up_and_prefers_agentos_toml(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) is None or not str(find_config(deep)).startswith(str(tmp_path))
    (tmp_path / "pyproject.toml").write_text('[tool.agentos]\nformat = "json"\n', encoding="utf-8")
    assert find_config(deep) == tmp_path / "pyproject.toml"
    (tmp_path / "a" / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")  # no table: passed over
    assert find_config(deep) == tmp_path / "pyproject.toml"
    (tmp_path / "a" / "agentos.toml").write_text('format = "sarif"\n', encoding="utf-8")
    assert find_config(deep) == tmp_path / "a" / "agentos.toml"
    config, problems = load_config(deep)
    assert problems == [] and config.format == "sarif"


def test_paths_are_relative_to_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "agentos.toml").write_text('platform = "plat/p.yaml"\n[per-file-ignores]\n"legacy/*" = ["ac119"]\n',
                                           encoding="utf-8")
    monkeypatch.chdir(tmp_path / "sub")
    config, problems = load_config()
    assert problems == [] and config.platform == str(Path("..") / "plat" / "p.yaml")
    assert config.ignored_in("../legacy/x.yaml") == {"AC119"} and config.ignored_in("x.yaml") == frozenset()


@pytest.mark.parametrize("text, words", [
    ('format = 3\n', "`format` must be a string"),
    ('format = "xml"\n', "`format` must be one of"),
    ('ignore = "AC1"\n', "`ignore` must be a list"),
    ('colour = true\n', "unknown key(s) `colour`"),
    ('per-file-ignores = 1\n', "`per-file-ignores` must be a table"),
    ('format = \n', "Invalid value"),
])
def test_problems_are_ac905_with_the_reason(tmp_path: Path, text: str, words: str) -> None:
    (tmp_path / "agentos.toml").write_text(text, encoding="utf-8")
    config, problems = load_config(tmp_path)
    assert config == Config() and [p.code for p in problems] == ["AC905"] and words in problems[0].message


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=200))
def test_any_file_gives_a_config_or_a_located_problem(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    folder = tmp_path_factory.mktemp("cfg")
    (folder / "agentos.toml").write_text(text, encoding="utf-8", errors="surrogatepass")
    config, problems = load_config(folder)
    assert isinstance(config, Config)
    assert all(p.code == "AC905" and p.line == 1 for p in problems)


def test_inline_tool_table_is_found_and_project_named_agentos_is_not_config(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "agentos-x"\n[project.scripts]\nagentos = "m:f"\n',
                                             encoding="utf-8")
    assert find_config(tmp_path) is None or find_config(tmp_path) != tmp_path / "pyproject.toml"
    (tmp_path / "pyproject.toml").write_text('[tool]\nagentos = {format = "json"}\n', encoding="utf-8")
    assert find_config(tmp_path) == tmp_path / "pyproject.toml"
    assert load_config(tmp_path)[0].format == "json"
