"""The inclusion policy: which researched projects are listed on the board.

From the seed article: "Only projects that score 80% or higher in technology or have solid
fundamentals are considered". A project is **listed** when

    tech >= min_tech (default 80)   or   fundamentals >= solid_fundamentals (default 75)

The article gives no number for "solid". It lists Parcl, "a fundamental project with limited
open-source code for technical review", on a credibility score of 77%, so the threshold must
admit 77; 75 is the largest round number that does, and it is a parameter. Excluded projects
stay in the database and say why.
"""

from __future__ import annotations

from dataclasses import dataclass

from dropscope.domain.models import Score

DEFAULT_MIN_TECH = 80.0
DEFAULT_SOLID_FUNDAMENTALS = 75.0


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """Whether a project is listed, the rule that decided, and a sentence saying why."""

    listed: bool
    rule: str
    reason: str


def decide_inclusion(
    tech: Score | None,
    fundamentals: Score | None,
    *,
    min_tech: float = DEFAULT_MIN_TECH,
    solid_fundamentals: float = DEFAULT_SOLID_FUNDAMENTALS,
) -> PolicyDecision:
    """Apply the article's rule. `min_tech` and `solid_fundamentals` are 0–100 thresholds."""
    if tech is not None and tech.value >= min_tech:
        return PolicyDecision(True, "tech", f"tech score {tech.value:g} ≥ {min_tech:g}")
    if fundamentals is not None and fundamentals.value >= solid_fundamentals:
        how = "computed" if fundamentals.breakdown else fundamentals.label
        return PolicyDecision(
            True,
            "fundamentals",
            f"fundamentals {fundamentals.value:g} ({how}) ≥ {solid_fundamentals:g}",
        )
    parts = [
        f"tech score {tech.value:g} < {min_tech:g}" if tech else "no tech score",
        (
            f"fundamentals {fundamentals.value:g} < {solid_fundamentals:g}"
            if fundamentals
            else "no fundamentals score"
        ),
    ]
    return PolicyDecision(False, "below_thresholds", "; ".join(parts))
