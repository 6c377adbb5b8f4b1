"""A project page's content: scores and their charts, the evidence timeline, funding."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from markupsafe import Markup

from dropscope.domain.models import Citation, Evidence, FundingRound, Score, ScoreMethod
from dropscope.domain.scoring import total_raised
from dropscope.services.research import Profile
from dropscope.web.charts import Bar, Point, hbars, steps
from dropscope.web.fmt import score, usd
from dropscope.web.links import on_official_domain, web_url


@dataclass(frozen=True, slots=True)
class Cited:
    """A citation as shown: "Publisher: Title", a link when the source has a web URL."""

    text: str
    url: str | None
    as_of: str
    quote: str | None


@dataclass(frozen=True, slots=True)
class Event:
    evidence: Evidence
    cited: Cited
    rests: bool  # the current status rests on it


@dataclass(frozen=True, slots=True)
class RoundRow:
    round: FundingRound
    amount: str
    valuation: str
    investors: tuple[tuple[str, str, bool], ...]  # (slug, name, lead)
    cited: Cited


@dataclass(frozen=True, slots=True)
class OfficialLink:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class ScoreView:
    score: Score
    cited: Cited | None
    chart: Markup | None


@dataclass(frozen=True, slots=True)
class ProjectPage:
    profile: Profile
    scores: tuple[ScoreView, ...]
    potential_chart: Markup
    timeline: tuple[Event, ...]
    rounds: tuple[RoundRow, ...]
    funding_chart: Markup | None
    unplotted_rounds: int  # rounds without an amount
    links: tuple[OfficialLink, ...]
    hidden_links: int  # links in the data that are not on an official domain
    cited: Cited


def cite(p: Profile, c: Citation) -> Cited:
    src = p.sources.get(c.source_id)
    text = f"{src.publisher}: {src.title}" if src else c.source_id
    return Cited(text, web_url(src.url) if src else None, c.as_of.isoformat(), c.quote)


def _score_view(p: Profile, s: Score) -> ScoreView:
    chart = None
    if s.method is ScoreMethod.COMPUTED and s.breakdown:
        bars = [
            Bar(f"{b.name} (weight {b.weight:g})", b.value, score(b.value)) for b in s.breakdown
        ]
        chart = hbars(f"{s.kind.value.title()} score breakdown", bars, scale_max=100)
    return ScoreView(s, cite(p, s.citation) if s.citation else None, chart)


def _links(p: Profile) -> tuple[tuple[OfficialLink, ...], int]:
    pr = p.assessment.project
    candidates = [("Website", pr.website)]
    if pr.testnet:
        candidates.append((f"Testnet: {pr.testnet.name}", pr.testnet.url))
    if pr.points_program:
        candidates.append((f"Points: {pr.points_program.name}", pr.points_program.url))
    shown, hidden = [], 0
    for label, url in candidates:
        if url is None:
            continue
        if on_official_domain(url, pr.official_domains):
            shown.append(OfficialLink(label, url.strip()))
        else:
            hidden += 1
    return tuple(shown), hidden


def _funding_chart(name: str, rounds: Sequence[FundingRound]) -> tuple[Markup | None, int]:
    """Money raised as known over time: each round counts from its announcement date, or,
    when undated, from the date its source reports it (as of); the level is the board's own
    `total_raised` of the rounds known by then (so a reported total is not added twice)."""
    with_amount = [r for r in rounds if r.amount_usd is not None]
    if not with_amount:
        return None, len(rounds)

    def known(r: FundingRound) -> date:
        return r.announced_on or r.citation.as_of

    points = []
    for day in sorted({known(r) for r in with_amount}):
        level = total_raised([r for r in with_amount if known(r) <= day]) or Decimal(0)
        new = [r.round for r in with_amount if known(r) == day]
        points.append(Point(day, float(level), ", ".join(new), usd(level)))
    peak = max(Decimal(str(p.level)) for p in points)
    chart = steps(f"{name}: funding raised over time", points, usd(peak))
    return chart, len(rounds) - len(with_amount)


def project_page(p: Profile) -> ProjectPage:
    a = p.assessment
    pr = a.project
    rests = set(a.classification.evidence_ids)
    timeline = tuple(
        Event(e, cite(p, e.citation), e.id in rests)
        for e in sorted(pr.evidence, key=lambda e: (e.known_on, e.id))
    )
    rounds = []
    for r in pr.funding_rounds:
        names = [(s, p.investors[s].name if s in p.investors else s) for s in r.investors]
        rounds.append(
            RoundRow(
                r,
                usd(r.amount_usd, r.amount_qualifier),
                usd(r.valuation_usd),
                tuple((s, n, s in r.lead_investors) for s, n in names),
                cite(p, r.citation),
            )
        )
    chart, unplotted = _funding_chart(pr.name, pr.funding_rounds)
    potential_bars = [
        Bar(
            f"{f.name} (weight {f.weight:.2f})",
            f.value,
            "unknown" if f.value is None else f"{f.value:g} → {f.contribution:.1f} pts",
        )
        for f in a.potential.factors
    ]
    links, hidden = _links(p)
    return ProjectPage(
        profile=p,
        scores=tuple(_score_view(p, s) for s in (a.tech, a.fundamentals) if s is not None),
        potential_chart=hbars(
            f"Airdrop potential {a.potential.value:g}/100: factors", potential_bars, scale_max=100
        ),
        timeline=timeline,
        rounds=tuple(rounds),
        funding_chart=chart,
        unplotted_rounds=unplotted,
        links=links,
        hidden_links=hidden,
        cited=cite(p, pr.citation),
    )
