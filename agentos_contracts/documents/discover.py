"""Turn command-line paths into sources: files, folders (searched recursively) and ``-``.

This is the only directory walker, so every command treats paths the same way.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from agentos_contracts import diagnostics as dg
from agentos_contracts.diagnostics import Diagnostic, Span

YAML_PATTERNS = ("*.yaml", "*.yml")
POLICY_PATTERNS = ("*.policy", "*.dsl")
MAX_BYTES = 10 * 1024 * 1024
STDIN = "-"
_stdin_name: str | None = None  # --stdin-filename: the path standard input stands for


def set_stdin_filename(path: str | None) -> None:
    """Name standard input (ruff's ``--stdin-filename``): diagnostics say PATH, relative paths resolve against it."""
    global _stdin_name
    _stdin_name = path or None


def stdin_display() -> str:
    return _stdin_name or STDIN


def is_stdin(name: str) -> bool:
    return name == STDIN or (_stdin_name is not None and name == _stdin_name)


@dataclass(frozen=True, slots=True)
class Source:
    """Raw bytes of one input, named as the user named it (``-`` for stdin)."""

    name: str
    data: bytes
    path: Path | None  # None for standard input


def find_files(paths: list[str], patterns: tuple[str, ...] = YAML_PATTERNS) -> tuple[list[str], list[Diagnostic]]:
    """Expand folders into the matching files they hold, sorted; keep files and ``-`` as given."""
    out: list[str] = []
    diags: list[Diagnostic] = []
    for p in paths:
        if p == STDIN:
            out.append(stdin_display())
            continue
        path = Path(p)
        if path.is_dir():
            found = sorted({f for pat in patterns for f in path.rglob(pat) if f.is_file()})
            out.extend(_display(p, f) for f in found)
        elif path.exists():
            out.append(p)
        else:
            diags.append(dg.make("AC001", Span.file_start(p), file=p, reason="no such file or directory"))
    return out, diags


def _display(given: str, found: Path) -> str:
    """Keep found paths relative to what the user typed (never made absolute)."""
    return str(found) if not given.startswith("./") else "./" + str(found)


def read_source(name: str, max_bytes: int = MAX_BYTES) -> tuple[Source | None, list[Diagnostic]]:
    """Read one input, refusing oversized files before reading them whole."""
    span = Span.file_start(name)
    try:
        if is_stdin(name):
            data = sys.stdin.buffer.read(max_bytes + 1)
            path = Path(_stdin_name) if _stdin_name else None
        else:
            path = Path(name)
            size = path.stat().st_size
            if size > max_bytes:
                return None, [dg.make("AC007", span, size=size, limit=max_bytes)]
            data = path.read_bytes()
    except OSError as exc:
        return None, [dg.make("AC001", span, file=name, reason=exc.strerror or str(exc))]
    if len(data) > max_bytes:
        return None, [dg.make("AC007", span, size=f"more than {max_bytes}", limit=max_bytes)]
    return Source(name, data, path), []
