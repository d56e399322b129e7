"""Project configuration: ``[tool.agentos]`` in ``pyproject.toml``, or ``agentos.toml``.

Found by walking up from the working folder, as ruff and uv find theirs, so CI lines
stay short; in one folder ``agentos.toml`` wins over ``pyproject.toml``, and a
``pyproject.toml`` without a ``[tool.agentos]`` table is passed over. Command-line flags
win over the file. Paths in the file (``platform``, ``output``, the globs of
``per-file-ignores``) are relative to the file's folder. Keys:

    platform = "contracts/platforms/city-edge.yaml"   # default --platform
    ignore = ["AC119"]                                 # added to every --ignore
    format = "text"                                    # default --format
    output = "agentos.sarif"                           # default -o/--output where it names a report file
    [tool.agentos.per-file-ignores]
    "contracts/legacy/*.yaml" = ["AC114"]
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentos_contracts import diagnostics as dg
from agentos_contracts.diagnostics import Diagnostic, Span

FILES = ("agentos.toml", "pyproject.toml")
_INLINE_TABLE = re.compile(rb"^\s*agentos\s*=\s*\{", re.MULTILINE)  # `agentos = {...}` inside a `[tool]` table
KEYS = ("platform", "ignore", "per-file-ignores", "format", "output")
FORMATS = ("text", "json", "sarif", "junit", "github")


@dataclass(frozen=True, slots=True)
class Config:
    """The settings in force; all empty when no file was found."""

    file: str | None = None
    platform: str | None = None
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (glob relative to the file's folder, codes)
    format: str | None = None
    output: str | None = None

    def ignored_in(self, file: str) -> frozenset[str]:
        """Codes silenced for ``file``: ``ignore`` plus every matching ``per-file-ignores`` glob."""
        codes = set(self.ignore)
        if self.per_file_ignores and self.file is not None and not file.startswith("<"):
            from fnmatch import fnmatch

            base = Path(self.file).parent
            try:
                rel = Path(os.path.relpath(Path(file).resolve(), base.resolve())).as_posix()
            except ValueError:
                rel = Path(file).as_posix()
            for glob, more in self.per_file_ignores:
                if fnmatch(rel, glob) or fnmatch(Path(file).as_posix(), glob):
                    codes.update(more)
        return frozenset(codes)


def find_config(start: Path) -> Path | None:
    """The nearest ``agentos.toml``, or ``pyproject.toml`` holding ``[tool.agentos]``, from ``start`` up."""
    for folder in (start, *start.parents):
        for name in FILES:
            candidate = folder / name
            if not candidate.is_file():
                continue
            if name == "agentos.toml":
                return candidate
            try:
                data = candidate.read_bytes()
            except OSError:
                return candidate  # reported by load_config rather than silently passed over
            if b"tool.agentos" not in data and not _INLINE_TABLE.search(data):
                continue  # most pyproject.toml files: no TOML parser needed (start-up budget)
            import tomllib

            try:
                if "agentos" in (tomllib.loads(data.decode("utf-8")).get("tool") or {}):
                    return candidate
            except (UnicodeDecodeError, tomllib.TOMLDecodeError):
                return candidate  # ours or not, a broken file is reported rather than silently passed over
    return None


def load_config(start: Path | None = None) -> tuple[Config, list[Diagnostic]]:
    """The configuration in force for ``start`` (default: the working folder), or its problems."""
    path = find_config((start or Path.cwd()).resolve())
    if path is None:
        return Config(), []
    import tomllib

    shown = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    span = Span.file_start(shown)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return Config(), [dg.make("AC905", span, file=shown, reason=str(exc))]
    table = data if path.name == "agentos.toml" else (data.get("tool") or {}).get("agentos") or {}
    problems: list[str] = []
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        problems.append(f"unknown key(s) {', '.join(f'`{k}`' for k in unknown)}; known: {', '.join(KEYS)}")
    base = path.parent

    def text(key: str) -> str | None:
        value = table.get(key)
        if value is None or isinstance(value, str):
            return value
        problems.append(f"`{key}` must be a string")
        return None

    def codes(value: Any, key: str) -> tuple[str, ...]:
        if isinstance(value, list) and all(isinstance(c, str) for c in value):
            return tuple(c.strip().upper() for c in value)
        problems.append(f"`{key}` must be a list of codes, e.g. [\"AC119\"]")
        return ()

    fmt = text("format")
    if fmt is not None and fmt not in FORMATS:
        problems.append(f"`format` must be one of {', '.join(FORMATS)}")
    per_file: list[tuple[str, tuple[str, ...]]] = []
    raw = table.get("per-file-ignores", {})
    if isinstance(raw, dict):
        per_file = [(str(glob), codes(v, f"per-file-ignores.{glob}")) for glob, v in sorted(raw.items())]
    else:
        problems.append("`per-file-ignores` must be a table of glob = [codes]")
    platform, output = text("platform"), text("output")
    ignore = codes(table.get("ignore", []), "ignore")
    if problems:
        return Config(), [dg.make("AC905", span, file=shown, reason="; ".join(problems))]
    return Config(
        file=str(path),
        platform=_relative(base / platform) if platform else None,
        ignore=ignore,
        per_file_ignores=tuple(per_file),
        format=fmt,
        output=_relative(base / output) if output else None,
    ), []


def _relative(path: Path) -> str:
    """A path from the config file's folder, as the user would type it from the working folder."""
    rel = os.path.relpath(path)
    return str(path) if rel.startswith("..") and path.is_absolute() and len(rel) > len(str(path)) else rel
