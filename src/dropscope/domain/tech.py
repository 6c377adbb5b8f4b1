"""The computed tech score: three sub-scores from a project's main GitHub repository.

Pure; every scale and weight is a parameter with the default below (docs/scoring.md carries
the same table). Each sub-score is 0–100, clamped:

- activity (0.40): ``volume · recency``, where volume is
  ``100 · log10(1 + commits in the last 52 weeks) / log10(1 + 1000)`` (1,000+ commits a
  year = 100, 100 commits ≈ 67, 10 ≈ 35) and recency is 1 when the last push is at most 30
  days old, falling linearly to 0 at 365 days.
- repository (0.30): ``100 · log10(1 + stars + 2 · forks) / log10(1 + 20000)``: 20,000+
  weighted stars = 100; a fork counts double (someone builds on the code). An archived
  repository scores 0.
- collaboration (0.30): ``100 · (1 − 0.5^(contributors / 10))``: 10 contributors = 50,
  30 = 87.5, 100 ≈ 100.

The score is the weighted mean of the sub-scores whose inputs are known (GitHub may not have
computed commit statistics yet), and exists only when at least two are known. A published
(curated) tech score always takes precedence: a computed score is a different fact, shown
beside it, never instead of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from dropscope.domain.ingested import RepoMetrics
from dropscope.domain.models import Citation, Score, ScoreKind, ScoreMethod, SubScore
from dropscope.domain.scoring import clamp


@dataclass(frozen=True, slots=True)
class TechWeights:
    activity: float = 0.40
    repository: float = 0.30
    collaboration: float = 0.30


@dataclass(frozen=True, slots=True)
class TechScales:
    commits_full: int = 1000  # commits a year that score 100
    fresh_days: int = 30  # a push this recent keeps full activity
    stale_days: int = 365  # a push this old zeroes activity
    stars_full: int = 20000  # weighted stars that score 100
    contributor_half: float = 10.0  # contributors that score 50


def activity_subscore(
    commits_last_year: int | None,
    pushed_at: datetime | None,
    now: datetime,
    scales: TechScales = TechScales(),
) -> float | None:
    if commits_last_year is None or pushed_at is None:
        return None
    volume = 100.0 * math.log10(1 + max(0, commits_last_year)) / math.log10(1 + scales.commits_full)
    age = max(0.0, (now - pushed_at).total_seconds() / 86400)
    span = scales.stale_days - scales.fresh_days
    recency = 1.0 if age <= scales.fresh_days else max(0.0, 1 - (age - scales.fresh_days) / span)
    return round(clamp(volume * recency), 1)


def repository_subscore(
    stars: int, forks: int, archived: bool = False, scales: TechScales = TechScales()
) -> float:
    if archived:
        return 0.0
    weighted = max(0, stars) + 2 * max(0, forks)
    return round(clamp(100.0 * math.log10(1 + weighted) / math.log10(1 + scales.stars_full)), 1)


def collaboration_subscore(
    contributors: int | None, scales: TechScales = TechScales()
) -> float | None:
    if contributors is None:
        return None
    return round(100.0 * (1 - math.pow(0.5, max(0, contributors) / scales.contributor_half)), 1)


def tech_subscores(
    m: RepoMetrics,
    now: datetime,
    weights: TechWeights = TechWeights(),
    scales: TechScales = TechScales(),
) -> tuple[SubScore, ...]:
    """The three sub-scores of repository `m` on `now`, each with the inputs it used."""
    commits = m.commits_last_year
    pushed = f"last push {m.pushed_at:%Y-%m-%d}" if m.pushed_at else "no push date"
    return (
        SubScore(
            "activity",
            activity_subscore(commits, m.pushed_at, now, scales),
            weights.activity,
            f"{commits if commits is not None else 'unknown'} commits in 52 weeks, {pushed}",
        ),
        SubScore(
            "repository",
            repository_subscore(m.stars, m.forks, m.archived, scales),
            weights.repository,
            f"{m.stars} stars, {m.forks} forks{', archived' if m.archived else ''}",
        ),
        SubScore(
            "collaboration",
            collaboration_subscore(m.contributors, scales),
            weights.collaboration,
            f"{m.contributors if m.contributors is not None else 'unknown'} contributors",
        ),
    )


def computed_tech(
    m: RepoMetrics,
    now: datetime,
    weights: TechWeights = TechWeights(),
    scales: TechScales = TechScales(),
    min_known: int = 2,
) -> Score | None:
    """The computed tech score of repository `m`, cited to GitHub on the day it was read;
    None when fewer than `min_known` sub-scores are known."""
    subs = tech_subscores(m, now, weights, scales)
    known = [s for s in subs if s.value is not None]
    if len(known) < min_known:
        return None
    value = sum((s.value or 0.0) * s.weight for s in known) / sum(s.weight for s in known)
    return Score(
        kind=ScoreKind.TECH,
        value=round(value, 1),
        method=ScoreMethod.COMPUTED,
        label=f"computed from GitHub {m.repo}",
        citation=Citation(source_id=m.provenance.source.value, as_of=m.provenance.day),
        breakdown=subs,
    )
