"""Deterministic step implementations of the city_permit_assistant workflow (004, section 4.3).

Run them under the runtime, e.g.:

    agentos run city_permit_assistant.manifest.json --steps contracts/workflows/city_permit_steps.py:STEPS \\
        --pub keys/agentos.pub --audit permit-audit.db --tools contracts/platforms/city-edge.yaml \\
        --input user_query="do I need a permit for a deck?"

Every effect goes through ``ctx.call(action, args, fn)``, so the runtime decides it (capability
ceiling, policy, the tool's MCP inputSchema, budgets), asks for consent where the contract says
so, and records it. The "web" is the folder ``data/`` beside this file: no network, same answer
every time. The browser also tries to cache each page with ``fs.write``, which its contract
forbids: the runtime blocks and records that call, and the step carries on without the cache.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DATA = Path(__file__).resolve().parent / "data"
WORD = re.compile(r"[a-z]+")
STOP = frozenset("a an and the for to of do i is it in on my me need needs with what how".split())


def _words(text: str) -> set[str]:
    return {w for w in WORD.findall(text.lower()) if w not in STOP}


# --- the tools: what each guarded call actually does ----------------------------------------------


def _plan_sources(query: str) -> list[str]:
    index = json.loads((DATA / "index.json").read_text(encoding="utf-8"))
    urls: list[str] = []
    for keyword in sorted(_words(query)):
        for url in index.get(keyword, ()):
            if url not in urls:
                urls.append(url)
    return urls


def _fetch_local(url: str, host: str) -> str:
    """web.fetch over the local mirror: `https://HOST/PATH` is `data/HOST/PATH`."""
    parts = urlsplit(url)
    if parts.hostname != host:
        raise ValueError("url and host disagree")
    target = (DATA / host / parts.path.lstrip("/")).resolve()
    if DATA.resolve() not in target.parents:
        raise ValueError("path leaves the mirror")
    return target.read_text(encoding="utf-8")


def _cache_page(path: str, content: str) -> None:  # never runs: the contract denies fs.write
    raise AssertionError("fs.write must have been blocked by the runtime")


def _summarize(documents: list[str], query: str) -> str:
    wanted = _words(query)
    lines: list[str] = []
    for doc in documents:
        for para in re.findall(r"<p>(.*?)</p>", doc, flags=re.S):
            text = html.unescape(re.sub(r"<[^>]+>", "", para)).strip()
            if wanted & _words(text) and text not in lines:
                lines.append(text)
    return "\n".join(f"- {line}" for line in lines) or "- no matching guidance found"


def _send_email(to: str, body: str) -> str:
    """A stand-in mail server: returns the message id it would have used."""
    return "msg-" + hashlib.sha256(f"{to}\n{body}".encode("utf-8")).hexdigest()[:16]


# --- the steps -------------------------------------------------------------------------------------


def plan(inputs: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Planner: which pages answer the question (tools.plan)."""
    query = str(inputs["user_query"])
    urls = ctx.call("tools.plan", {"query": query}, lambda query: _plan_sources(query))
    return {"plan": urls}


def browse(inputs: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Browser: fetch each planned page (web.fetch); try to cache it (fs.write, blocked)."""
    from agentos_contracts.runtime import PolicyDenied

    pages: list[str] = []
    blocked: list[str] = []
    for url in inputs["plan"]:
        host = urlsplit(url).hostname or ""
        try:
            page = ctx.call("web.fetch", {"url": url, "host": host}, _fetch_local)
        except PolicyDenied as denied:
            blocked.append(f"web.fetch {url}: {denied.reason}")
            continue
        pages.append(page)
        try:
            ctx.call("fs.write", {"path": f"cache/{host}{urlsplit(url).path}", "content": page}, _cache_page)
        except PolicyDenied as denied:
            blocked.append(f"fs.write: {denied.reason}")
    return {"pages": pages, "sources": [u for u in inputs["plan"]], "blocked": blocked}


def summarize(inputs: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Summariser: the sentences of the pages that answer the question, with citations."""
    query = str(inputs["user_query"])
    answer = ctx.call("summarize", {"documents": list(inputs["pages"])},
                      lambda documents: _summarize(documents, query), usage=lambda text: {"tokens": len(text.split())})
    return {"answer": answer, "citations": list(inputs["sources"])}


def approve_send(inputs: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """HITL approval: the exact e-mail is shown to a person; only an approval of it sends it."""
    to = str(inputs.get("applicant", "applicant@example.org"))
    body = f"{inputs['answer']}\n\nSources:\n" + "\n".join(f"- {c}" for c in inputs["citations"])
    message_id = ctx.call("email.send", {"to": to, "body": body}, _send_email)
    return {"message_id": message_id}


STEPS = {"plan": plan, "browse": browse, "summarize": summarize, "approve_send": approve_send}
