"""Access to the shipped ``grammar/`` and ``schemas/`` folders.

Installed, they live inside the package (``agentos_contracts/grammar``); in a source
checkout they are the top-level folders beside the package. Both are tried, so tests
run the same way from a checkout and from a wheel.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

_CHECKOUT = Path(__file__).resolve().parent.parent


def _read(folder: str, name: str) -> str:
    try:
        return (resources.files(f"agentos_contracts.{folder}") / name).read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        return (_CHECKOUT / folder / name).read_text("utf-8")


@lru_cache(maxsize=None)
def grammar_text(name: str) -> str:
    """The text of ``grammar/<name>``."""
    return _read("grammar", name)


@lru_cache(maxsize=None)
def schema_text(name: str) -> str:
    """The text of ``schemas/<name>``."""
    return _read("schemas", name)


@lru_cache(maxsize=None)
def schema(name: str) -> dict[str, Any]:
    """A parsed JSON Schema from ``schemas/<name>``; cached, so do not mutate it."""
    return json.loads(schema_text(name))


@lru_cache(maxsize=None)
def doc_text(name: str) -> str:
    """The text of ``docs/<name>`` (only ``codes.md`` ships in the wheel, for ``agentos explain``)."""
    return _read("docs", name)
