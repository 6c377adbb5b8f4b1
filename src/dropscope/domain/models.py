"""The research model: projects, funding, investors, scores, evidence, past airdrops.

Plain frozen dataclasses with no I/O. Every fact carries a `Citation`: which source said it
and as of when. Lists are tuples so that objects are hashable and compare by value, which is
what lets a reload detect "unchanged" exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Source:
    """A publication facts come from (an article, an official page, an explorer)."""

    id: str
    title: str
    publisher: str
    url: str | None = None
    published_on: date | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a fact came from and the date it describes (`as_of`), with an optional quote."""

    source_id: str
    as_of: date
    quote: str | None = None


class EvidenceKind(StrEnum):
    """Dated observations the airdrop status is derived from (see `classify`)."""

    RUMOUR = "rumour"  # speculation that an airdrop may come
    POINTS_PROGRAM = "points_program"  # points or incentive programme running
    INCENTIVISED_TESTNET = "incentivised_testnet"
    ANNOUNCEMENT = "announcement"  # an airdrop is stated to be coming
    SNAPSHOT = "snapshot"  # eligibility snapshot taken
    CLAIM_OPEN = "claim_open"  # claiming is open (optionally until `window_end`)
    CLAIM_ENDED = "claim_ended"  # the claim window has closed
    TOKEN_LAUNCHED = "token_launched"  # the token trades / exists on chain
    RULED_OUT = "ruled_out"  # the team says there will be no airdrop


@dataclass(frozen=True, slots=True)
class Evidence:
    """One dated, sourced observation about a project's airdrop.

    `occurred_on` is when the event happened (or takes effect); `public_on` is when it became
    publicly known. A status "as of" a date uses only evidence with both dates on or before it.
    `window_end` is the last day of a claim window (for `claim_open`).
    """

    id: str
    kind: EvidenceKind
    occurred_on: date
    public_on: date
    summary: str
    citation: Citation
    official: bool = False
    window_end: date | None = None

    @property
    def known_on(self) -> date:
        """The first day this evidence can be used: it happened and it was public."""
        return max(self.occurred_on, self.public_on)


class ScoreKind(StrEnum):
    TECH = "tech"
    FUNDAMENTALS = "fundamentals"


class ScoreMethod(StrEnum):
    CURATED = "curated"  # a published score, copied with its source
    COMPUTED = "computed"  # computed by dropscope from named sub-scores


@dataclass(frozen=True, slots=True)
class SubScore:
    """One named component of a score. `value` is None when its input is unknown."""

    name: str
    value: float | None
    weight: float
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Score:
    """A 0–100 score with how it was obtained. `label` keeps the source's own wording."""

    kind: ScoreKind
    value: float
    method: ScoreMethod
    label: str
    citation: Citation | None = None
    breakdown: tuple[SubScore, ...] = ()


@dataclass(frozen=True, slots=True)
class Investor:
    """A fund or person that backs projects. `aliases` are other spellings seen in sources."""

    slug: str
    name: str
    aliases: tuple[str, ...] = ()
    website: str | None = None


@dataclass(frozen=True, slots=True)
class FundingRound:
    """Money raised. `round` is e.g. "seed", "series-a", or "total" for an aggregate figure.

    `amount_qualifier` keeps the source's hedging ("over", "about") so figures are not
    presented as more precise than published. Amounts are in US dollars.
    """

    id: str
    round: str
    citation: Citation
    announced_on: date | None = None
    amount_usd: Decimal | None = None
    amount_qualifier: str | None = None
    valuation_usd: Decimal | None = None
    lead_investors: tuple[str, ...] = ()
    other_investors: tuple[str, ...] = ()
    note: str | None = None

    @property
    def investors(self) -> tuple[str, ...]:
        return self.lead_investors + self.other_investors


class TokenState(StrEnum):
    NONE = "none"
    ANNOUNCED = "announced"
    LIVE = "live"


@dataclass(frozen=True, slots=True)
class Token:
    """The project's token, if one is known. Launch is recorded as `token_launched` evidence."""

    symbol: str | None = None
    coingecko_id: str | None = None


@dataclass(frozen=True, slots=True)
class Programme:
    """A named testnet or points programme, with its source."""

    name: str
    citation: Citation
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Project:
    """A researched project and everything known about it, each fact cited."""

    slug: str
    name: str
    summary: str
    sector: str
    citation: Citation  # for the profile: summary, sector, narratives, competitors
    website: str | None = None
    official_domains: tuple[str, ...] = ()
    chains: tuple[str, ...] = ()
    narratives: tuple[str, ...] = ()
    competitors: tuple[str, ...] = ()  # slugs of projects or peers
    aliases: tuple[str, ...] = ()  # other names, e.g. former names or source misspellings
    token: Token = field(default_factory=Token)
    testnet: Programme | None = None
    points_program: Programme | None = None
    funding_rounds: tuple[FundingRound, ...] = ()
    scores: tuple[Score, ...] = ()
    evidence: tuple[Evidence, ...] = ()

    def score(self, kind: ScoreKind) -> Score | None:
        return next((s for s in self.scores if s.kind == kind), None)

    @property
    def investor_slugs(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for r in self.funding_rounds:
            for slug in r.investors:
                seen.setdefault(slug, None)
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class Peer:
    """A project named as a competitor that dropscope does not research (yet)."""

    slug: str
    name: str
    aliases: tuple[str, ...] = ()
    website: str | None = None


class FigureMetric(StrEnum):
    TOKENS_DISTRIBUTED = "tokens_distributed"
    SHARE_OF_SUPPLY = "share_of_supply"  # percent
    RECIPIENTS = "recipients"
    TOKENS_PER_RECIPIENT_MEAN = "tokens_per_recipient_mean"
    TOKENS_PER_RECIPIENT_MEDIAN = "tokens_per_recipient_median"
    TOKENS_PER_RECIPIENT_MIN = "tokens_per_recipient_min"
    TOKENS_PER_RECIPIENT_MAX = "tokens_per_recipient_max"
    VALUE_AT_LAUNCH_USD = "value_at_launch_usd"
    VALUE_PER_RECIPIENT_USD = "value_per_recipient_usd"
    TOKEN_PRICE_AT_LAUNCH_USD = "token_price_at_launch_usd"
    ELIGIBLE_ADDRESSES_BEFORE_SYBIL = "eligible_addresses_before_sybil"


@dataclass(frozen=True, slots=True)
class Figure:
    """One published (or derived) number about a past airdrop.

    `qualifier` keeps the source's precision ("about", "at least", "up to"). A derived figure
    (`derived=True`) is computed by dropscope from other figures; `formula` says how, and its
    citation is that of its inputs.
    """

    metric: FigureMetric
    value: Decimal
    citation: Citation
    qualifier: str | None = None
    derived: bool = False
    formula: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PastAirdrop:
    """A distribution that happened, with its dates and sourced figures."""

    slug: str
    name: str
    token_symbol: str
    citation: Citation
    project_slug: str | None = None
    snapshot_on: date | None = None
    claim_start: date | None = None
    claim_end: date | None = None
    figures: tuple[Figure, ...] = ()
    notes: tuple[str, ...] = ()

    def figure(self, metric: FigureMetric) -> tuple[Figure, ...]:
        return tuple(f for f in self.figures if f.metric == metric)


@dataclass(frozen=True, slots=True)
class Dataset:
    """Everything the curated files (or any source) contribute, validated and resolved."""

    sources: tuple[Source, ...] = ()
    investors: tuple[Investor, ...] = ()
    peers: tuple[Peer, ...] = ()
    projects: tuple[Project, ...] = ()
    past_airdrops: tuple[PastAirdrop, ...] = ()
