"""Paths: files, folders searched recursively, '-', missing files, size limits."""

from __future__ import annotations

from pathlib import Path

from agentos_contracts.documents.discover import MAX_BYTES, find_files, read_source


def test_folders_are_searched_recursively_and_sorted(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    for name in ("b/z.yml", "a.yaml", "b/c.yaml", "notes.txt"):
        (tmp_path / name).write_text("x: 1\n")
    files, diags = find_files([str(tmp_path)])
    assert not diags
    assert [Path(f).relative_to(tmp_path).as_posix() for f in files] == ["a.yaml", "b/c.yaml", "b/z.yml"]


def test_missing_path_is_an_io_diagnostic(tmp_path: Path) -> None:
    files, diags = find_files([str(tmp_path / "nope.yaml")])
    assert files == [] and [d.code for d in diags] == ["AC001"]


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:
        fh.seek(50 * 1024 * 1024)
        fh.write(b"\n")
    assert big.stat().st_size > MAX_BYTES
    source, diags = read_source(str(big))
    assert source is None and [d.code for d in diags] == ["AC007"]
