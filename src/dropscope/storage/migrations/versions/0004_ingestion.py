"""Ingestion from public sources: runs, HTTP cache, DefiLlama listings, per-part
verification times, curated-vs-ingested conflicts, token markets, repository metrics.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIMESTAMP = sa.DateTime(timezone=True)
_DECIMAL = sa.String()  # DecimalText is stored as exact text


def _project_fk(column: str, table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["projects.slug"], name=f"fk_{table}_{column}_projects", ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "ingest_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", _TIMESTAMP, nullable=False),
        sa.Column("finished_at", _TIMESTAMP, nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ingest_runs"),
    )
    op.create_table(
        "ingest_http_cache",
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.String(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("fetched_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("url", name="pk_ingest_http_cache"),
    )
    op.create_table(
        "ingest_listings",
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("project_slug", sa.String(), nullable=True),
        sa.Column("matched_by", sa.String(), nullable=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("slug", sa.String(), nullable=False),
        sa.Column("symbol", sa.String(), nullable=True),
        sa.Column("gecko_id", sa.String(), nullable=True),
        sa.Column("parent", sa.String(), nullable=True),
        sa.Column("category", sa.String(), nullable=True),
        sa.Column("chains", sa.JSON(), nullable=False),
        sa.Column("tvl_usd", _DECIMAL, nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("twitter", sa.String(), nullable=True),
        sa.Column("github", sa.JSON(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=False),
        sa.Column("fetched_at", _TIMESTAMP, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        _project_fk("project_slug", "ingest_listings", "SET NULL"),
        sa.PrimaryKeyConstraint("source", "key", name="pk_ingest_listings"),
    )
    op.create_index("ix_ingest_listings_project_slug", "ingest_listings", ["project_slug"])
    op.create_table(
        "project_verifications",
        sa.Column("project_slug", sa.String(), nullable=False),
        sa.Column("part", sa.String(), nullable=False),
        sa.Column("source_id", sa.String(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=False),
        sa.Column("verified_at", _TIMESTAMP, nullable=False),
        sa.Column("changed_at", _TIMESTAMP, nullable=True),
        _project_fk("project_slug", "project_verifications", "CASCADE"),
        sa.PrimaryKeyConstraint(
            "project_slug", "part", "source_id", name="pk_project_verifications"
        ),
    )
    op.create_table(
        "ingest_conflicts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_slug", sa.String(), nullable=False),
        sa.Column("field", sa.String(), nullable=False),
        sa.Column("curated", sa.Text(), nullable=False),
        sa.Column("ingested", sa.Text(), nullable=False),
        sa.Column("source_id", sa.String(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=False),
        sa.Column("resolution", sa.String(), nullable=False),
        sa.Column("first_seen_at", _TIMESTAMP, nullable=False),
        sa.Column("last_seen_at", _TIMESTAMP, nullable=False),
        _project_fk("project_slug", "ingest_conflicts", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_ingest_conflicts"),
        sa.UniqueConstraint(
            "project_slug",
            "field",
            "source_id",
            "ingested",
            name="uq_ingest_conflicts_project_slug_field_source_id_ingested",
        ),
    )
    op.create_table(
        "token_markets",
        sa.Column("coingecko_id", sa.String(), nullable=False),
        sa.Column("observed_on", sa.Date(), nullable=False),
        sa.Column("project_slug", sa.String(), nullable=True),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("price_usd", _DECIMAL, nullable=True),
        sa.Column("market_cap_usd", _DECIMAL, nullable=True),
        sa.Column("fdv_usd", _DECIMAL, nullable=True),
        sa.Column("volume_usd", _DECIMAL, nullable=True),
        sa.Column("circulating_supply", _DECIMAL, nullable=True),
        sa.Column("total_supply", _DECIMAL, nullable=True),
        sa.Column("ath_usd", _DECIMAL, nullable=True),
        sa.Column("ath_on", sa.Date(), nullable=True),
        sa.Column("atl_usd", _DECIMAL, nullable=True),
        sa.Column("atl_on", sa.Date(), nullable=True),
        sa.Column("genesis_on", sa.Date(), nullable=True),
        sa.Column("last_updated", _TIMESTAMP, nullable=True),
        sa.Column("source_url", sa.Text(), nullable=False),
        sa.Column("fetched_at", _TIMESTAMP, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        _project_fk("project_slug", "token_markets", "SET NULL"),
        sa.PrimaryKeyConstraint("coingecko_id", "observed_on", name="pk_token_markets"),
    )
    op.create_index(
        "ix_token_markets_project_slug", "token_markets", ["project_slug", "observed_on"]
    )
    op.create_table(
        "repo_metrics",
        sa.Column("project_slug", sa.String(), nullable=False),
        sa.Column("repo", sa.String(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("forks", sa.Integer(), nullable=False),
        sa.Column("open_issues", sa.Integer(), nullable=False),
        sa.Column("pushed_at", _TIMESTAMP, nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("commits_last_year", sa.Integer(), nullable=True),
        sa.Column("contributors", sa.Integer(), nullable=True),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("breakdown", sa.JSON(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=False),
        sa.Column("fetched_at", _TIMESTAMP, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        _project_fk("project_slug", "repo_metrics", "CASCADE"),
        sa.PrimaryKeyConstraint("project_slug", name="pk_repo_metrics"),
    )


def downgrade() -> None:
    op.drop_table("repo_metrics")
    op.drop_index("ix_token_markets_project_slug", table_name="token_markets")
    op.drop_table("token_markets")
    op.drop_table("ingest_conflicts")
    op.drop_table("project_verifications")
    op.drop_index("ix_ingest_listings_project_slug", table_name="ingest_listings")
    op.drop_table("ingest_listings")
    op.drop_table("ingest_http_cache")
    op.drop_table("ingest_runs")
