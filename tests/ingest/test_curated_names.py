"""Names in the curated data files: unique across projects, and free of control and format
characters; each problem a DataFileError naming the file and the field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from dropscope.errors import DataFileError
from dropscope.ingest.curated import read_dataset
from tests.ingest.conftest import TODAY


def edit(path: Path, **values: object) -> None:
    doc = yaml.safe_load(path.read_text())
    doc.update(values)
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))


def problems(folder: Path) -> list[tuple[str, str, str]]:
    with pytest.raises(DataFileError) as info:
        read_dataset(folder, today=TODAY)
    return info.value.problems


def test_a_project_named_after_another_is_refused(data_copy: Path) -> None:
    shutil.copy(data_copy / "projects" / "linea.yaml", data_copy / "projects" / "aaa-fake.yaml")
    edit(data_copy / "projects" / "aaa-fake.yaml", slug="aaa-fake", name="Scroll", aliases=[])
    edit(data_copy / "projects" / "ten.yaml", aliases=["Obscuro", "TYCO"])
    found = problems(data_copy)
    assert (
        "data/projects/aaa-fake.yaml",
        "name",
        "'Scroll' is already the slug of project 'scroll'",
    ) in found
    assert (
        "data/projects/scroll.yaml",
        "slug",
        "'scroll' is already the name of project 'aaa-fake'",
    ) in found
    assert (
        "data/projects/ten.yaml",
        "aliases[1]",
        "'TYCO' is already an alias of project 'taiko'",
    ) in found


@pytest.mark.parametrize(
    ("file", "change", "where"),
    [
        ("projects/scroll.yaml", {"name": "Scroll\u202e"}, "name"),
        ("projects/scroll.yaml", {"aliases": ["Scr\u200boll"]}, "aliases[0]"),
        ("past_airdrops/arbitrum.yaml", {"name": "Arbitrum\u2067"}, "name"),
    ],
)
def test_control_and_format_characters_in_names_are_refused(
    data_copy: Path, file: str, change: dict[str, object], where: str
) -> None:
    edit(data_copy / file, **change)
    [(name, field, message)] = problems(data_copy)
    assert (name, field) == (f"data/{file}", where)
    assert "control or format character" in message


def test_an_investor_name_with_a_bidi_override_is_refused(data_copy: Path) -> None:
    path = data_copy / "investors.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["investors"][1]["aliases"] = ["Sequoia\u202e"]
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    [(name, field, message)] = problems(data_copy)
    assert (name, field) == ("data/investors.yaml", "investors[1].aliases[0]")
    assert message.endswith("contains a control or format character (U+202E at 7)")
