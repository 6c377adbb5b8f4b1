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
  key, unique per (key, method, path), so a retried request gets the same answer.

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
    """The response given to a write request that carried an idempotency key."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("key", "method", "path"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key: Mapped[str]
    method: Mapped[str]
    path: Mapped[str] = mapped_column(Text)
    request_hash: Mapped[str]
    status_code: Mapped[int]
    response_body: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str]
    created_at: Mapped[datetime]


metadata = Base.metadata
