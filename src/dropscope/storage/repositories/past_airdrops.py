"""Past airdrops with their sourced figures.

`save` works like `ProjectRepository.save`: a hash of the rows to write decides between
writing nothing, replacing the row and its figures, or inserting.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from itertools import groupby, starmap
from operator import itemgetter
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from dropscope.domain.models import Citation, Figure, FigureMetric, PastAirdrop
from dropscope.storage.repositories._common import (
    NO_SYNC,
    SaveResult,
    citation_columns,
    conflicts_reported,
    content_hash,
    enum_members,
    insert_all,
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

    def save(self, airdrop: PastAirdrop, now: datetime) -> SaveResult:
        """Insert, replace or leave `airdrop` (stamped `now` when written). Raises `Conflict`
        for an unknown source."""
        slug = airdrop.slug
        columns = _columns(airdrop)
        figures = _figure_rows(airdrop)
        digest = content_hash([slug, columns, figures])
        stored = self._session.scalar(
            select(PastAirdropRow.content_hash).where(PastAirdropRow.slug == slug)
        )
        if stored == digest:
            return "unchanged"
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
        """Plain column values (Core), not ORM objects: two queries, figures grouped per
        airdrop in one pass."""
        a, f = _AIRDROP, _FIGURE
        stmt = select(
            a.slug,
            a.name,
            a.token_symbol,
            a.project_slug,
            a.snapshot_on,
            a.claim_start,
            a.claim_end,
            a.notes,
            a.source_id,
            a.as_of,
            a.quote,
        ).order_by(a.snapshot_on.asc().nulls_last(), a.slug)
        figures_stmt = select(
            f.airdrop_slug,
            f.metric,
            f.value,
            f.qualifier,
            f.derived,
            f.formula,
            f.note,
            f.source_id,
            f.as_of,
            f.quote,
        ).order_by(f.airdrop_slug, f.position)
        if slug is not None:
            stmt = stmt.where(a.slug == slug)
            figures_stmt = figures_stmt.where(f.airdrop_slug == slug)
        rows = self._session.execute(stmt).all()
        if not rows:
            return []
        figures = {
            s: tuple(starmap(_figure, group))
            for s, group in groupby(self._session.execute(figures_stmt), itemgetter(0))
        }
        return [
            PastAirdrop(
                slug=s,
                name=name,
                token_symbol=token_symbol,
                citation=Citation(source_id=source_id, as_of=as_of, quote=quote),
                project_slug=project_slug,
                snapshot_on=snapshot_on,
                claim_start=claim_start,
                claim_end=claim_end,
                figures=figures.get(s, ()),
                notes=tuple(notes),
            )
            for (
                s,
                name,
                token_symbol,
                project_slug,
                snapshot_on,
                claim_start,
                claim_end,
                notes,
                source_id,
                as_of,
                quote,
            ) in rows
        ]


_AIRDROP = PastAirdropRow.__table__.c
_FIGURE = FigureRow.__table__.c
_METRICS = enum_members(FigureMetric)


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


def _figure(
    airdrop_slug: str,
    metric: str,
    value: Decimal,
    qualifier: str | None,
    derived: bool,
    formula: str | None,
    note: str | None,
    source_id: str,
    as_of: date,
    quote: str | None,
) -> Figure:
    return Figure(
        metric=_METRICS[metric],
        value=value,
        citation=Citation(source_id=source_id, as_of=as_of, quote=quote),
        qualifier=qualifier,
        derived=derived,
        formula=formula,
        note=note,
    )
