"""Shared by the curated-data tests: the shipped data folder, the day they validate it on,
and a copy of the folder a test may edit."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "data"
TODAY = date(2026, 11, 27)  # the data's review day: nothing in it is dated later


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "data"
    shutil.copytree(DATA, dst)
    return dst
