"""The document as semantic checks may see it: every value the schema rejected taken out.

Semantic checks read values whose shape the schema promises (a placement is a string or
a list of strings, a data type is a name or a one-element list). Guarding every read in
every check is a promise nobody keeps for long: a mapping where a string belongs once
reached a set and crashed ``validate``. So the pipeline hands each check a view in which
a rejected value reads as ``null``: the key stays (so no check reports it missing on top
of the schema's finding) and list indexes stay (so the pointers of its siblings do). The
schema has already reported the value, with its place; the checks simply cannot see it.

Keywords about which keys a mapping holds (``required``, ``additionalProperties``) do
not reject the mapping itself: its other values are still checked.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable

from agentos_contracts.documents import pointer as ptr
from agentos_contracts.documents.loader import Document

# a mapping missing a key or holding an unknown one is still a mapping of the right shape
KEYS_ONLY = frozenset({"required", "additionalProperties", "dependentRequired", "unevaluatedProperties"})


def rejected_pointers(errors: Iterable[Any]) -> set[str]:
    """JSON Pointers of the values a schema rejected (from jsonschema's errors)."""
    return {ptr.from_parts(err.absolute_path) for err in errors if err.validator not in KEYS_ONLY}


def accepted_view(doc: Document, rejected: set[str]) -> Document | None:
    """``doc`` with the values at ``rejected`` read as null; None when the whole document is rejected.

    Only containers on the way to a removed value are copied: the caller's document
    (and the values later stages read from it) stays untouched.
    """
    if not rejected:
        return doc
    if "" in rejected:
        return None
    return dataclasses.replace(doc, data=_without(doc.data, rejected))


def _without(data: Any, rejected: set[str]) -> Any:
    root = _shallow(data)
    copies = {id(root)}
    # ancestors first: once a value is gone, pointers inside it have nothing left to remove
    for pointer in sorted(rejected, key=lambda p: (p.count("/"), p)):
        parts = ptr.split(pointer)
        parent = root
        for token in parts[:-1]:
            key = _key(parent, token)
            if key is None:
                break
            child = parent[key]
            if not isinstance(child, (dict, list)):
                break
            if id(child) not in copies:
                child = _shallow(child)
                copies.add(id(child))
                parent[key] = child
            parent = child
        else:
            key = _key(parent, parts[-1])
            if key is not None:
                parent[key] = None
    return root


def _key(container: Any, token: str) -> Any:
    """The dict key or list index ``token`` names in ``container``, or None when absent."""
    if isinstance(container, dict):
        return token if token in container else None
    if isinstance(container, list) and token.isdigit() and int(token) < len(container):
        return int(token)
    return None


def _shallow(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return value
