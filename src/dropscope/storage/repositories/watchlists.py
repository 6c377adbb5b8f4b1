"""Watchlists, the projects their saved filters last matched, and the evidence each account
has already been told about (the baseline "new evidence" is measured against)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from dropscope.domain.watchlists import SavedFilter, Watchlist
from dropscope.storage.repositories._common import FRESH, NO_SYNC, insert_all, insert_on_conflict
from dropscope.storage.tables import WatchlistMatchRow, WatchlistRow, WatchSeenRow


class WatchlistRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, w: Watchlist) -> None:
        insert_all(self._session, WatchlistRow, [_columns(w)])

    def update(self, w: Watchlist) -> None:
        values = _columns(w)
        del values["id"], values["account_id"], values["created_at"]
        self._session.execute(
            update(WatchlistRow)
            .where(WatchlistRow.id == w.id, WatchlistRow.account_id == w.account_id)
            .values(**values),
            execution_options=NO_SYNC,
        )

    def delete(self, account_id: str, watchlist_id: str) -> bool:
        result = self._session.execute(
            delete(WatchlistRow).where(
                WatchlistRow.id == watchlist_id, WatchlistRow.account_id == account_id
            ),
            execution_options=NO_SYNC,
        )
        return bool(getattr(result, "rowcount", 0))

    def get(self, account_id: str, watchlist_id: str) -> Watchlist | None:
        """The watchlist, only if it belongs to `account_id`."""
        stmt = select(WatchlistRow).where(
            WatchlistRow.id == watchlist_id, WatchlistRow.account_id == account_id
        )
        row = self._session.scalars(stmt, execution_options=FRESH).first()
        return None if row is None else _to_domain(row)

    def for_account(self, account_id: str) -> list[Watchlist]:
        stmt = (
            select(WatchlistRow)
            .where(WatchlistRow.account_id == account_id)
            .order_by(WatchlistRow.created_at, WatchlistRow.id)
        )
        return [_to_domain(r) for r in self._session.scalars(stmt, execution_options=FRESH)]

    def all(self) -> list[Watchlist]:
        stmt = select(WatchlistRow).order_by(WatchlistRow.account_id, WatchlistRow.id)
        return [_to_domain(r) for r in self._session.scalars(stmt, execution_options=FRESH)]

    def any(self) -> bool:
        return self._session.scalar(select(WatchlistRow.id).limit(1)) is not None

    # --- saved-filter matches ------------------------------------------------------------

    def matches(self) -> dict[str, set[str]]:
        """Slugs each watchlist's filters matched when last evaluated, by watchlist id."""
        out: dict[str, set[str]] = {}
        for wid, slug in self._session.execute(
            select(WatchlistMatchRow.watchlist_id, WatchlistMatchRow.project_slug)
        ):
            out.setdefault(wid, set()).add(slug)
        return out

    def set_matches(self, watchlist_id: str, slugs: Iterable[str]) -> None:
        self._session.execute(
            delete(WatchlistMatchRow).where(WatchlistMatchRow.watchlist_id == watchlist_id),
            execution_options=NO_SYNC,
        )
        rows = [{"watchlist_id": watchlist_id, "project_slug": s} for s in sorted(set(slugs))]
        insert_all(self._session, WatchlistMatchRow, rows)

    # --- evidence already told about ------------------------------------------------------

    def seen(self) -> dict[tuple[str, str], set[str]]:
        """Evidence ids seen, by (account id, project slug)."""
        rows = self._session.execute(
            select(WatchSeenRow.account_id, WatchSeenRow.project_slug, WatchSeenRow.evidence_ids)
        )
        return {(a, p): set(ids) for a, p, ids in rows}

    def set_seen(self, account_id: str, slug: str, evidence_ids: Iterable[str]) -> None:
        ids = sorted(set(evidence_ids))
        stmt = insert_on_conflict(self._session, WatchSeenRow).values(
            account_id=account_id, project_slug=slug, evidence_ids=ids
        )
        self._session.execute(
            stmt.on_conflict_do_update(
                index_elements=["account_id", "project_slug"], set_={"evidence_ids": ids}
            )
        )


def _columns(w: Watchlist) -> dict[str, object]:
    return {
        "id": w.id,
        "account_id": w.account_id,
        "name": w.name,
        "slugs": list(w.slugs),
        "filters": [f.to_json() for f in w.filters],
        "created_at": w.created_at,
        "updated_at": w.updated_at,
    }


def _to_domain(row: WatchlistRow) -> Watchlist:
    return Watchlist(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        slugs=tuple(row.slugs),
        filters=tuple(SavedFilter.from_json(f) for f in row.filters),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
