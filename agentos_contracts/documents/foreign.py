"""Which YAML is ours: folder scans skip documents that are not agentos documents.

A repository holds plenty of YAML that is not ours (CI workflows, Helm values,
``.pre-commit-config.yaml``). Like kubeconform's ``-ignore-missing-schemas``, a document
found by searching a folder is checked only when its ``apiVersion`` names our group
(``agentos/...``, or the custom-resource group ``agentos.dev/...``); anything else is
skipped with a note. A file named on the command line is always checked, and
``--strict`` checks skipped documents too.
"""

from __future__ import annotations

import re
from typing import Any

from agentos_contracts import diagnostics as dg
from agentos_contracts.diagnostics import Diagnostic, Span

PREFIXES = ("agentos/", "agentos.dev/")
_API_LINE = re.compile(r"^\s*[\"']?apiVersion[\"']?\s*:\s*[\"']?agentos(?:\.dev)?/", re.MULTILINE)


def foreign_reason(data: Any) -> str | None:
    """Why a document is not ours, or None when its ``apiVersion`` names our group."""
    if not isinstance(data, dict):
        return "its top level is not a mapping"
    version = data.get("apiVersion")
    if version is None:
        if paper_kind(data):
            return "it has no `apiVersion`; it looks like the Agent-OS paper's form, which `agentos migrate` rewrites"
        return "it has no `apiVersion`"
    if isinstance(version, str) and version.startswith(PREFIXES):
        return None
    return f"`apiVersion: {version}` is not `agentos/...`"


def paper_kind(data: Any) -> str | None:
    """The kind a document written the Agent-OS paper's way migrates to, or None.

    The paper's form has no ``apiVersion`` and names itself with ``agent:`` or ``workflow:``
    (or carries ``latency_class``). A document with an ``apiVersion`` is never guessed at: an
    unknown one stays AC012.
    """
    if not isinstance(data, dict) or "apiVersion" in data:
        return None
    if "workflow" in data and "steps" in data:
        return "Workflow"
    if "agent" in data or "latency_class" in data:
        return "AgentContract"
    return None


def mentions_agentos(text: str) -> bool:
    """Whether unparseable text still claims to be ours (then its errors are reported)."""
    return _API_LINE.search(text) is not None


def skipped_note(span: Span, reason: str) -> Diagnostic:
    return dg.make("AC017", span, reason=reason)
