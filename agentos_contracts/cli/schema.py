"""``agentos schema KIND``: print a bundled JSON Schema, for editors and CI."""

from __future__ import annotations

import sys

from typing import Optional

import typer

from agentos_contracts.cli.options import FORMAT, Format, guarded, start, usage_error

SCHEMAS = {
    "AgentContract": "AgentContract.schema.json",
    "Workflow": "Workflow.schema.json",
    "Platform": "Platform.schema.json",
    "TaskSet": "TaskSet.schema.json",
    "PolicyTest": "PolicyTest.schema.json",
    "CompiledPolicy": "compiled-policy.schema.json",
    "BindingManifest": "binding-manifest.schema.json",
}


def command(
    kind: str = typer.Argument(..., help="AgentContract, Workflow, Platform, TaskSet, PolicyTest, CompiledPolicy or BindingManifest."),
    fmt: Optional[Format] = FORMAT,
) -> None:
    """Print the JSON Schema of a document kind (JSON whatever `--format` says: a schema is a JSON document)."""

    def run() -> int:
        from agentos_contracts.resources import schema_text
        from agentos_contracts.validate.suggest import did_you_mean

        chosen = start(fmt)

        match = {k.lower(): k for k in SCHEMAS}.get(kind.lower())
        if match is None:
            usage_error(f"unknown kind `{kind}`", did_you_mean(kind, SCHEMAS) or "one of: " + ", ".join(SCHEMAS),
                        json_doc={} if chosen is Format.json else None)
        sys.stdout.write(schema_text(SCHEMAS[match]))
        return 0

    guarded(run)
