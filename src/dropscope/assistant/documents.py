"""Documents of the research corpus and their chunks, with stable ids and URIs.

A document is a rendered card (`project://starknet`, `investor://paradigm`,
`airdrop://arbitrum`) or a research note (`note://starknet`). A card is one chunk whose id
is the document's URI; a note is cut at its `## ` headings into chunks `note://starknet#1`,
`#2`, ... (the number of the section, so ids stay put while sections keep their order).
Every chunk carries the content hash that incremental re-indexing keys on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

MAX_CHUNK_WORDS = 180  # MiniLM reads at most 256 word pieces; longer sections are split


@dataclass(frozen=True, slots=True)
class Document:
    """A whole document: `id` is its URI; `metadata` holds kind, slug, sources, as-of."""

    id: str
    title: str
    text: str
    kind: str
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.id

    @property
    def digest(self) -> str:
        return content_hash(self.title, self.text)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrievable passage of a document; `title` includes the section heading."""

    id: str
    doc_id: str
    title: str
    text: str
    digest: str

    @property
    def url(self) -> str:
        return self.id


def content_hash(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode())
        h.update(b"\x00")
    return h.hexdigest()[:24]


def doc_id_of(item_id: str) -> str:
    """`note://starknet#2` → `note://starknet`; a document id is returned unchanged."""
    return item_id.split("#", 1)[0]


def _split_long(text: str) -> list[str]:
    """Paragraph groups of at most MAX_CHUNK_WORDS words (a longer paragraph stays whole)."""
    parts: list[str] = []
    current: list[str] = []
    words = 0
    for para in [p.strip() for p in text.split("\n\n") if p.strip()]:
        n = len(para.split())
        if current and words + n > MAX_CHUNK_WORDS:
            parts.append("\n\n".join(current))
            current, words = [], 0
        current.append(para)
        words += n
    if current:
        parts.append("\n\n".join(current))
    return parts or [text.strip()]


def chunk(doc: Document) -> list[Chunk]:
    """Cut a document into chunks (see the module docstring)."""
    if doc.kind != "note":
        return [Chunk(doc.id, doc.id, doc.title, doc.text, content_hash(doc.title, doc.text))]
    sections: list[tuple[str, str]] = []
    heading = ""
    lines: list[str] = []
    for line in doc.text.splitlines():
        if line.startswith("## "):
            if "".join(lines).strip():
                sections.append((heading, "\n".join(lines).strip()))
            heading, lines = line[3:].strip(), []
        elif line.startswith("# "):
            continue  # the document title
        else:
            lines.append(line)
    if "".join(lines).strip():
        sections.append((heading, "\n".join(lines).strip()))
    out: list[Chunk] = []
    for heading, body in sections:
        for part in _split_long(body):
            n = len(out) + 1
            title = f"{doc.title} — {heading}" if heading else doc.title
            out.append(Chunk(f"{doc.id}#{n}", doc.id, title, part, content_hash(title, part)))
    return out
