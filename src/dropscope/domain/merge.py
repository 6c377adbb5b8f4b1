"""Field-level precedence: merging what sources say into a project without losing anything.

A project holds curated facts (cited to a publication in `data/sources.yaml`) and ingested
ones (cited to an ingestion source, see `domain/ingested.py`). `merge_project(base, facts)`
adds the ingested `facts` to `base` under one rule:

    a curated value beats an ingested one, unless the ingested one is newer
    (its as-of date is after the curated citation's) and from an official source
    (the project's own domain or repository).

When the two disagree, the disagreement is returned as a `FieldConflict` saying which value
the project shows; nothing is overwritten silently. In detail:

- **evidence**: an ingested item with the id of an earlier ingested item replaces it, keeping
  the earlier of each date (`occurred_on`, `public_on`, the citation's `as_of`): dates of
  ingested evidence never move later, so a re-run on a later day changes nothing and a
  replayed status history stays put. If the project has curated evidence of the same kind,
  the ingested item is not added, except: a `claim_open` whose window end the curated one
  lacks is added (it completes it); a `claim_open` whose window end differs is a conflict
  (the ingested item replaces the curated one only under the rule above); a
  `token_launched` dated before the curated launch is a conflict (curated kept).
- **funding rounds**: an ingested round matching a curated one (same round name or same
  amount, announced within 45 days or the curated one undated) is not added; a different
  amount is a conflict. Other ingested rounds are added. Aggregates (`round: total`) never
  match: a total and its parts are different facts (see `total_raised`).
- **tech score**: a computed score replaces only a computed one (or none); a published
  score is never replaced (a different fact, not a disagreement).
- **profile** (website, chains, token symbol and CoinGecko id): an empty field is filled; a
  different website host, symbol or id is a conflict; chains only fill an empty list
  (sources list deployments, not the chain a project builds).

The merge is idempotent: merging the same facts into its own result changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from dropscope.domain.ingested import FieldConflict, is_ingested
from dropscope.domain.matching import url_host
from dropscope.domain.models import (
    Evidence,
    EvidenceKind,
    FundingRound,
    Project,
    Score,
    ScoreKind,
    ScoreMethod,
    Token,
)
from dropscope.domain.text import slugify

ROUND_MATCH_DAYS = 45
AMOUNT_TOLERANCE = Decimal("0.02")  # relative difference below which two amounts agree


def prefer_ingested(curated_as_of: date, ingested_as_of: date, official: bool) -> bool:
    """The precedence rule: True when the ingested value wins."""
    return official and ingested_as_of > curated_as_of


@dataclass(frozen=True, slots=True)
class ProfileClaim:
    """A source's value for a profile field: website, chains, token_symbol,
    token_coingecko_id."""

    field: str
    value: str | tuple[str, ...]
    source_id: str
    source_url: str
    as_of: date
    official: bool = False


@dataclass(frozen=True, slots=True)
class IngestedFacts:
    """What sources say about one project. `urls` maps "evidence:<id>", "round:<id>" and
    "tech" to the URL each came from (for conflicts)."""

    evidence: tuple[Evidence, ...] = ()
    funding_rounds: tuple[FundingRound, ...] = ()
    tech: Score | None = None
    profile: tuple[ProfileClaim, ...] = ()
    urls: Mapping[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.evidence or self.funding_rounds or self.tech or self.profile)


@dataclass(frozen=True, slots=True)
class MergeResult:
    project: Project
    conflicts: tuple[FieldConflict, ...]


def ingested_part(project: Project) -> IngestedFacts:
    """The ingested evidence, rounds and computed score a stored project holds (profile
    claims are not recoverable from the project; callers add them from the listings)."""
    tech = project.score(ScoreKind.TECH)
    return IngestedFacts(
        evidence=tuple(e for e in project.evidence if is_ingested(e.citation.source_id)),
        funding_rounds=tuple(
            r for r in project.funding_rounds if is_ingested(r.citation.source_id)
        ),
        tech=tech if tech and tech.citation and is_ingested(tech.citation.source_id) else None,
    )


def merge_project(base: Project, facts: IngestedFacts) -> MergeResult:
    """`base` with `facts` added under the precedence rule; see the module docstring."""
    m = _Merger(base, facts.urls)
    evidence = list(base.evidence)
    for e in facts.evidence:
        evidence = m.evidence(evidence, e)
    rounds = list(base.funding_rounds)
    for r in facts.funding_rounds:
        rounds = m.funding_round(rounds, r)
    scores = m.tech(base.scores, facts.tech)
    project = replace(base, evidence=tuple(evidence), funding_rounds=tuple(rounds), scores=scores)
    for claim in facts.profile:
        project = m.profile(project, claim)
    return MergeResult(project, tuple(m.conflicts))


class _Merger:
    def __init__(self, base: Project, urls: Mapping[str, str]) -> None:
        self.base = base
        self.urls = urls
        self.conflicts: list[FieldConflict] = []

    def conflict(
        self, field: str, curated: str, ingested: str, source_id: str, url: str, won: bool
    ) -> None:
        self.conflicts.append(
            FieldConflict(
                project_slug=self.base.slug,
                field=field,
                curated=curated,
                ingested=ingested,
                source_id=source_id,
                source_url=url,
                resolution="ingested" if won else "curated",
            )
        )

    def evidence(self, items: list[Evidence], e: Evidence) -> list[Evidence]:
        for i, old in enumerate(items):
            if old.id == e.id:
                kept = replace(
                    e,
                    occurred_on=min(old.occurred_on, e.occurred_on),
                    public_on=min(old.public_on, e.public_on),
                    citation=replace(e.citation, as_of=min(old.citation.as_of, e.citation.as_of)),
                )
                return [*items[:i], kept, *items[i + 1 :]]
        curated = [x for x in items if x.kind is e.kind and not is_ingested(x.citation.source_id)]
        if not curated:
            return [*items, e]
        key = self.urls.get(f"evidence:{e.id}", "")
        source = e.citation.source_id
        if e.kind is EvidenceKind.CLAIM_OPEN:
            ends = {x.window_end for x in curated}
            if e.window_end is None or e.window_end in ends:
                return items
            if ends == {None}:
                return [*items, e]  # completes the curated item: the window's end
            known = ", ".join(sorted(str(d) for d in ends if d is not None))
            newest = max(x.citation.as_of for x in curated)
            won = prefer_ingested(newest, e.citation.as_of, e.official)
            self.conflict("claim window end", known, str(e.window_end), source, key, won)
            if won:
                return [x for x in items if x not in curated] + [e]
            return items
        if e.kind is EvidenceKind.TOKEN_LAUNCHED:
            first = min(x.occurred_on for x in curated)
            if e.occurred_on < first:
                self.conflict(
                    "token launch date",
                    str(first),
                    f"traded by {e.occurred_on}",
                    source,
                    key,
                    False,
                )
        return items

    def funding_round(self, rounds: list[FundingRound], r: FundingRound) -> list[FundingRound]:
        for i, old in enumerate(rounds):
            if old.id == r.id:
                return [*rounds[:i], r, *rounds[i + 1 :]]
        match = _matching_round(rounds, r)
        if match is None:
            return [*rounds, r]
        if (
            match.amount_usd is not None
            and r.amount_usd is not None
            and abs(match.amount_usd - r.amount_usd)
            > max(match.amount_usd, r.amount_usd) * AMOUNT_TOLERANCE
        ):
            self.conflict(
                f"funding {match.round} amount",
                f"{match.amount_usd:f}",
                f"{r.amount_usd:f}",
                r.citation.source_id,
                self.urls.get(f"round:{r.id}", ""),
                False,
            )
        return rounds

    def tech(self, scores: tuple[Score, ...], computed: Score | None) -> tuple[Score, ...]:
        if computed is None:
            return scores
        current = next((s for s in scores if s.kind is ScoreKind.TECH), None)
        if current is not None and current.method is ScoreMethod.CURATED:
            return scores
        if current is None:
            return (*scores, computed)
        return tuple(computed if s is current else s for s in scores)

    def profile(self, p: Project, c: ProfileClaim) -> Project:
        key = c.source_url
        won = prefer_ingested(p.citation.as_of, c.as_of, c.official)
        match c.field:
            case "website":
                value = str(c.value)
                if p.website is None:
                    return replace(p, website=value)
                if url_host(p.website) != url_host(value):
                    self.conflict("website", p.website, value, c.source_id, key, won)
                    if won:
                        return replace(p, website=value)
            case "chains":
                chains = tuple(dict.fromkeys(slugify(x) for x in c.value if slugify(x)))
                if not p.chains and chains:
                    return replace(p, chains=chains)
            case "token_symbol":
                value = str(c.value)
                if p.token.symbol is None:
                    return replace(p, token=Token(value, p.token.coingecko_id))
                if p.token.symbol.casefold() != value.casefold():
                    self.conflict("token symbol", p.token.symbol, value, c.source_id, key, won)
                    if won:
                        return replace(p, token=Token(value, p.token.coingecko_id))
            case "token_coingecko_id":
                value = str(c.value)
                if p.token.coingecko_id is None:
                    return replace(p, token=Token(p.token.symbol, value))
                if p.token.coingecko_id != value:
                    self.conflict(
                        "token coingecko id", p.token.coingecko_id, value, c.source_id, key, won
                    )
                    if won:
                        return replace(p, token=Token(p.token.symbol, value))
        return p


def _matching_round(rounds: Sequence[FundingRound], r: FundingRound) -> FundingRound | None:
    """The curated round `r` describes: same round name, or the same amount, announced within
    `ROUND_MATCH_DAYS` (an undated curated round matches any date). Aggregates never match."""
    name = slugify(r.round)
    for old in rounds:
        if is_ingested(old.citation.source_id) or old.round == "total":
            continue
        near = (
            old.announced_on is None
            or r.announced_on is None
            or abs((old.announced_on - r.announced_on).days) <= ROUND_MATCH_DAYS
        )
        if near and (slugify(old.round) == name or _same_amount(old, r)):
            return old
    return None


def _same_amount(a: FundingRound, b: FundingRound) -> bool:
    if a.amount_usd is None or b.amount_usd is None:
        return False
    return abs(a.amount_usd - b.amount_usd) <= max(a.amount_usd, b.amount_usd) * AMOUNT_TOLERANCE
