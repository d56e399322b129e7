"""Whole files: read, rewrite every paper-form document, diff, and (with ``--write``) write.

A file's documents are rewritten together so a multi-document file keeps its order and
separators. Generated policy files land next to the source; one that exists with other
content is never overwritten (AC053).
"""

from __future__ import annotations

import difflib
import io
from dataclasses import dataclass, field
from pathlib import Path
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from agentos_contracts.migrate import rules
from agentos_contracts.migrate.rewrite import (Change, Migration, Problem, migrate_contract, migrate_workflow,
                                              tidy_canonical)


@dataclass(slots=True)
class FileMigration:
    """What migrating one file does: the new text, the log, the side files, and whether anything changes."""

    file: str
    original: str
    text: str
    migrations: list[Migration] = field(default_factory=list)
    generated: dict[str, str] = field(default_factory=dict)  # path (as the user would name it) -> text
    problems: list[Problem] = field(default_factory=list)
    by_index: dict[int, Migration] = field(default_factory=dict)  # document index in the file -> its rewrite

    @property
    def changed(self) -> bool:
        return self.text != self.original or any(self._differs(p, t) for p, t in self.generated.items())

    @property
    def changes(self) -> list[Change]:
        return sorted((c for m in self.migrations for c in m.changes), key=lambda c: (c.line, c.column))

    def diff(self) -> str:
        out = "".join(difflib.unified_diff(self.original.splitlines(True), self.text.splitlines(True),
                                           fromfile=_side("a", self.file), tofile=_side("b", self.file)))
        for path, text in sorted(self.generated.items()):
            old = Path(path).read_text(encoding="utf-8") if Path(path).is_file() else ""
            out += "".join(difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                                fromfile=_side("a", path) if old else "/dev/null",
                                                tofile=_side("b", path)))
        return out

    @staticmethod
    def _differs(path: str, text: str) -> bool:
        p = Path(path)
        return not p.is_file() or p.read_text(encoding="utf-8") != text


def _side(prefix: str, path: str) -> str:
    """git's ``a/``/``b/`` prefixes for relative paths; an absolute path stays as it is."""
    return path if Path(path).is_absolute() else f"{prefix}/{path}"


def round_trip() -> YAML:
    """The one ruamel configuration: keep quotes, comments and flow style; two-space blocks."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def migrate_text(name: str, text: str) -> FileMigration:
    """Rewrite every paper-form document of ``text``; raises YAMLError when it does not parse."""
    yaml = round_trip()
    docs = list(yaml.load_all(text))
    stem = Path(name).name.rsplit(".", 1)[0] if name != "-" else "stdin"
    result = FileMigration(file=name, original=text, text=text)
    for index, doc in enumerate(docs):
        if not isinstance(doc, CommentedMap):
            continue
        kind = rules.paper_kind(doc)
        if kind == "Workflow":
            mig = migrate_workflow(doc, file_stem=stem)
        elif kind == "AgentContract":
            mig = migrate_contract(doc)
        elif doc.get("apiVersion") == rules.API_VERSION and doc.get("kind") == "AgentContract":
            mig = tidy_canonical(doc)
            if not mig.changes:
                continue
        else:
            continue
        result.migrations.append(mig)
        result.by_index[index] = mig
        result.problems.extend(mig.problems)
        base = Path(name).parent if name != "-" else Path(".")
        for file, body in mig.generated.items():
            path = str(base / file)
            if Path(path).is_file() and Path(path).read_text(encoding="utf-8") != body:
                result.problems.append(Problem(line=1, column=1, code="AC053", args={"file": path}))
            else:
                result.generated[path] = body
    if result.migrations:
        out = io.StringIO()
        if len(docs) == 1:
            yaml.dump(docs[0], out)
        else:
            yaml.explicit_start = text.lstrip().startswith("---")
            yaml.dump_all(docs, out)
        result.text = out.getvalue()
    return result


def write(result: FileMigration) -> None:
    """Write the rewritten file and its side files (atomically each: write, then rename)."""
    targets: dict[str, str] = dict(result.generated)
    if result.text != result.original:
        targets[result.file] = result.text
    for path, text in targets.items():
        tmp = Path(path + ".agentos-migrate.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)


__all__ = ["FileMigration", "migrate_text", "write", "YAMLError", "round_trip"]
