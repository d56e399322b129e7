"""ENFORCE: the thin runtime that obeys sealed manifests.

``Runtime`` and ``PolicyDenied`` are loaded on first use, so importing this package
(or one of its light modules, such as ``chain``) loads nothing heavy.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Runtime", "PolicyDenied", "Decision", "ManifestRefused"]


def __getattr__(name: str) -> Any:
    if name in ("Runtime", "PolicyDenied"):
        from agentos_contracts.runtime import engine

        return getattr(engine, name)
    if name == "Decision":
        from agentos_contracts.runtime.authorize import Decision

        return Decision
    if name == "ManifestRefused":
        from agentos_contracts.runtime.manifest import ManifestRefused

        return ManifestRefused
    raise AttributeError(f"module 'agentos_contracts.runtime' has no attribute {name!r}")
