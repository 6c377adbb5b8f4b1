"""Figures derived from published ones for past airdrops, marked as derived.

Only simple, stated formulas: a derived figure is never presented as a published one.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_HALF_EVEN, Decimal

from dropscope.domain.models import Figure, FigureMetric, PastAirdrop

_M = FigureMetric


def with_derived_figures(airdrop: PastAirdrop) -> PastAirdrop:
    """Add the mean tokens per recipient (tokens distributed ÷ recipients) when both are
    published and no mean is. Idempotent: derived figures already present are replaced."""
    published = tuple(f for f in airdrop.figures if not f.derived)
    tokens = next((f for f in published if f.metric is _M.TOKENS_DISTRIBUTED), None)
    recipients = next((f for f in published if f.metric is _M.RECIPIENTS), None)
    derived: list[Figure] = []
    has_mean = any(f.metric is _M.TOKENS_PER_RECIPIENT_MEAN for f in published)
    if tokens and recipients and recipients.value > 0 and not has_mean:
        mean = (tokens.value / recipients.value).quantize(Decimal(1), ROUND_HALF_EVEN)
        derived.append(
            Figure(
                metric=_M.TOKENS_PER_RECIPIENT_MEAN,
                value=mean,
                citation=tokens.citation,
                qualifier="about",
                derived=True,
                formula="tokens_distributed ÷ recipients",
                note=f"{tokens.value:,} ÷ {recipients.value:,}, rounded",
            )
        )
    return replace(airdrop, figures=published + tuple(derived))
