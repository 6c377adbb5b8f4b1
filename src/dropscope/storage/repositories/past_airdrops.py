"""Past airdrops with their sourced figures.

`save` works like `ProjectRepository.save`: a hash of the rows to write decides between
writing nothing, replacing the row and its figures, or inserting.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from dropscope.domain.models import Figure, FigureMetric, PastAirdrop
from dropscope.storage.repositories._common import (
    FRESH,
    NO_SYNC,
    SaveResult,
    citation_columns,
    citation_of,
    conflicts_reported,
    content_hash,
    insert_all,
    utcnow,
)
from dropscope.storage.tables import FigureRow, PastAirdropRow


class PastAirdropRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def list_all(self) -> list[PastAirdrop]:
        """Every past airdrop, oldest snapshot first (undated ones last), then by slug."""
        return self._load(None)

    def get(self, slug: str) -> PastAirdrop | None:
        return next(iter(self._load(slug)), None)

    def save(self, airdrop: PastAirdrop) -> SaveResult:
        """Insert, replace or leave `airdrop`. Raises `Conflict` for an unknown source."""
        slug = airdrop.slug
        columns = _columns(airdrop)
        figures = _figure_rows(airdrop)
        digest = content_hash([slug, columns, figures])
        stored = self._session.scalar(
            select(PastAirdropRow.content_hash).where(PastAirdropRow.slug == slug)
        )
        if stored == digest:
            return "unchanged"
        now = utcnow()
        with conflicts_reported(f"past airdrop {slug!r}"):
            if stored is None:
                self._session.execute(
                    insert(PastAirdropRow).values(
                        slug=slug,
                        content_hash=digest,
                        created_at=now,
                        updated_at=now,
                        **columns,
                    )
                )
            else:
                self._session.execute(
                    update(PastAirdropRow)
                    .where(PastAirdropRow.slug == slug)
                    .values(content_hash=digest, updated_at=now, **columns),
                    execution_options=NO_SYNC,
                )
                self._session.execute(
                    delete(FigureRow).where(FigureRow.airdrop_slug == slug),
                    execution_options=NO_SYNC,
                )
            insert_all(self._session, FigureRow, figures)
        return "created" if stored is None else "updated"

    def delete(self, slug: str) -> bool:
        """Delete the airdrop and its figures; False when there was no such airdrop."""
        deleted = self._session.scalar(
            delete(PastAirdropRow)
            .where(PastAirdropRow.slug == slug)
            .returning(PastAirdropRow.slug),
            execution_options=NO_SYNC,
        )
        return deleted is not None

    def _load(self, slug: str | None) -> list[PastAirdrop]:
        stmt = select(PastAirdropRow).order_by(
            PastAirdropRow.snapshot_on.asc().nulls_last(), PastAirdropRow.slug
        )
        figures_stmt = select(FigureRow).order_by(FigureRow.airdrop_slug, FigureRow.position)
        if slug is not None:
            stmt = stmt.where(PastAirdropRow.slug == slug)
            figures_stmt = figures_stmt.where(FigureRow.airdrop_slug == slug)
        rows = list(self._session.scalars(stmt, execution_options=FRESH))
        if not rows:
            return []
        figures: dict[str, list[Figure]] = defaultdict(list)
        for f in self._session.scalars(figures_stmt, execution_options=FRESH):
            figures[f.airdrop_slug].append(_figure(f))
        return [_to_domain(row, figures.get(row.slug, [])) for row in rows]


def _columns(a: PastAirdrop) -> dict[str, Any]:
    return {
        "name": a.name,
        "token_symbol": a.token_symbol,
        "project_slug": a.project_slug,
        "snapshot_on": a.snapshot_on,
        "claim_start": a.claim_start,
        "claim_end": a.claim_end,
        "notes": list(a.notes),
        **citation_columns(a.citation),
    }


def _figure_rows(a: PastAirdrop) -> list[dict[str, Any]]:
    return [
        {
            "airdrop_slug": a.slug,
            "position": i,
            "metric": f.metric.value,
            "value": f.value,
            "qualifier": f.qualifier,
            "derived": f.derived,
            "formula": f.formula,
            "note": f.note,
            **citation_columns(f.citation),
        }
        for i, f in enumerate(a.figures)
    ]


def _figure(row: FigureRow) -> Figure:
    return Figure(
        metric=FigureMetric(row.metric),
        value=row.value,
        citation=citation_of(row),
        qualifier=row.qualifier,
        derived=row.derived,
        formula=row.formula,
        note=row.note,
    )


def _to_domain(row: PastAirdropRow, figures: list[Figure]) -> PastAirdrop:
    return PastAirdrop(
        slug=row.slug,
        name=row.name,
        token_symbol=row.token_symbol,
        citation=citation_of(row),
        project_slug=row.project_slug,
        snapshot_on=row.snapshot_on,
        claim_start=row.claim_start,
        claim_end=row.claim_end,
        figures=tuple(figures),
        notes=tuple(row.notes),
    )
