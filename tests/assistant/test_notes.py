"""The research notes in data/notes/ are curated data too: one per project, every source
they cite listed in data/sources.yaml, every citation dated, the header's source list equal
to what the body cites, and no citation dated after the note's own "As of"."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

DATA = Path(__file__).resolve().parents[2] / "data"
NOTES = sorted((DATA / "notes").glob("*.md"))
GROUP = re.compile(r"\(([^()]*?, as of \d{4}-\d{2}-\d{2}[^()]*)\)")  # (a, as of D; b, as of E)
CITATION = re.compile(r"^([a-z0-9-]+(?:, [a-z0-9-]+)*), as of (\d{4}-\d{2}-\d{2})$")


def citations(text: str) -> list[tuple[str, str]]:
    """(source ids, as-of day) of every citation: "(id, as of day)", several ids before one
    date, or several citations in one parenthesis separated by ";"."""
    found = []
    for group in GROUP.findall(text):
        for part in group.split(";"):
            match = CITATION.match(part.strip())
            assert match, f"not a citation: ({group})"
            found.append((match.group(1), match.group(2)))
    return found


def source_ids() -> set[str]:
    doc = yaml.safe_load((DATA / "sources.yaml").read_text(encoding="utf-8"))
    return {s["id"] for s in doc["sources"]}


def test_one_note_per_project() -> None:
    projects = {p.stem for p in (DATA / "projects").glob("*.yaml")}
    assert {n.stem for n in NOTES} == projects


@pytest.mark.parametrize("note", NOTES, ids=lambda p: p.stem)
def test_a_note_cites_known_sources_with_dates(note: Path) -> None:
    text = note.read_text(encoding="utf-8")
    header = re.search(r"^Sources: (.+)$", text, re.M)
    as_of = re.search(r"^As of: (\d{4}-\d{2}-\d{2})$", text, re.M)
    assert header, f"{note.name}: needs a 'Sources:' line"
    assert as_of, f"{note.name}: needs an 'As of:' line"
    listed = {s.strip() for s in header.group(1).split(",")}
    cited: set[str] = set()
    for ids, day in citations(text):
        cited |= {i.strip() for i in ids.split(",")}
        assert date.fromisoformat(day) <= date.fromisoformat(as_of.group(1)), (note.name, day)
    dated = len(re.findall(r", as of \d{4}-\d{2}-\d{2}", text))
    assert dated == len(citations(text)), f"{note.name}: a dated citation is malformed"
    known = source_ids()
    assert cited, f"{note.name} cites nothing"
    assert cited <= known, f"{note.name} cites unknown sources: {sorted(cited - known)}"
    assert listed == cited, f"{note.name}: 'Sources:' line differs from what the body cites"
