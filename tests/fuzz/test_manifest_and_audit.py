"""Sealed manifests and audit databases edited at random.

- a manifest with any byte or value changed either loads to exactly what was signed or is
  refused (``ManifestRefused``), never an internal error and never a forged manifest;
- an audit log with any record row edited, deleted, inserted or reordered fails ``verify``
  with the public key (an edit of the checkpoints alone may pass, the records being intact),
  and ``verify`` never raises anything but ``AuditError`` (an unreadable file).
"""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.model.manifest import BindingManifest
from agentos_contracts.runtime import audit
from agentos_contracts.runtime.logstore import AuditError, read_log
from agentos_contracts.runtime.manifest import ManifestRefused, load_manifest
from agentos_contracts.seal import keys
from agentos_contracts.seal.manifest import seal_manifest

FUZZ = settings.get_profile("agentos-fuzz")
KEY = keys.generate_private_key()
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-2, 2**64), st.text(max_size=8),
                   st.sampled_from(["allow", "deny", "HRT", "sha256:" + "0" * 64, "*"]))
VALUES = st.recursive(LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=2),
                                                       st.dictionaries(st.text(max_size=5), inner, max_size=2)),
                      max_leaves=4)


@pytest.fixture(scope="module")
def sealed() -> Iterator[tuple[Path, bytes, Any]]:
    predicate = BindingManifest(agentos_version="0.1.0", kind="AgentContract", name="fuzz", tenant="city",
                                latency_class="SRT", binding_mode="smooth", capabilities=("web.fetch", "fs.read"),
                                consent_for=("email.send",))
    data = seal_manifest(predicate, [("contract:fuzz.yaml", b"contract")], KEY)
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp), data, load_manifest(_write(Path(tmp), "m", data), [KEY.public_key()]).manifest


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / f"{name}.manifest.json"
    path.write_bytes(data)
    return path


@settings(parent=FUZZ)
@given(st.data())
def test_an_edited_manifest_is_refused_or_is_what_was_signed(sealed: tuple[Path, bytes, Any], edits: Any,
                                                             data: st.DataObject) -> None:
    folder, original, signed = sealed
    how = data.draw(st.sampled_from(["bytes", "envelope", "payload"]), label="how")
    if how == "bytes":
        at = data.draw(st.integers(0, len(original) - 1), label="at")
        edited = original[:at] + bytes([data.draw(st.integers(0, 255), label="byte")]) + original[at + 1:]
    else:
        envelope = json.loads(original)
        if how == "envelope":
            path = data.draw(st.sampled_from(list(edits.places(envelope))), label="place")
            envelope = edits.replaced(envelope, path, data.draw(VALUES, label="value"))
        else:
            statement = json.loads(base64.b64decode(envelope["payload"]))
            path = data.draw(st.sampled_from(list(edits.places(statement))), label="place")
            statement = edits.replaced(statement, path, data.draw(VALUES, label="value"))
            envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
        edited = json.dumps(envelope).encode()
    try:
        loaded = load_manifest(_write(folder, "edited", edited), [KEY.public_key()])
    except ManifestRefused:
        return
    assert loaded.manifest == signed  # it loaded: then it is exactly what was signed


@pytest.fixture(scope="module")
def signed_log() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "base.db"
        with audit.AuditLog.open(log, checkpoint_key=KEY) as writer:
            for i in range(8):
                writer.append({"type": "tool.allowed", "trace_id": "t", "agent": "a", "tenant": "t",
                               "manifest": "sha256:" + "ab" * 32, "action": f"web.fetch{i}", "rules": [],
                               "decision": "allow", "stage": "policy", "reason": "r",
                               "args_digest": "sha256:" + "cd" * 32})
        yield log


EDITS = ["body", "hash", "seq", "delete", "insert", "swap", "checkpoint", "drop-checkpoints", "meta", "garbage"]


@settings(parent=FUZZ)
@given(st.sampled_from(EDITS), st.integers(1, 8), st.integers(1, 8), st.binary(min_size=1, max_size=40))
def test_an_edited_audit_log_fails_verification(signed_log: Path, edit: str, a: int, b: int, blob: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "edited.db"
        shutil.copy(signed_log, log)
        shutil.copy(str(signed_log) + ".checkpoint", str(log) + ".checkpoint")
        before = read_log(log).rows
        if edit == "garbage":
            with open(log, "r+b") as fh:
                fh.seek(min(a * 512, log.stat().st_size - 1))
                fh.write(blob)
        else:
            conn = sqlite3.connect(log)
            body = conn.execute("SELECT body FROM records WHERE seq = ?", (a,)).fetchone()[0]
            statement = {
                "body": ("UPDATE records SET body = ? WHERE seq = ?", (body[:-2] + blob + body[-1:], a)),
                "hash": ("UPDATE records SET hash = ? WHERE seq = ?", (blob.hex(), a)),
                "seq": ("UPDATE records SET seq = ? WHERE seq = ?", (100 + b, a)),
                "delete": ("DELETE FROM records WHERE seq = ?", (a,)),
                "insert": ("INSERT INTO records (seq, body, hash) VALUES (?, ?, ?)", (50 + b, body, blob.hex())),
                "swap": ("UPDATE records SET body = (SELECT body FROM records WHERE seq = ?) WHERE seq = ?", (b, a)),
                "checkpoint": ("UPDATE checkpoints SET envelope = ? WHERE seq = (SELECT max(seq) FROM checkpoints)",
                               (blob,)),
                "drop-checkpoints": ("DELETE FROM checkpoints WHERE seq >= ?", (a,)),
                "meta": ("UPDATE meta SET value = ? WHERE key = 'log'", (blob.hex(),)),
            }[edit]
            conn.execute(*statement)
            conn.commit()
            conn.close()
        try:
            report = audit.verify(log, [KEY.public_key()])
        except AuditError:
            return  # unreadable: reported as such (AC716), never trusted
        try:
            after = read_log(log).rows
        except AuditError:
            return
        if after != before or edit == "meta":  # the log's id is the chain's genesis
            assert not report.ok, (edit, a, b)
