"""The pepper: from the settings, or generated once into a private file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from dropscope.config import Settings
from dropscope.errors import InvalidInput, StorageError
from dropscope.services.pepper import load_peppers


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(key_pepper_file=tmp_path / "dir" / "pepper.json", **values)  # type: ignore[arg-type]


def test_a_pepper_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    s = settings(tmp_path)
    with pytest.raises(StorageError, match="DROPSCOPE_KEY_PEPPER"):
        load_peppers(s, create=False)
    first = load_peppers(s)
    again = load_peppers(s)
    assert first == again
    assert first.current == 1
    assert len(first.secrets[1]) >= 40
    assert s.key_pepper_file.stat().st_mode & 0o777 == 0o600
    assert json.loads(s.key_pepper_file.read_text())["version"] == 1
    assert [p.name for p in s.key_pepper_file.parent.iterdir()] == ["pepper.json"]  # no temp


def test_a_readable_pepper_file_is_refused(tmp_path: Path) -> None:
    s = settings(tmp_path)
    load_peppers(s)
    os.chmod(s.key_pepper_file, 0o644)
    with pytest.raises(StorageError, match="chmod 600"):
        load_peppers(s)


def test_the_setting_wins_and_old_peppers_are_kept(tmp_path: Path) -> None:
    s = settings(
        tmp_path,
        key_pepper=SecretStr("a-new-pepper-of-length"),
        key_pepper_version=2,
        key_old_peppers={1: SecretStr("the-old-pepper-value")},
    )
    peppers = load_peppers(s)
    assert peppers.current == 2
    assert peppers.secrets == {1: b"the-old-pepper-value", 2: b"a-new-pepper-of-length"}
    assert not s.key_pepper_file.exists()
    with pytest.raises(InvalidInput, match="16"):
        load_peppers(settings(tmp_path, key_pepper=SecretStr("short")))
