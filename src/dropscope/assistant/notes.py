"""Research notes: markdown files under `<data dir>/notes/<slug>.md`, one per project.

A note starts with `# Title`, then a `Sources:` line (source ids from data/sources.yaml)
and an `As of:` line, then `## ` sections. Notes are data: whatever they say is retrieved
and quoted, never obeyed.
"""

from __future__ import annotations

import re
from pathlib import Path

from dropscope.assistant.documents import Document

_FIELD = re.compile(r"^(Sources|As of):\s*(.+)$", re.MULTILINE)


def read_notes(folder: Path) -> list[Document]:
    """Every `*.md` in `folder` as a note document `note://<file stem>` (none if absent)."""
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        first = text.lstrip().splitlines()[0] if text.strip() else ""
        title = first[2:].strip() if first.startswith("# ") else path.stem
        fields = {k: v.strip() for k, v in _FIELD.findall(text)}
        meta = {
            "kind": "note",
            "slug": path.stem,
            "sources": ",".join(s.strip() for s in fields.get("Sources", "").split(",") if s),
            "as_of": fields.get("As of", ""),
            "path": f"notes/{path.name}",
        }
        out.append(Document(f"note://{path.stem}", title, text, "note", meta))
    return out


def notes_fingerprint(folder: Path) -> str:
    """Changes whenever a note is added, removed or edited (names, sizes, mtimes)."""
    if not folder.is_dir():
        return ""
    parts = []
    for p in sorted(folder.glob("*.md")):
        st = p.stat()
        parts.append(f"{p.name}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)
