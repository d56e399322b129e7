"""Types of tool arguments (``args.*``) from MCP ``inputSchema`` descriptors.

A Platform's ``tools[]`` carry an MCP ``inputSchema`` (JSON Schema). For a rule whose
targets are exactly such tools, ``args.<property>`` takes the property's type, so
``args.amount > "x"`` is a compile-time error and a string ``amount`` at run time
fails closed. Only plain shapes are read (``type``, ``properties``, ``items``);
anything fancier leaves the argument untyped rather than guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

_SCALARS = {"string": "string", "integer": "number", "number": "number", "boolean": "bool"}
_OBJECT = "object"
MAX_DEPTH = 8


def _json_type(schema: Any) -> str | None:
    if not isinstance(schema, Mapping):
        return None
    t = schema.get("type")
    if isinstance(t, list):
        rest = [x for x in t if x != "null"]  # null is absent to the policy
        t = rest[0] if len(rest) == 1 else None
    if not isinstance(t, str):  # `compile --platform` reads catalogs validate has not seen
        t = None
    if t in _SCALARS:
        return _SCALARS[t]
    if t == "array":
        inner = _json_type(schema.get("items"))
        return f"list<{inner}>" if inner in ("string", "number", "bool") else None
    if t == "object" or (t is None and isinstance(schema.get("properties"), Mapping)):
        return _OBJECT
    return None


def _flatten(schema: Mapping[str, Any], prefix: tuple[str, ...], out: dict[tuple[str, ...], str | None],
             depth: int) -> None:
    props = schema.get("properties")
    if not isinstance(props, Mapping) or depth > MAX_DEPTH:
        return
    for name, sub in props.items():
        if not isinstance(name, str):
            continue
        path = prefix + (name,)
        t = _json_type(sub)
        out[path] = None if t == _OBJECT else t
        if t == _OBJECT and isinstance(sub, Mapping):
            _flatten(sub, path, out, depth + 1)


@dataclass(slots=True)
class ArgTypes:
    """Arguments of the tools one rule targets: path (after `args`) → type (None: untyped)."""

    types: dict[tuple[str, ...], str | None] = field(default_factory=dict)
    has_properties: bool = False

    def get(self, path: tuple[str, ...], default: tuple[str | None, bool]) -> tuple[str | None, bool]:
        if path in self.types:
            return self.types[path], True
        if any(k[: len(path)] == path for k in self.types):
            return None, True
        return default

    def names(self) -> list[str]:
        return sorted(".".join(k) for k in self.types)


@dataclass(slots=True)
class ToolTypes:
    tools: dict[str, tuple[dict[tuple[str, ...], str | None], bool]] = field(default_factory=dict)

    @classmethod
    def from_schemas(cls, schemas: Mapping[str, Any]) -> ToolTypes:
        out = cls()
        for name, schema in schemas.items():
            if not isinstance(name, str) or not isinstance(schema, Mapping):
                continue
            types: dict[tuple[str, ...], str | None] = {}
            _flatten(schema, (), types, 0)
            out.tools[name] = (types, isinstance(schema.get("properties"), Mapping))
        return out

    def args_for(self, names: list[str]) -> ArgTypes | None:
        """Merged argument types of the named tools; None unless every one has a schema."""
        if not names or any(n not in self.tools for n in names):
            return None
        merged = ArgTypes(has_properties=all(self.tools[n][1] for n in names))
        seen: dict[tuple[str, ...], set[str | None]] = {}
        for n in names:
            for path, t in self.tools[n][0].items():
                seen.setdefault(path, set()).add(t)
        for path, ts in seen.items():
            merged.types[path] = ts.pop() if len(ts) == 1 else None
        return merged


def schemas_from_platform(data: Any) -> dict[str, Any]:
    """``{tool name: inputSchema}`` from a Platform document's data (stage-local converter)."""
    out: dict[str, Any] = {}
    tools = data.get("tools") if isinstance(data, Mapping) else None
    for tool in tools if isinstance(tools, list) else []:
        if isinstance(tool, Mapping) and isinstance(tool.get("name"), str) and isinstance(tool.get("inputSchema"), Mapping):
            out[tool["name"]] = tool["inputSchema"]
    return out
