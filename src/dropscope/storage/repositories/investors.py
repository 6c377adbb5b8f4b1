"""Investors: funds and people that back projects."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dropscope.domain.models import Investor
from dropscope.storage.repositories._directory import DirectoryRepository
from dropscope.storage.tables import InvestorRow


class InvestorRepository(DirectoryRepository[Investor]):
    """`list_all()`, `get(slug)`, `save(investor)`; see `DirectoryRepository`."""

    def __init__(self, session: Session) -> None:
        super().__init__(session, InvestorRow, Investor, "investor")
