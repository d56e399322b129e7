"""Plain values → YAML text that our own loader (YAML 1.2 core) reads back as the same values.

Generated files (Kubernetes manifests, custom-resource forms of documents) must round-trip:
PyYAML writes YAML 1.1, where `1e3` is a string but YAML 1.2 reads a number, so any string
our loader would not read back as itself is written quoted. Output is deterministic: key order
is the caller's, no timestamps, no anchors.
"""

from __future__ import annotations

from typing import Any, Iterable

import yaml

from agentos_contracts.documents.loader import resolve_plain


class _Dumper(yaml.SafeDumper):
    """Safe dumping with 1.2-safe strings and no aliases (repeated values are written out)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    quoted = not value or resolve_plain(value) != value or value != value.strip() or not value.isprintable()
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"' if quoted else None)


_Dumper.add_representer(str, _str)


def dump_yaml(documents: Iterable[Any]) -> str:
    """Documents separated by `---`, block style, keys in the order given."""
    return yaml.dump_all(list(documents), Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=100, explicit_start=True)
