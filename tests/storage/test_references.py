"""Sources, investors and peers on SQLite and PostgreSQL: round trip, idempotent save, update."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from dropscope.domain.models import Investor, Peer, Source
from dropscope.storage.repositories.investors import InvestorRepository
from dropscope.storage.repositories.peers import PeerRepository
from dropscope.storage.repositories.sources import SourceRepository
from tests.factories import make_investor, make_peer, make_source
from tests.storage.helpers import recorded_sql, writes

Repo = SourceRepository | InvestorRepository | PeerRepository
Entry = Source | Investor | Peer

CASES = [
    pytest.param(
        SourceRepository,
        [make_source(), make_source(id="bare", url=None, published_on=None, note=None)],
        {"title": "Renamed", "published_on": date(2025, 2, 28)},
        id="sources",
    ),
    pytest.param(
        InvestorRepository,
        [make_investor(), make_investor(slug="bare", aliases=(), website=None)],
        {"aliases": ("Paradigm", "Paradigm Ops", "")},
        id="investors",
    ),
    pytest.param(
        PeerRepository,
        [make_peer(), make_peer(slug="bare", aliases=(), website="")],
        {"name": "Arbitrum One"},
        id="peers",
    ),
]


def key(entry: Entry) -> str:
    return entry.id if isinstance(entry, Source) else entry.slug


@pytest.mark.parametrize(("repo_class", "entries", "change"), CASES)
def test_round_trip_and_idempotent_save(
    session: Session, repo_class: type[Repo], entries: list[Entry], change: dict[str, Any]
) -> None:
    repo = repo_class(session)
    for entry in reversed(entries):
        assert repo.save(entry) == "created"  # type: ignore[arg-type]
    assert repo.list_all() == sorted(entries, key=key)
    for entry in entries:
        assert repo.get(key(entry)) == entry

    with recorded_sql(session) as statements:
        assert repo.save(entries[0]) == "unchanged"  # type: ignore[arg-type]
    assert writes(statements) == []

    changed = replace(entries[0], **change)
    assert repo.save(changed) == "updated"  # type: ignore[arg-type]
    assert repo.get(key(changed)) == changed
    assert repo.get(key(entries[1])) == entries[1]
    assert repo.get("missing") is None
