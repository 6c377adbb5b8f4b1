"""The curated data files: the real ones validate; every kind of mistake is named precisely."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from dropscope.domain.models import FigureMetric
from dropscope.errors import DataFileError, NotFound
from dropscope.ingest.curated import read_dataset
from tests.ingest.conftest import DATA, TODAY


def edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))


def problems(folder: Path) -> list[tuple[str, str, str]]:
    with pytest.raises(DataFileError) as info:
        read_dataset(folder, today=TODAY)
    return info.value.problems


def test_the_shipped_data_is_valid_and_complete() -> None:
    ds = read_dataset(DATA, today=TODAY)
    assert len(ds.projects) == 16
    assert len(ds.past_airdrops) >= 8
    for p in ds.projects:
        assert p.evidence, f"{p.slug} has no evidence"
        assert p.summary
        assert p.narratives


def test_derived_figures_are_marked(data_copy: Path) -> None:
    ds = read_dataset(data_copy, today=TODAY)
    op = next(a for a in ds.past_airdrops if a.slug == "optimism-1")
    (mean,) = op.figure(FigureMetric.TOKENS_PER_RECIPIENT_MEAN)
    assert mean.derived
    assert mean.formula == "tokens_distributed ÷ recipients"
    assert 850 <= mean.value <= 870  # the reference says about 863 OP


def test_unknown_key_is_named(data_copy: Path) -> None:
    edit(data_copy / "projects" / "starknet.yaml", lambda d: d.update(tvl=5))
    assert ("data/projects/starknet.yaml", "tvl", "Extra inputs are not permitted") in problems(
        data_copy
    )


def test_wrong_type_and_bad_date_are_named(data_copy: Path) -> None:
    def change(d: dict) -> None:  # type: ignore[type-arg]
        d["scores"][0]["value"] = "ninety"
        d["evidence"][0]["occurred_on"] = "2023-13-45"

    edit(data_copy / "projects" / "peaq.yaml", change)
    found = {(f, field) for f, field, _ in problems(data_copy)}
    assert ("data/projects/peaq.yaml", "scores[0].value") in found
    assert ("data/projects/peaq.yaml", "evidence[0].occurred_on") in found


def test_unresolved_references_are_named_with_a_suggestion(data_copy: Path) -> None:
    def change(d: dict) -> None:  # type: ignore[type-arg]
        d["competitors"].append("scrol")
        d["funding"][0]["other_investors"].append("nobody-capital")

    edit(data_copy / "projects" / "linea.yaml", change)
    msgs = {field: msg for _, field, msg in problems(data_copy)}
    comp = next(v for k, v in msgs.items() if k.startswith("competitors"))
    assert "unknown project or peer 'scrol'" in comp
    assert "did you mean 'scroll'" in comp
    assert any("unknown investor 'nobody-capital'" in v for v in msgs.values())


def test_duplicate_slug_is_rejected(data_copy: Path) -> None:
    shutil.copy(data_copy / "projects" / "taiko.yaml", data_copy / "projects" / "taiko-copy.yaml")
    msgs = problems(data_copy)
    assert any(f.endswith("taiko-copy.yaml") and field == "slug" for f, field, _ in msgs)


def test_duplicate_yaml_key_and_broken_yaml(data_copy: Path) -> None:
    path = data_copy / "projects" / "aztec.yaml"
    path.write_text(path.read_text() + "\nname: Again\n")
    (data_copy / "projects" / "ten.yaml").write_text("slug: ten\nname: [unclosed\n")
    msgs = problems(data_copy)
    assert any(f.endswith("aztec.yaml") and "duplicate key 'name'" in m for f, _, m in msgs)
    assert any(f.endswith("ten.yaml") and m.startswith("invalid YAML") for f, _, m in msgs)


def test_future_public_date_and_misplaced_window(data_copy: Path) -> None:
    def change(d: dict) -> None:  # type: ignore[type-arg]
        d["evidence"][0]["public_on"] = "2099-01-01"
        d["evidence"][0]["window_end"] = "2099-02-01"

    edit(data_copy / "projects" / "astria.yaml", change)
    msgs = {field: m for _, field, m in problems(data_copy)}
    assert "in the future" in msgs["evidence[0].public_on"]
    assert "only claim_open" in msgs["evidence[0].window_end"]


def test_missing_folder_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        read_dataset(tmp_path / "nope", today=TODAY)
