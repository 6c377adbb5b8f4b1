"""Number, money and date formatting for the templates (registered as Jinja filters)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from dropscope.domain.scoring import format_compact, format_usd

DASH = "–"


def usd(value: Decimal | float | None, qualifier: str | None = None) -> str:
    """$120M, "over $1.1B"; a dash when unknown."""
    if value is None:
        return DASH
    text = format_usd(Decimal(str(value)))
    return f"{qualifier} {text}" if qualifier else text


def compact(value: Decimal | float | None, qualifier: str | None = None) -> str:
    """1.3M, 450K, 12,000 → compact; a dash when unknown."""
    if value is None:
        return DASH
    text = format_compact(Decimal(str(value)), smallest=1e6)
    return f"{qualifier} {text}" if qualifier else text


def score(value: float | None) -> str:
    return DASH if value is None else f"{value:g}"


def day(value: date | None) -> str:
    return DASH if value is None else value.isoformat()


def label(value: str) -> str:
    """'snapshot_taken' → 'snapshot taken', 'zk-rollups' → 'zk rollups'."""
    return value.replace("_", " ").replace("-", " ")


FILTERS = {"usd": usd, "compact": compact, "score": score, "day": day, "label": label}
