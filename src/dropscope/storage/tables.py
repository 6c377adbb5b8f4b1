"""The database schema, as typed SQLAlchemy declarative tables.

The Alembic migrations under `storage/migrations/versions` create this schema (nothing calls
`create_all`); `tests/storage/test_migrations.py` checks that the two agree.

Layout:
- `sources`, `investors`, `peers`: reference rows other rows point at.
- `projects` with its children, keyed by (`project_slug`, `position`), the position keeping
  list order: `project_chains`, `project_narratives` (the board filters on these in SQL),
  `project_competitors`, `funding_rounds` (+ `funding_round_investors`), `scores` (sub-scores
  as JSON) and `evidence`; and `project_programmes`, keyed by kind (testnet / points).
- `past_airdrops` with `past_airdrop_figures`.
- `status_changes`: the append-only history of airdrop statuses.
- `meta`: named integer counters; `data_version` goes up by one with every unit of work that
  writes research data, so caches in any process can tell that something changed by reading
  one row.
- `idempotency_keys`: the stored response to each write request sent with an idempotency
  key, unique per (API key id, idempotency key, method, path), so a retried request gets the
  same answer and one client's idempotency key is never another's.
- `accounts` (tenants) and their `api_keys`: a key is stored only as its HMAC-SHA256 under a
  server pepper (`hash`, unique, with `pepper_version`), never in plain text. `key_events`
  is the audit log (key changes, grouped auth failures, anomalies, sign-ups) and
  `key_usage_daily` counts requests per key per UTC day. The `meta` counter `keys_version`
  goes up with every key change, so every worker drops its verified-key cache.
- Ingestion (`services/ingest.py`): `ingest_runs` (one row per run, its state and per-source
  summary), `ingest_http_cache` (ETag / Last-Modified and body per source URL),
  `ingest_listings` (DefiLlama protocols, matched to projects or candidates),
  `project_verifications` (when each part of a project was last verified, by which source),
  `ingest_conflicts` (curated vs ingested values that disagree), `token_markets` (CoinGecko
  market data per coin per day) and `repo_metrics` (GitHub statistics and tech sub-scores).

Every cited fact has `source_id` (FK to `sources`), `as_of` and `quote` columns. Decimals are
exact text (`DecimalText`), timestamps UTC (`UTCDateTime`). Enum values are plain strings so
that adding a member needs no migration. `content_hash` on projects and past airdrops is the
digest of the rows last written for them, which is how a reload detects "unchanged".
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dropscope.storage.column_types import DecimalText, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads this class attribute)
        str: String(),
        date: Date(),
        datetime: UTCDateTime(),
        Decimal: DecimalText(),
        float: Double(),
        bool: Boolean(),
        int: Integer(),
        list[str]: JSON(),
        list[dict[str, Any]]: JSON(),
        dict[str, Any]: JSON(),
    }


_CASCADE = "CASCADE"


class _Cited:
    """Columns of a required `Citation`."""

    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    as_of: Mapped[date]
    quote: Mapped[str | None] = mapped_column(Text)


class ProjectChild:
    """The key every project child row has: its project and its place in the list."""

    project_slug: Mapped[str] = mapped_column(
        ForeignKey("projects.slug", ondelete=_CASCADE), primary_key=True, sort_order=-2
    )
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, sort_order=-1)


class SourceRow(Base):
    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    publisher: Mapped[str]
    url: Mapped[str | None] = mapped_column(Text)
    published_on: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(Text)


class DirectoryRow:
    """Columns shared by `investors` and `peers` (both are named, aliased organisations)."""

    slug: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    aliases: Mapped[list[str]]
    website: Mapped[str | None] = mapped_column(Text)


class InvestorRow(DirectoryRow, Base):
    __tablename__ = "investors"


class PeerRow(DirectoryRow, Base):
    __tablename__ = "peers"


class ProjectRow(_Cited, Base):
    __tablename__ = "projects"

    slug: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    summary: Mapped[str] = mapped_column(Text)
    sector: Mapped[str]
    website: Mapped[str | None] = mapped_column(Text)
    official_domains: Mapped[list[str]]
    aliases: Mapped[list[str]]
    token_symbol: Mapped[str | None]
    token_coingecko_id: Mapped[str | None]
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ProjectChainRow(ProjectChild, Base):
    __tablename__ = "project_chains"
    __table_args__ = (Index("ix_project_chains_chain", "chain", "project_slug"),)

    chain: Mapped[str]


class ProjectNarrativeRow(ProjectChild, Base):
    __tablename__ = "project_narratives"
    __table_args__ = (Index("ix_project_narratives_narrative", "narrative", "project_slug"),)

    narrative: Mapped[str]


class ProjectCompetitorRow(ProjectChild, Base):
    """`competitor_slug` names a project or a peer, so it has no foreign key."""

    __tablename__ = "project_competitors"

    competitor_slug: Mapped[str]


class ProgrammeRow(_Cited, Base):
    """A project's testnet (`kind` "testnet") or points programme (`kind` "points_program")."""

    __tablename__ = "project_programmes"

    project_slug: Mapped[str] = mapped_column(
        ForeignKey("projects.slug", ondelete=_CASCADE), primary_key=True
    )
    kind: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    url: Mapped[str | None] = mapped_column(Text)


class FundingRoundRow(ProjectChild, _Cited, Base):
    __tablename__ = "funding_rounds"
    __table_args__ = (UniqueConstraint("project_slug", "id"),)

    id: Mapped[str]
    round: Mapped[str]
    announced_on: Mapped[date | None]
    amount_usd: Mapped[Decimal | None]
    amount_qualifier: Mapped[str | None]
    valuation_usd: Mapped[Decimal | None]
    note: Mapped[str | None] = mapped_column(Text)


class FundingRoundInvestorRow(Base):
    """An investor in a round; `role` is "lead" or "other", `position` the order within it.

    It refers to its round by (`project_slug`, `round_id`), the round's unique key."""

    __tablename__ = "funding_round_investors"
    __table_args__ = (
        ForeignKeyConstraint(
            ["project_slug", "round_id"],
            ["funding_rounds.project_slug", "funding_rounds.id"],
            ondelete=_CASCADE,
        ),
        Index("ix_funding_round_investors_investor_slug", "investor_slug"),
    )

    project_slug: Mapped[str] = mapped_column(primary_key=True)
    round_id: Mapped[str] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    investor_slug: Mapped[str] = mapped_column(ForeignKey("investors.slug"))


class ScoreRow(ProjectChild, Base):
    """A score; the citation is optional (computed scores have none)."""

    __tablename__ = "scores"

    kind: Mapped[str]
    value: Mapped[float]
    method: Mapped[str]
    label: Mapped[str]
    source_id: Mapped[str | None] = mapped_column(ForeignKey("sources.id"))
    as_of: Mapped[date | None]
    quote: Mapped[str | None] = mapped_column(Text)
    breakdown: Mapped[list[dict[str, Any]]]


class EvidenceRow(ProjectChild, _Cited, Base):
    """Evidence ids are unique within a project (status changes refer to them)."""

    __tablename__ = "evidence"
    __table_args__ = (UniqueConstraint("project_slug", "id"),)

    id: Mapped[str]
    kind: Mapped[str]
    occurred_on: Mapped[date]
    public_on: Mapped[date]
    summary: Mapped[str] = mapped_column(Text)
    official: Mapped[bool]
    window_end: Mapped[date | None]


class PastAirdropRow(_Cited, Base):
    """A past distribution. `project_slug` has no foreign key: the project may not be stored."""

    __tablename__ = "past_airdrops"
    __table_args__ = (Index("ix_past_airdrops_snapshot_on", "snapshot_on", "slug"),)

    slug: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    token_symbol: Mapped[str]
    project_slug: Mapped[str | None]
    snapshot_on: Mapped[date | None]
    claim_start: Mapped[date | None]
    claim_end: Mapped[date | None]
    notes: Mapped[list[str]]
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class FigureRow(_Cited, Base):
    __tablename__ = "past_airdrop_figures"

    airdrop_slug: Mapped[str] = mapped_column(
        ForeignKey("past_airdrops.slug", ondelete=_CASCADE), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    metric: Mapped[str]
    value: Mapped[Decimal]
    qualifier: Mapped[str | None]
    derived: Mapped[bool]
    formula: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class StatusChangeRow(Base):
    __tablename__ = "status_changes"
    __table_args__ = (
        Index("ix_status_changes_project_slug", "project_slug", "effective_on", "id"),
        Index("ix_status_changes_effective_on", "effective_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    project_slug: Mapped[str] = mapped_column(ForeignKey("projects.slug", ondelete=_CASCADE))
    effective_on: Mapped[date]
    old: Mapped[str | None]
    new: Mapped[str]
    rule: Mapped[str]
    evidence_ids: Mapped[list[str]]
    recorded_at: Mapped[datetime | None]


class MetaRow(Base):
    """A named counter, e.g. `data_version`."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class IdempotencyKeyRow(Base):
    """The response given to a write request that carried an idempotency key. `api_key_id` is
    the id of the API key that sent it (not a foreign key: a row is forgotten after the
    retention anyway, whatever becomes of the key)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("api_key_id", "key", "method", "path"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    api_key_id: Mapped[str]
    key: Mapped[str]
    method: Mapped[str]
    path: Mapped[str] = mapped_column(Text)
    request_hash: Mapped[str]
    status_code: Mapped[int]
    response_body: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str]
    created_at: Mapped[datetime]


class AccountRow(Base):
    """A tenant: keys, usage and audit events are grouped by account. `operator` marks the
    account that runs the instance (its admin keys may manage every account's keys)."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    operator: Mapped[bool]
    created_at: Mapped[datetime]


class ApiKeyRow(Base):
    """An API key, by its public id. `hash` is HMAC-SHA256(pepper, key) in hex; `display` is
    `dsk_` plus the first four characters of the body; `state` is active, disabled or
    revoked (expiry and roll grace are times, evaluated when the key is used)."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_account_id", "account_id", "created_at"),)

    id: Mapped[str] = mapped_column(primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete=_CASCADE))
    name: Mapped[str]
    display: Mapped[str]
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    pepper_version: Mapped[int]
    scopes: Mapped[list[str]]
    plan: Mapped[str]
    state: Mapped[str]
    ip_allowlist: Mapped[list[str]]
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    rolled_from: Mapped[str | None]
    rolled_to: Mapped[str | None]
    grace_until: Mapped[datetime | None]


class KeyEventRow(Base):
    """One audit event. `account_id` and `key_id` are null for an event about no known key
    (e.g. auth failures with unknown keys); `detail` never holds a key."""

    __tablename__ = "key_events"
    __table_args__ = (
        Index("ix_key_events_account_id", "account_id", "at"),
        Index("ix_key_events_kind", "kind", "at"),
        Index("ix_key_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete=_CASCADE))
    key_id: Mapped[str | None]
    kind: Mapped[str]
    detail: Mapped[dict[str, Any]]
    ip: Mapped[str | None]
    at: Mapped[datetime]


class KeyUsageDailyRow(Base):
    """Requests a key made on one UTC day."""

    __tablename__ = "key_usage_daily"

    key_id: Mapped[str] = mapped_column(
        ForeignKey("api_keys.id", ondelete=_CASCADE), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)


# --- Ingestion from public sources (issue 6; migration 0004) ----------------------------


class IngestRunRow(Base):
    """One `dropscope ingest` run. `state` is running, finished, failed or abandoned (a run
    found still "running" by a later one: its process died); `summary` holds one object per
    source (counts, error)."""

    __tablename__ = "ingest_runs"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    state: Mapped[str]
    dry_run: Mapped[bool]
    sources: Mapped[list[str]]
    summary: Mapped[list[dict[str, Any]]]


class HttpCacheRow(Base):
    """The last answer of a source URL that carried an ETag or Last-Modified: validators for
    conditional requests, and the gzipped body reused on 304 Not Modified."""

    __tablename__ = "ingest_http_cache"

    url: Mapped[str] = mapped_column(Text, primary_key=True)
    source: Mapped[str]
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None]
    body: Mapped[bytes] = mapped_column(LargeBinary)
    fetched_at: Mapped[datetime]


class ListingRow(Base):
    """A protocol as DefiLlama lists it, matched to a project (`project_slug`, `matched_by`)
    or not: an unmatched tokenless listing is an airdrop candidate."""

    __tablename__ = "ingest_listings"
    __table_args__ = (Index("ix_ingest_listings_project_slug", "project_slug"),)

    source: Mapped[str] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(primary_key=True)
    project_slug: Mapped[str | None] = mapped_column(
        ForeignKey("projects.slug", ondelete="SET NULL")
    )
    matched_by: Mapped[str | None]
    name: Mapped[str]
    slug: Mapped[str]
    symbol: Mapped[str | None]
    gecko_id: Mapped[str | None]
    parent: Mapped[str | None]
    category: Mapped[str | None]
    chains: Mapped[list[str]]
    tvl_usd: Mapped[Decimal | None]
    url: Mapped[str | None] = mapped_column(Text)
    twitter: Mapped[str | None]
    github: Mapped[list[str]]
    source_url: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime]
    content_hash: Mapped[str] = mapped_column(String(64))


class VerificationRow(Base):
    """When a source last confirmed a part of a project (profile, funding, airdrop, token,
    market, tech), and when it last changed it."""

    __tablename__ = "project_verifications"

    project_slug: Mapped[str] = mapped_column(
        ForeignKey("projects.slug", ondelete=_CASCADE), primary_key=True
    )
    part: Mapped[str] = mapped_column(primary_key=True)
    source_id: Mapped[str] = mapped_column(primary_key=True)
    source_url: Mapped[str] = mapped_column(Text)
    verified_at: Mapped[datetime]
    changed_at: Mapped[datetime | None]


class ConflictRow(Base):
    """A curated and an ingested value that disagree; `resolution` names the one shown."""

    __tablename__ = "ingest_conflicts"
    __table_args__ = (UniqueConstraint("project_slug", "field", "source_id", "ingested"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    project_slug: Mapped[str] = mapped_column(ForeignKey("projects.slug", ondelete=_CASCADE))
    field: Mapped[str]
    curated: Mapped[str] = mapped_column(Text)
    ingested: Mapped[str] = mapped_column(Text)
    source_id: Mapped[str]
    source_url: Mapped[str] = mapped_column(Text)
    resolution: Mapped[str]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class MarketRow(Base):
    """A token's market data as CoinGecko gave it, one row per coin per day observed."""

    __tablename__ = "token_markets"
    __table_args__ = (Index("ix_token_markets_project_slug", "project_slug", "observed_on"),)

    coingecko_id: Mapped[str] = mapped_column(primary_key=True)
    observed_on: Mapped[date] = mapped_column(primary_key=True)
    project_slug: Mapped[str | None] = mapped_column(
        ForeignKey("projects.slug", ondelete="SET NULL")
    )
    symbol: Mapped[str]
    name: Mapped[str]
    price_usd: Mapped[Decimal | None]
    market_cap_usd: Mapped[Decimal | None]
    fdv_usd: Mapped[Decimal | None]
    volume_usd: Mapped[Decimal | None]
    circulating_supply: Mapped[Decimal | None]
    total_supply: Mapped[Decimal | None]
    ath_usd: Mapped[Decimal | None]
    ath_on: Mapped[date | None]
    atl_usd: Mapped[Decimal | None]
    atl_on: Mapped[date | None]
    genesis_on: Mapped[date | None]
    last_updated: Mapped[datetime | None]
    source_url: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime]
    content_hash: Mapped[str] = mapped_column(String(64))


class RepoMetricsRow(Base):
    """A project's main GitHub repository, its statistics and the computed tech sub-scores
    (kept even when a published tech score takes precedence)."""

    __tablename__ = "repo_metrics"

    project_slug: Mapped[str] = mapped_column(
        ForeignKey("projects.slug", ondelete=_CASCADE), primary_key=True
    )
    repo: Mapped[str]
    stars: Mapped[int]
    forks: Mapped[int]
    open_issues: Mapped[int]
    pushed_at: Mapped[datetime | None]
    archived: Mapped[bool]
    commits_last_year: Mapped[int | None]
    contributors: Mapped[int | None]
    score: Mapped[float | None]
    breakdown: Mapped[list[dict[str, Any]]]
    source_url: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime]
    content_hash: Mapped[str] = mapped_column(String(64))


# --- Watchlists, events and webhooks (issue 8; migration 0005) ---------------------------


class WatchlistRow(Base):
    """An account's watchlist: project slugs and saved board filters (JSON)."""

    __tablename__ = "watchlists"
    __table_args__ = (Index("ix_watchlists_account_id", "account_id", "created_at"),)

    id: Mapped[str] = mapped_column(primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete=_CASCADE))
    name: Mapped[str]
    slugs: Mapped[list[str]]
    filters: Mapped[list[dict[str, Any]]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WatchlistMatchRow(Base):
    """A project a watchlist's saved filters matched when last evaluated (what "newly
    matching" compares with)."""

    __tablename__ = "watchlist_matches"

    watchlist_id: Mapped[str] = mapped_column(
        ForeignKey("watchlists.id", ondelete=_CASCADE), primary_key=True
    )
    project_slug: Mapped[str] = mapped_column(primary_key=True)


class WatchSeenRow(Base):
    """The evidence ids of a project an account has been told about (or that existed when it
    started watching): later ids are new evidence."""

    __tablename__ = "watch_seen"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete=_CASCADE), primary_key=True
    )
    project_slug: Mapped[str] = mapped_column(primary_key=True)
    evidence_ids: Mapped[list[str]]


class EventRow(Base):
    """One event of an account's feed, recorded once by its stable `id`; `seq` orders the
    feed (cursor and SSE `Last-Event-ID`)."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_account_id", "account_id", "seq"),
        Index("ix_events_occurred_at", "occurred_at"),
    )

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete=_CASCADE))
    type: Mapped[str]
    project_slug: Mapped[str]
    occurred_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]


class WebhookEndpointRow(Base):
    """A webhook endpoint. `secret` (and `previous_secret` while a rotation overlaps, until
    `previous_until`) are stored as given: signing needs them, so unlike API keys they cannot
    be hashed (see docs/webhooks.md). `event_types` empty means every type."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_account_id", "account_id", "created_at"),)

    id: Mapped[str] = mapped_column(primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete=_CASCADE))
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str]
    event_types: Mapped[list[str]]
    enabled: Mapped[bool]
    disabled_reason: Mapped[str | None]
    secret: Mapped[str]
    previous_secret: Mapped[str | None]
    previous_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebhookDeliveryRow(Base):
    """The outbox: one message for one endpoint, written in the transaction that recorded its
    event. `state` is pending, delivered or failed (gave up); a dispatcher claims a pending
    row by setting `claimed_until` (a lease) and `claimed_by`."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "message_id"),
        Index("ix_webhook_deliveries_state", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_id", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete=_CASCADE))
    account_id: Mapped[str]
    message_id: Mapped[str]
    event_type: Mapped[str]
    body: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str]
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None]
    created_at: Mapped[datetime]
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class WebhookAttemptRow(Base):
    """One delivery attempt: when, by which dispatcher, the HTTP status (None when no answer),
    the latency and the error."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery_id", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete=_CASCADE))
    attempt: Mapped[int]
    at: Mapped[datetime]
    status_code: Mapped[int | None]
    latency_ms: Mapped[float]
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str]


metadata = Base.metadata
