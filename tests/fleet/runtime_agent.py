"""One runtime in its own process: load a sealed manifest, decide CALLS fetches, record every one.

Usage: runtime_agent.py MANIFEST PUB AUDIT_DB CHECKPOINT_KEY CALLS PACE_S
"""

from __future__ import annotations

import sys
import time

from agentos_contracts.runtime import Runtime

TOOL = {"name": "web.fetch", "description": "fetch a page",
        "inputSchema": {"type": "object", "properties": {"host": {"type": "string"}, "path": {"type": "string"}},
                        "required": ["host"]}}


def main(manifest: str, pub: str, audit: str, checkpoint_key: str, calls: str, pace_s: str) -> None:
    with Runtime.load(manifest, pub, audit=audit, checkpoint_key=checkpoint_key, tools=[TOOL],
                      durability="batched", batch_size=16) as rt:
        for i in range(int(calls)):
            rt.authorize("web.fetch", {}, {"host": "permits.example.org", "path": f"/case/{i}"})
            if float(pace_s):
                time.sleep(float(pace_s))
        rt.finish()


if __name__ == "__main__":
    main(*sys.argv[1:])
