"""MCP ``inputSchema`` checks for the tools a manifest binds, accepted only by their sealed digest.

The manifest pins each bound tool's MCP descriptor by ``descriptorDigest``. A descriptor
is used only if its canonical digest equals that pin, so whoever hands the runtime the
descriptors (the manifest itself, or the platform catalog) cannot loosen a schema. A
bound tool without a matching descriptor gets no validator, and every call to it is
denied: arguments nobody can check are not let through.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import jsonschema
from jsonschema.exceptions import best_match

from agentos_contracts.schemacheck import Check, Failure, compile_schema
from agentos_contracts.seal.canonical import CanonicalError, canonical_digest

# the MCP tool descriptor fields a catalog entry carries (modelcontextprotocol.io, "Tool"), as
# validate/build.py cuts them out for admission to pin: a catalog entry also has version, rtt, placement
MCP_FIELDS = ("name", "description", "inputSchema", "outputSchema", "annotations")


class ToolSchemaError(ValueError):
    """A descriptor whose digest matches but whose ``inputSchema`` is not a valid JSON Schema."""


class ArgsSchema:
    """One tool's compiled argument validator; reasons name the place and keyword, never the value."""

    __slots__ = ("tool", "_validator", "_fast")

    def __init__(self, tool: str, input_schema: Mapping[str, Any]) -> None:
        cls = jsonschema.validators.validator_for(input_schema, default=jsonschema.Draft202012Validator)
        try:
            cls.check_schema(input_schema)
        except jsonschema.SchemaError as exc:
            raise ToolSchemaError(f"tool `{tool}` has an invalid inputSchema: {exc.message}") from None
        self.tool = tool
        self._validator = cls(input_schema)
        self._fast = compile_schema(input_schema) if cls is jsonschema.Draft202012Validator else None

    @property
    def quick(self) -> Check | None:
        """The compiled check alone (None = valid; else the failing place and keyword, for
        ``explain``), or None when jsonschema decides for this schema."""
        return self._fast

    def problem(self, args: Mapping[str, Any]) -> str | None:
        if self._fast is not None:
            failed = self._fast(args)
            return None if failed is None else self.explain(failed)
        if self._validator.is_valid(args):
            return None
        error = best_match(self._validator.iter_errors(args))
        return self.explain((tuple(error.absolute_path), str(error.validator)) if error else ((), "schema"))

    def explain(self, failed: Failure) -> str:
        """The reason for a failed check: the place (a JSON Pointer) and the keyword, never a value."""
        path, keyword = failed
        where = "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path) if path else "/"
        return f"arguments of `{self.tool}` fail the MCP inputSchema at `{where}` (`{keyword}`)"


def descriptor_candidates(entry: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The descriptor as given, and its MCP fields alone (how a catalog entry is pinned)."""
    mcp = {k: entry[k] for k in MCP_FIELDS if k in entry}
    return [entry, mcp] if mcp != dict(entry) else [entry]


def match_descriptors(pins: Mapping[str, str], offered: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """For each bound tool name → the offered descriptor whose digest equals its pin."""
    by_digest: dict[str, Mapping[str, Any]] = {}
    for entry in offered:
        if not isinstance(entry, Mapping):
            continue
        for candidate in descriptor_candidates(entry):
            try:
                by_digest.setdefault(canonical_digest(dict(candidate)), candidate)
            except CanonicalError:
                continue
    return {name: by_digest[pin] for name, pin in pins.items() if pin in by_digest}


def build_validators(pins: Mapping[str, str], offered: Iterable[Mapping[str, Any]]) -> dict[str, ArgsSchema | None]:
    """Validators for every bound tool (None where no descriptor matched its pin)."""
    found = match_descriptors(pins, offered)
    out: dict[str, ArgsSchema | None] = {}
    for name in pins:
        descriptor = found.get(name)
        schema = descriptor.get("inputSchema") if descriptor is not None else None
        out[name] = ArgsSchema(name, schema) if isinstance(schema, Mapping) else None
    return out
