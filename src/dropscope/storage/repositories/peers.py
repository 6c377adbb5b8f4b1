"""Peers: projects named as competitors that dropscope does not research (yet)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dropscope.domain.models import Peer
from dropscope.storage.repositories._directory import DirectoryRepository
from dropscope.storage.tables import PeerRow


class PeerRepository(DirectoryRepository[Peer]):
    """`list_all()`, `get(slug)`, `save(peer)`; see `DirectoryRepository`."""

    def __init__(self, session: Session) -> None:
        super().__init__(session, PeerRow, Peer, "peer")
