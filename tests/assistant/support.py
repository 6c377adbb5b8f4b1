"""What assistant tests share: a loaded database per engine and an assistant over it.

Each test module that needs them declares `loaded_db` and `assistant` fixtures calling
`loaded_database` and `make_assistant` (module scope: loading takes a second or two)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dropscope.services import data as data_service
from dropscope.services.assistant import Assistant
from dropscope.services.database import Database
from tests.services.conftest import fresh_database

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def embedding_cache(config: pytest.Config) -> Path:
    """Chunk vectors survive between runs in pytest's cache (keyed by content hash, so a
    changed chunk is re-embedded, never served stale); without the cache plugin, a folder
    under the system's temp dir does the same."""
    cache = getattr(config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("assistant-embeddings"))
    folder = Path(tempfile.gettempdir()) / "dropscope-test-assistant-embeddings"
    folder.mkdir(exist_ok=True)
    return folder


@contextmanager
def loaded_database(kind: str, folder: Path) -> Iterator[Database]:
    """A fresh database of `kind` loaded with the curated data."""
    with fresh_database(kind, folder) as db:
        data_service.load(db, DATA_DIR, NOW)
        yield db


def make_assistant(db: Database, config: pytest.Config, **kwargs: Any) -> Assistant:
    """The assistant over the curated data and notes: dense retrieval on, extractive."""
    return Assistant(
        db, data_dir=DATA_DIR, cache_dir=embedding_cache(config), clock=lambda: NOW, **kwargs
    )
