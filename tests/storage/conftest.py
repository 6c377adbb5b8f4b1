"""Storage fixtures: `references`, the sources and investors the factories cite."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from dropscope.storage.repositories.investors import InvestorRepository
from dropscope.storage.repositories.sources import SourceRepository
from tests.factories import REFERENCE_INVESTORS, REFERENCE_SOURCES


@pytest.fixture
def references(session: Session) -> Session:
    """`session` with the default sources and investors the factories cite."""
    for source in REFERENCE_SOURCES:
        SourceRepository(session).save(source)
    for investor in REFERENCE_INVESTORS:
        InvestorRepository(session).save(investor)
    return session
