"""Column types that keep values exact on both SQLite and PostgreSQL.

- `DecimalText`: a `Decimal` stored as its exact decimal string (`str(Decimal("1.50"))` is
  `"1.50"`), so sign, digits and exponent round-trip unchanged and no float is ever involved
  (SQLite has no decimal type; SQLAlchemy's Numeric on SQLite warns and loses precision).
- `UTCDateTime`: a timezone-aware `datetime`, stored in UTC, read back as UTC. Naive values
  are refused because they do not say which instant they mean.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Dialect, String, TypeDecorator


class DecimalText(TypeDecorator[Decimal]):
    """`Decimal` ⇄ exact decimal string (TEXT / VARCHAR)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"expected a Decimal, got {type(value).__name__}: {value!r}")
        return str(value)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware `datetime` ⇄ UTC timestamp (TIMESTAMPTZ on PostgreSQL, ISO text on SQLite)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} has no timezone; give UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        # SQLite hands back the naive UTC value it was given; PostgreSQL an aware one.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
