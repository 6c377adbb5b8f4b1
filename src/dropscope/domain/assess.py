"""Assess researched projects at a moment: status, scores, inclusion and potential.

`assess_all` is the one place where the pure functions meet. It needs every project at once
because two potential factors compare a project with the others (investor track records and
narrative heat). Only facts known on `at` are used: evidence by its dates; funding rounds
announced after `at` are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from dropscope.domain.classify import Classification, classify
from dropscope.domain.models import Project, Score, ScoreKind
from dropscope.domain.policy import (
    DEFAULT_MIN_TECH,
    DEFAULT_SOLID_FUNDAMENTALS,
    PolicyDecision,
    decide_inclusion,
)
from dropscope.domain.potential import (
    InvestorTally,
    Potential,
    PotentialWeights,
    narrative_heat,
    potential,
)
from dropscope.domain.scoring import (
    effective_score,
    funding_subscore,
    latest_valuation,
    total_raised,
    valuation_subscore,
)
from dropscope.domain.status import AirdropStatus


@dataclass(frozen=True, slots=True)
class AssessParams:
    """Every threshold and weight the assessment uses, with the documented defaults."""

    min_tech: float = DEFAULT_MIN_TECH
    solid_fundamentals: float = DEFAULT_SOLID_FUNDAMENTALS
    weights: PotentialWeights = field(default_factory=PotentialWeights)


@dataclass(frozen=True, slots=True)
class Assessment:
    """What dropscope concludes about one project on `at`, with the reasons."""

    project: Project
    at: date
    classification: Classification
    tech: Score | None
    fundamentals: Score | None
    inclusion: PolicyDecision
    potential: Potential
    raised_usd: Decimal | None
    valuation_usd: Decimal | None

    @property
    def status(self) -> AirdropStatus:
        return self.classification.status


def as_known_on(project: Project, at: date) -> Project:
    """The project with only the funding rounds known on `at` (undated rounds are kept)."""
    rounds = tuple(
        r for r in project.funding_rounds if r.announced_on is None or r.announced_on <= at
    )
    return project if rounds == project.funding_rounds else replace(project, funding_rounds=rounds)


def assess_all(
    projects: Sequence[Project], at: date, params: AssessParams | None = None
) -> list[Assessment]:
    """Assess every project on `at`; the result is in the order of `projects`."""
    p = params or AssessParams()
    known = [as_known_on(pr, at) for pr in projects]
    classes = {pr.slug: classify(pr.evidence, at) for pr in known}
    statuses = {slug: c.status for slug, c in classes.items()}
    portfolios: dict[str, list[str]] = {}
    for pr in known:
        for inv in pr.investor_slugs:
            portfolios.setdefault(inv, []).append(pr.slug)
    heat = narrative_heat({pr.slug: pr.narratives for pr in known})
    tally = InvestorTally.build(portfolios, statuses)
    out = []
    for pr in known:
        tech = effective_score(pr, ScoreKind.TECH)
        fundamentals = effective_score(pr, ScoreKind.FUNDAMENTALS)
        raised = total_raised(pr.funding_rounds)
        valuation = latest_valuation(pr.funding_rounds)
        pot = potential(
            tech=tech.value if tech else None,
            fundamentals=fundamentals.value if fundamentals else None,
            funding=funding_subscore(raised),
            valuation=valuation_subscore(valuation),
            investors=tally.records(pr.investor_slugs, pr.slug),
            status=statuses[pr.slug],
            narratives=pr.narratives,
            heat=heat,
            weights=p.weights,
        )
        decision = decide_inclusion(
            tech, fundamentals, min_tech=p.min_tech, solid_fundamentals=p.solid_fundamentals
        )
        out.append(
            Assessment(
                pr, at, classes[pr.slug], tech, fundamentals, decision, pot, raised, valuation
            )
        )
    return out
