"""Checks that need more than one document: workflows against the contracts given
with them, contracts against a platform's tenants and roles, unique names, and the
policies contracts name (parsed by the policy stage, imported only when needed).
"""

from __future__ import annotations

from typing import Iterator

from agentos_contracts.diagnostics import Diagnostic
from agentos_contracts.documents.loader import Document
from agentos_contracts.validate.contract import mapping
from agentos_contracts.validate.suggest import did_you_mean


def check_documents(docs: list[Document], *, check_policies: bool = True) -> Iterator[tuple[Document, list[Diagnostic]]]:
    by_kind: dict[str, list[Document]] = {}
    for doc in docs:
        by_kind.setdefault(doc.kind or "", []).append(doc)
    contracts: dict[str, Document] = {}
    for doc in by_kind.get("AgentContract", []):
        if doc.name is not None and doc.name not in contracts:
            contracts[doc.name] = doc
    yield from _unique_names(by_kind)
    workflows = by_kind.get("Workflow", [])
    if workflows:
        from agentos_contracts.validate.workflow import check_workflow

        for wf in workflows:
            found = check_workflow(wf, contracts if contracts else None)
            if contracts:
                found.extend(_agents_known(wf, contracts))
            yield wf, found
    platforms = by_kind.get("Platform", [])
    from agentos_contracts.validate.governance import check_governance, check_namespaces

    if platforms:
        for doc in by_kind.get("AgentContract", []):
            yield doc, list(_tenancy(doc, platforms)) + list(check_governance(doc, platforms,
                                                                              with_policies=check_policies))
    for doc, found in check_namespaces(by_kind.get("AgentContract", [])):
        yield doc, [found]
    if check_policies:
        schemas = _tool_schemas(platforms)
        for doc in by_kind.get("AgentContract", []):
            yield doc, _policies(doc, schemas)


def _unique_names(by_kind: dict[str, list[Document]]) -> Iterator[tuple[Document, list[Diagnostic]]]:
    for kind, docs in sorted(by_kind.items()):
        if kind == "PolicyTest":
            continue
        seen: dict[str, Document] = {}
        for doc in docs:
            if doc.name is None:
                continue
            if doc.name in seen:
                other = seen[doc.name]
                yield doc, [doc.diag("AC240", "/name", kind=kind, name=doc.name,
                                     other=f"{other.file}:{other.span('/name').line}")]
            else:
                seen[doc.name] = doc


def _agents_known(wf: Document, contracts: dict[str, Document]) -> Iterator[Diagnostic]:
    steps = wf.data.get("steps")
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        agent = step.get("agent") if isinstance(step, dict) else None
        if isinstance(agent, str) and agent not in contracts:
            hint = did_you_mean(agent, contracts) or "pass the agent's contract file alongside the workflow"
            yield wf.diag("AC208", f"/steps/{i}/agent", step=step.get("id"), agent=agent, hint=hint)


def _tenancy(doc: Document, platforms: list[Document]) -> Iterator[Diagnostic]:
    tenant, role = doc.data.get("tenant"), doc.data.get("role")
    if not isinstance(tenant, str):
        return
    for platform in platforms:
        tenants = {t.get("name"): t for t in platform.data.get("tenants") or [] if isinstance(t, dict)}
        pname = platform.name or platform.file
        if tenant not in tenants:
            yield doc.diag("AC222", "/tenant", tenant=tenant, platform=pname,
                           hint=did_you_mean(tenant, [t for t in tenants if isinstance(t, str)])
                           or "add the tenant to the platform's `tenants`")
            continue
        if isinstance(role, str):
            roles = [r.get("name") for r in tenants[tenant].get("roles") or [] if isinstance(r, dict)]
            if role not in roles:
                yield doc.diag("AC223", "/role", role=role, tenant=tenant, platform=pname,
                               hint=did_you_mean(role, [r for r in roles if isinstance(r, str)])
                               or f"add the role to tenant `{tenant}`'s `roles`")


def _tool_schemas(platforms: list[Document]) -> dict[str, object]:
    """Tool name → MCP inputSchema from the platforms given alongside (types `args.*` in policies)."""
    out: dict[str, object] = {}
    for platform in platforms:
        for tool in platform.data.get("tools") or []:
            if isinstance(tool, dict) and isinstance(tool.get("name"), str) and isinstance(tool.get("inputSchema"), dict):
                out.setdefault(tool["name"], tool["inputSchema"])
    return out


def _policies(doc: Document, tool_schemas: dict[str, object]) -> list[Diagnostic]:
    """Parse and check the policies a contract names (lark is loaded only here)."""
    from agentos_contracts.validate.contract import policy_paths

    existing = [(p, w, path) for p, w, path in policy_paths(doc) if path is not None and path.is_file()]
    if not existing:
        return []
    from agentos_contracts.policy import check_policy_files

    files = [str(path) for _, _, path in existing]
    return list(check_policy_files(files, contract=doc.data, tool_schemas=tool_schemas or None))
