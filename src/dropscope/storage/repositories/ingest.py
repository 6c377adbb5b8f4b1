"""What ingestion keeps besides the projects: runs, the HTTP cache, DefiLlama listings,
verification times, conflicts, token markets and repository metrics.

Listings and markets are written in bulk: one query reads the stored content hashes, then
one INSERT (executemany) for new rows and one bulk UPDATE by primary key for changed ones;
rows whose content is unchanged are not written at all (their hash leaves out the fetch time
and URL, so re-reading the same data writes nothing). Conflicts are upserted on (project,
field, source, ingested value): a disagreement seen again only moves its `last_seen_at`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from dropscope.domain.ingested import (
    CachedResponse,
    FieldConflict,
    IngestRun,
    MarketRecord,
    MatchedListing,
    ProtocolListing,
    Provenance,
    RepoMetrics,
    SourceName,
    StoredConflict,
    StoredMarket,
    StoredRepo,
    Verification,
)
from dropscope.domain.models import SubScore
from dropscope.storage.repositories._common import (
    NO_SYNC,
    SaveResult,
    content_hash,
    insert_all,
    insert_on_conflict,
)
from dropscope.storage.tables import (
    ConflictRow,
    HttpCacheRow,
    IngestRunRow,
    ListingRow,
    MarketRow,
    RepoMetricsRow,
    VerificationRow,
)

RUNNING, FINISHED, FAILED, ABANDONED = "running", "finished", "failed", "abandoned"

_LISTING_COLUMNS = (
    "name",
    "slug",
    "symbol",
    "gecko_id",
    "parent",
    "category",
    "chains",
    "tvl_usd",
    "url",
    "twitter",
    "github",
)
_MARKET_COLUMNS = (
    "symbol",
    "name",
    "price_usd",
    "market_cap_usd",
    "fdv_usd",
    "volume_usd",
    "circulating_supply",
    "total_supply",
    "ath_usd",
    "ath_on",
    "atl_usd",
    "atl_on",
    "genesis_on",
    "last_updated",
)


class IngestRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    # --- runs -----------------------------------------------------------------------------

    def start_run(self, started_at: datetime, sources: Sequence[str], dry_run: bool) -> int:
        run_id = self._session.scalar(
            insert(IngestRunRow)
            .values(
                started_at=started_at,
                finished_at=None,
                state=RUNNING,
                dry_run=dry_run,
                sources=list(sources),
                summary=[],
            )
            .returning(IngestRunRow.id)
        )
        assert run_id is not None
        return int(run_id)

    def abandon_running(self, now: datetime) -> int:
        """Mark runs still "running" as abandoned (their process died); how many."""
        result = self._session.execute(
            update(IngestRunRow)
            .where(IngestRunRow.state == RUNNING)
            .values(state=ABANDONED, finished_at=now),
            execution_options=NO_SYNC,
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def finish_run(
        self, run_id: int, finished_at: datetime, state: str, summary: list[dict[str, Any]]
    ) -> None:
        self._session.execute(
            update(IngestRunRow)
            .where(IngestRunRow.id == run_id)
            .values(finished_at=finished_at, state=state, summary=summary),
            execution_options=NO_SYNC,
        )

    def runs(self, limit: int = 20) -> list[IngestRun]:
        """The most recent runs, newest first."""
        t = IngestRunRow.__table__.c
        rows = self._session.execute(
            select(t.id, t.started_at, t.finished_at, t.state, t.dry_run, t.sources, t.summary)
            .order_by(t.id.desc())
            .limit(limit)
        )
        return [
            IngestRun(i, s, f, st, bool(d), tuple(src), tuple(summ))
            for i, s, f, st, d, src, summ in rows
        ]

    # --- HTTP cache -------------------------------------------------------------------------

    def cached_responses(self, source: str) -> dict[str, CachedResponse]:
        t = HttpCacheRow.__table__.c
        rows = self._session.execute(
            select(t.url, t.source, t.etag, t.last_modified, t.body, t.fetched_at).where(
                t.source == source
            )
        )
        return {
            url: CachedResponse(url, src, etag, modified, bytes(body), at)
            for url, src, etag, modified, body, at in rows
        }

    def save_cached(self, entries: Iterable[CachedResponse]) -> None:
        for e in entries:
            values = {
                "url": e.url,
                "source": e.source,
                "etag": e.etag,
                "last_modified": e.last_modified,
                "body": e.body,
                "fetched_at": e.fetched_at,
            }
            stmt = insert_on_conflict(self._session, HttpCacheRow).values(**values)
            stmt = stmt.on_conflict_do_update(
                index_elements=[HttpCacheRow.url],
                set_={k: v for k, v in values.items() if k != "url"},
            )
            self._session.execute(stmt)

    # --- listings ---------------------------------------------------------------------------

    def save_listings(
        self, items: Sequence[tuple[ProtocolListing, str | None, str | None]]
    ) -> Counter[str]:
        """Save (listing, project slug, matched by) triples in bulk; counts of created,
        updated and unchanged listings."""
        counts: Counter[str] = Counter()
        if not items:
            return counts
        source = items[0][0].provenance.source.value
        t = ListingRow.__table__.c
        stored = dict(
            self._session.execute(select(t.key, t.content_hash).where(t.source == source)).all()
        )
        fresh: dict[str, dict[str, Any]] = {}
        for listing, slug, how in items:
            row = _listing_row(listing, slug, how)
            fresh[listing.key] = row
        new = [r for k, r in fresh.items() if k not in stored]
        changed = [r for k, r in fresh.items() if k in stored and stored[k] != r["content_hash"]]
        insert_all(self._session, ListingRow, new)
        if changed:
            self._session.execute(update(ListingRow), changed, execution_options=NO_SYNC)
        counts["created"] = len(new)
        counts["updated"] = len(changed)
        counts["unchanged"] = len(fresh) - len(new) - len(changed)
        return counts

    def listings(
        self, source: str = SourceName.DEFILLAMA_PROTOCOLS.value, *, matched: bool | None = None
    ) -> list[MatchedListing]:
        """Stored listings of `source` by key; only matched (True) or unmatched (False) ones
        when asked."""
        stmt = select(ListingRow.__table__).where(ListingRow.source == source)
        if matched is True:
            stmt = stmt.where(ListingRow.project_slug.is_not(None))
        elif matched is False:
            stmt = stmt.where(ListingRow.project_slug.is_(None))
        rows = self._session.execute(stmt.order_by(ListingRow.key)).mappings()
        return [_listing(r) for r in rows]

    def listings_for(self, project_slug: str) -> list[MatchedListing]:
        stmt = select(ListingRow.__table__).where(ListingRow.project_slug == project_slug)
        rows = self._session.execute(stmt.order_by(ListingRow.source, ListingRow.key)).mappings()
        return [_listing(r) for r in rows]

    def candidates(self, limit: int = 50) -> list[MatchedListing]:
        """Unmatched tokenless listings (airdrop candidates), largest TVL first."""
        stmt = select(ListingRow.__table__).where(
            ListingRow.project_slug.is_(None),
            ListingRow.symbol.is_(None),
            ListingRow.gecko_id.is_(None),
        )
        found = [_listing(r) for r in self._session.execute(stmt).mappings()]
        found.sort(key=lambda m: (-(m.listing.tvl_usd or 0), m.listing.name.lower()))
        return found[:limit]

    # --- verification -----------------------------------------------------------------------

    def verify(
        self,
        project_slug: str,
        part: str,
        source_id: str,
        source_url: str,
        at: datetime,
        changed: bool,
    ) -> None:
        """Record that `source_id` confirmed `part` of the project at `at` (and changed it)."""
        values: dict[str, Any] = {
            "project_slug": project_slug,
            "part": part,
            "source_id": source_id,
            "source_url": source_url,
            "verified_at": at,
            "changed_at": at if changed else None,
        }
        update_set: dict[str, Any] = {"source_url": source_url, "verified_at": at}
        if changed:
            update_set["changed_at"] = at
        stmt = insert_on_conflict(self._session, VerificationRow).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[
                VerificationRow.project_slug,
                VerificationRow.part,
                VerificationRow.source_id,
            ],
            set_=update_set,
        )
        self._session.execute(stmt)

    def verifications(self, project_slug: str) -> list[Verification]:
        t = VerificationRow.__table__.c
        rows = self._session.execute(
            select(t.project_slug, t.part, t.source_id, t.source_url, t.verified_at, t.changed_at)
            .where(t.project_slug == project_slug)
            .order_by(t.part, t.source_id)
        )
        return [Verification(*r) for r in rows]

    # --- conflicts --------------------------------------------------------------------------

    def record_conflicts(self, conflicts: Iterable[FieldConflict], at: datetime) -> int:
        """Upsert each conflict; how many were new."""
        new = 0
        t = ConflictRow.__table__.c
        for c in conflicts:
            exists = self._session.scalar(
                select(t.id).where(
                    t.project_slug == c.project_slug,
                    t.field == c.field,
                    t.source_id == c.source_id,
                    t.ingested == c.ingested,
                )
            )
            if exists is None:
                new += 1
                self._session.execute(
                    insert(ConflictRow).values(
                        project_slug=c.project_slug,
                        field=c.field,
                        curated=c.curated,
                        ingested=c.ingested,
                        source_id=c.source_id,
                        source_url=c.source_url,
                        resolution=c.resolution,
                        first_seen_at=at,
                        last_seen_at=at,
                    )
                )
            else:
                self._session.execute(
                    update(ConflictRow)
                    .where(ConflictRow.id == exists)
                    .values(last_seen_at=at, curated=c.curated, resolution=c.resolution),
                    execution_options=NO_SYNC,
                )
        return new

    def conflicts(self, project_slug: str | None = None) -> list[StoredConflict]:
        t = ConflictRow.__table__.c
        stmt = select(
            t.project_slug,
            t.field,
            t.curated,
            t.ingested,
            t.source_id,
            t.source_url,
            t.resolution,
            t.first_seen_at,
            t.last_seen_at,
        ).order_by(t.project_slug, t.id)
        if project_slug is not None:
            stmt = stmt.where(t.project_slug == project_slug)
        return [
            StoredConflict(FieldConflict(*r[:7]), r[7], r[8]) for r in self._session.execute(stmt)
        ]

    # --- markets ----------------------------------------------------------------------------

    def save_markets(self, items: Sequence[tuple[MarketRecord, str | None]]) -> Counter[str]:
        """Save each coin's market data for the day it was fetched; counts."""
        counts: Counter[str] = Counter()
        t = MarketRow.__table__.c
        for m, slug in items:
            row = _market_row(m, slug)
            stored = self._session.scalar(
                select(t.content_hash).where(
                    t.coingecko_id == m.coingecko_id, t.observed_on == row["observed_on"]
                )
            )
            if stored == row["content_hash"]:
                counts["unchanged"] += 1
            elif stored is None:
                insert_all(self._session, MarketRow, [row])
                counts["created"] += 1
            else:
                self._session.execute(update(MarketRow), [row], execution_options=NO_SYNC)
                counts["updated"] += 1
        return counts

    def latest_markets(self, project_slug: str | None = None) -> list[StoredMarket]:
        """The most recent observation of each coin (of one project, when given)."""
        t = MarketRow.__table__.c
        stmt = select(MarketRow.__table__).order_by(t.coingecko_id, t.observed_on.desc())
        if project_slug is not None:
            stmt = stmt.where(t.project_slug == project_slug)
        latest: dict[str, StoredMarket] = {}
        for r in self._session.execute(stmt).mappings():
            if r["coingecko_id"] not in latest:
                latest[r["coingecko_id"]] = _market(r)
        return list(latest.values())

    # --- repository metrics -----------------------------------------------------------------

    def save_repo_metrics(
        self, project_slug: str, m: RepoMetrics, score: float | None, subs: Sequence[SubScore]
    ) -> SaveResult:
        values: dict[str, Any] = {
            "repo": m.repo,
            "stars": m.stars,
            "forks": m.forks,
            "open_issues": m.open_issues,
            "pushed_at": m.pushed_at,
            "archived": m.archived,
            "commits_last_year": m.commits_last_year,
            "contributors": m.contributors,
            "score": score,
            "breakdown": [
                {"name": s.name, "value": s.value, "weight": s.weight, "detail": s.detail}
                for s in subs
            ],
        }
        digest = content_hash([project_slug, values])
        stored = self._session.scalar(
            select(RepoMetricsRow.content_hash).where(RepoMetricsRow.project_slug == project_slug)
        )
        if stored == digest:
            return "unchanged"
        row = {
            "project_slug": project_slug,
            **values,
            "source_url": m.provenance.url,
            "fetched_at": m.provenance.fetched_at,
            "content_hash": digest,
        }
        if stored is None:
            insert_all(self._session, RepoMetricsRow, [row])
            return "created"
        self._session.execute(update(RepoMetricsRow), [row], execution_options=NO_SYNC)
        return "updated"

    def repo_targets(self) -> dict[str, str]:
        """The repository last measured for each project (owner/name), by project slug."""
        rows = self._session.execute(select(RepoMetricsRow.project_slug, RepoMetricsRow.repo))
        return {str(slug): str(repo) for slug, repo in rows}

    def repo_metrics(self, project_slug: str) -> StoredRepo | None:
        r = (
            self._session.execute(
                select(RepoMetricsRow.__table__).where(RepoMetricsRow.project_slug == project_slug)
            )
            .mappings()
            .one_or_none()
        )
        if r is None:
            return None
        metrics = RepoMetrics(
            repo=r["repo"],
            provenance=Provenance(SourceName.GITHUB, r["source_url"], r["fetched_at"]),
            stars=r["stars"],
            forks=r["forks"],
            open_issues=r["open_issues"],
            pushed_at=r["pushed_at"],
            archived=bool(r["archived"]),
            contributors=r["contributors"],
        )
        breakdown = tuple((b["name"], b["value"], b["weight"], b["detail"]) for b in r["breakdown"])
        return StoredRepo(metrics, r["commits_last_year"], r["score"], breakdown)


def _listing_row(listing: ProtocolListing, slug: str | None, how: str | None) -> dict[str, Any]:
    columns: dict[str, Any] = {
        "name": listing.name,
        "slug": listing.slug,
        "symbol": listing.symbol,
        "gecko_id": listing.gecko_id,
        "parent": listing.parent,
        "category": listing.category,
        "chains": list(listing.chains),
        "tvl_usd": listing.tvl_usd,
        "url": listing.url,
        "twitter": listing.twitter,
        "github": list(listing.github),
        "project_slug": slug,
        "matched_by": how,
    }
    return {
        "source": listing.provenance.source.value,
        "key": listing.key,
        **columns,
        "source_url": listing.provenance.url,
        "fetched_at": listing.provenance.fetched_at,
        "content_hash": content_hash([listing.key, columns]),
    }


def _listing(r: Any) -> MatchedListing:
    listing = ProtocolListing(
        key=r["key"],
        provenance=Provenance(SourceName(r["source"]), r["source_url"], r["fetched_at"]),
        chains=tuple(r["chains"]),
        github=tuple(r["github"]),
        **{c: r[c] for c in _LISTING_COLUMNS if c not in ("chains", "github")},
    )
    return MatchedListing(listing, r["project_slug"], r["matched_by"])


def _market_row(m: MarketRecord, slug: str | None) -> dict[str, Any]:
    columns: dict[str, Any] = {c: getattr(m, c) for c in _MARKET_COLUMNS}
    columns["project_slug"] = slug
    observed_on = m.provenance.day
    return {
        "coingecko_id": m.coingecko_id,
        "observed_on": observed_on,
        **columns,
        "source_url": m.provenance.url,
        "fetched_at": m.provenance.fetched_at,
        "content_hash": content_hash([m.coingecko_id, observed_on, columns]),
    }


def _market(r: Any) -> StoredMarket:
    m = MarketRecord(
        coingecko_id=r["coingecko_id"],
        provenance=Provenance(SourceName.COINGECKO, r["source_url"], r["fetched_at"]),
        **{c: r[c] for c in _MARKET_COLUMNS},
    )
    return StoredMarket(m, r["project_slug"])
