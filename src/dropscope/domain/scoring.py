"""Funding figures and the computed fundamentals score.

All functions are pure; every scale and weight is a parameter with a documented default.
The method is described for readers in docs/scoring.md.

Scales (clamped to 0–100):

- funding raised:  ``100 · log10(usd / 1M) / 2``   → $1M = 0, $10M = 50, $100M+ = 100
- valuation:       ``100 · log10(usd / 10M) / 3``  → $10M = 0, $316M = 50, $10B+ = 100
- investor backing: ``100 · (1 − 0.5^n)`` for n named investors → 1 = 50, 2 = 75, 3 = 87.5

A computed fundamentals score is the weighted mean of the sub-scores whose inputs are
known (default weights: funding 0.40, valuation 0.35, investors 0.25), and exists only when
at least `min_known` (default 2) sub-scores are known. A curated score, when there is one,
is used instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from dropscope.domain.models import FundingRound, Project, Score, ScoreKind, ScoreMethod, SubScore


def clamp(value: float, low: float = 0.0, high: float = 100.0) -> float:
    return max(low, min(high, value))


def log_scale(value: float, floor: float, decades: float) -> float:
    """0 at `floor`, 100 at `floor · 10^decades`, logarithmic between, clamped."""
    if value <= 0:
        return 0.0
    return clamp(100.0 * math.log10(value / floor) / decades)


def funding_subscore(usd: Decimal | None, floor: float = 1e6, decades: float = 2.0) -> float | None:
    return None if usd is None else round(log_scale(float(usd), floor, decades), 1)


def valuation_subscore(
    usd: Decimal | None, floor: float = 1e7, decades: float = 3.0
) -> float | None:
    return None if usd is None else round(log_scale(float(usd), floor, decades), 1)


def backing_subscore(investor_count: int, half_life: float = 1.0) -> float | None:
    """100 · (1 − 0.5^(n / half_life)); None when no investor is named."""
    if investor_count <= 0:
        return None
    unnamed_share: float = math.pow(0.5, investor_count / half_life)
    return round(100.0 * (1.0 - unnamed_share), 1)


def total_raised(rounds: Sequence[FundingRound]) -> Decimal | None:
    """Money raised: the sum of the individual rounds, or the largest reported total
    (round == "total") when that is larger; None when no amount is known."""
    totals = [r.amount_usd for r in rounds if r.round == "total" and r.amount_usd is not None]
    parts = [r.amount_usd for r in rounds if r.round != "total" and r.amount_usd is not None]
    candidates = [*totals, *([sum(parts, Decimal(0))] if parts else [])]
    return max(candidates) if candidates else None


def latest_valuation(rounds: Sequence[FundingRound]) -> Decimal | None:
    """The valuation of the most recent round that reports one (undated rounds count as
    oldest, ties by id)."""
    valued = [r for r in rounds if r.valuation_usd is not None]
    if not valued:
        return None
    newest = max(valued, key=lambda r: (r.announced_on is not None, r.announced_on, r.id))
    return newest.valuation_usd


@dataclass(frozen=True, slots=True)
class FundamentalsWeights:
    funding: float = 0.40
    valuation: float = 0.35
    investors: float = 0.25


def computed_fundamentals(
    rounds: Sequence[FundingRound],
    *,
    weights: FundamentalsWeights = FundamentalsWeights(),
    min_known: int = 2,
) -> Score | None:
    """Fundamentals from funding, valuation and investor backing; None if too little is known."""
    raised = total_raised(rounds)
    valuation = latest_valuation(rounds)
    investors = {slug for r in rounds for slug in r.investors}
    subs = (
        SubScore("funding", funding_subscore(raised), weights.funding, _usd(raised, "raised")),
        SubScore(
            "valuation",
            valuation_subscore(valuation),
            weights.valuation,
            _usd(valuation, "valuation"),
        ),
        SubScore(
            "investors",
            backing_subscore(len(investors)),
            weights.investors,
            f"{len(investors)} named investor(s)",
        ),
    )
    known = [s for s in subs if s.value is not None]
    if len(known) < min_known:
        return None
    total_weight = sum(s.weight for s in known)
    value = sum((s.value or 0.0) * s.weight for s in known) / total_weight
    return Score(
        kind=ScoreKind.FUNDAMENTALS,
        value=round(value, 1),
        method=ScoreMethod.COMPUTED,
        label="computed fundamentals",
        citation=None,
        breakdown=subs,
    )


def effective_score(project: Project, kind: ScoreKind) -> Score | None:
    """The curated score of `kind` if the project has one, else a computed one (fundamentals
    only; tech needs repository data that ingestion provides)."""
    curated = project.score(kind)
    if curated is not None or kind is ScoreKind.TECH:
        return curated
    return computed_fundamentals(project.funding_rounds)


def _usd(value: Decimal | None, what: str) -> str:
    return f"{what} unknown" if value is None else f"{what} {format_usd(value)}"


def format_usd(value: Decimal) -> str:
    """$120M, $8B, $6.7M, $450K: compact US dollars for tables and explanations."""
    return "$" + format_compact(value)


def format_compact(value: Decimal, smallest: float = 1e3) -> str:
    """120M, 1.16B, 6.7M: compact numbers (up to two decimals) from `smallest` up."""
    v = float(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(v) >= size and size >= smallest:
            return f"{v / size:.2f}".rstrip("0").rstrip(".") + suffix
    return f"{v:,.2f}".rstrip("0").rstrip(".")
