"""Stored idempotent responses belong to the API key that sent the request: a column
`api_key_id`, and the unique constraint (api_key_id, key, method, path) instead of
(key, method, path), so one client's Idempotency-Key never replays another's response.

The responses stored before have no owner that could be told apart, so the upgrade forgets
them (they are kept for a day, for retries only: a retry that straddles the upgrade is
treated as a new request). The downgrade forgets them too, since two keys may have stored
a response under the same Idempotency-Key.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_UNIQUE = "uq_idempotency_keys_key_method_path"
_NEW_UNIQUE = "uq_idempotency_keys_api_key_id_key_method_path"


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM idempotency_keys"))
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_constraint(_OLD_UNIQUE, type_="unique")
        batch.add_column(sa.Column("api_key_id", sa.String(), nullable=False))
        batch.create_unique_constraint(_NEW_UNIQUE, ["api_key_id", "key", "method", "path"])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM idempotency_keys"))
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_constraint(_NEW_UNIQUE, type_="unique")
        batch.drop_column("api_key_id")
        batch.create_unique_constraint(_OLD_UNIQUE, ["key", "method", "path"])
