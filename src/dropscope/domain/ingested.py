"""What public sources say, as plain records with provenance, before they meet the projects.

Each adapter in `ingest/` turns one source's JSON into these records; the pipeline
(`services/ingest.py`) matches them to projects and turns them into evidence, funding rounds,
token state and score inputs. Every record carries its `Provenance`: the source, the URL it
was read from and when.

The sanity checks (`check_amount`, `check_day`) are the one definition of an absurd value:
a negative or impossibly large amount, a date before 2009 or too far in the future. A record
holding one is rejected with a message naming the field, never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from dropscope.domain.models import Source


class SourceName(StrEnum):
    """The ingestion sources, in the order the pipeline runs them (later ones use earlier
    ones' matches: raises use DefiLlama ids, CoinGecko uses ids and contracts, GitHub uses
    the organisations DefiLlama lists)."""

    DEFILLAMA_PROTOCOLS = "defillama-protocols"
    DEFILLAMA_RAISES = "defillama-raises"
    DEFILLAMA_AIRDROPS = "defillama-airdrops"
    COINGECKO = "coingecko"
    GITHUB = "github"


# The `sources` rows ingested facts cite (their ids are the source names above).
INGEST_SOURCES: dict[SourceName, Source] = {
    SourceName.DEFILLAMA_PROTOCOLS: Source(
        id=SourceName.DEFILLAMA_PROTOCOLS.value,
        title="DefiLlama protocols",
        publisher="DefiLlama",
        url="https://api.llama.fi/protocols",
        note="Ingested automatically; each fact keeps the URL it was read from.",
    ),
    SourceName.DEFILLAMA_RAISES: Source(
        id=SourceName.DEFILLAMA_RAISES.value,
        title="DefiLlama raises and protocol details",
        publisher="DefiLlama",
        url="https://api.llama.fi/raises",
        note="Ingested automatically; each round keeps the URL it was read from.",
    ),
    SourceName.DEFILLAMA_AIRDROPS: Source(
        id=SourceName.DEFILLAMA_AIRDROPS.value,
        title="DefiLlama airdrop claim pages",
        publisher="DefiLlama",
        url="https://airdrops.llama.fi/config",
        note="Ingested automatically; the claim page itself is named in each evidence item.",
    ),
    SourceName.COINGECKO: Source(
        id=SourceName.COINGECKO.value,
        title="CoinGecko coins and markets",
        publisher="CoinGecko",
        url="https://api.coingecko.com/api/v3/coins/markets",
        note="Ingested automatically.",
    ),
    SourceName.GITHUB: Source(
        id=SourceName.GITHUB.value,
        title="GitHub repository statistics",
        publisher="GitHub",
        url="https://api.github.com",
        note="Ingested automatically; inputs of the computed tech sub-scores.",
    ),
}
INGEST_SOURCE_IDS: frozenset[str] = frozenset(s.value for s in SourceName)


def is_ingested(source_id: str | None) -> bool:
    """True when a citation's source is an ingestion source (the fact came from a feed)."""
    return source_id in INGEST_SOURCE_IDS


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a record was read: the source, the exact URL, and when (UTC)."""

    source: SourceName
    url: str
    fetched_at: datetime

    @property
    def day(self) -> date:
        return self.fetched_at.astimezone(UTC).date()


@dataclass(frozen=True, slots=True)
class CachedResponse:
    """A response body kept for conditional requests: sent back as If-None-Match /
    If-Modified-Since, and reused when the source answers 304 Not Modified."""

    url: str
    source: str
    etag: str | None
    last_modified: str | None
    body: bytes
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class ProtocolListing:
    """A DefiLlama protocol. `key` is DefiLlama's id; `symbol` is None when it has no token
    (DefiLlama writes "-"). TVL in US dollars. `github` lists organisation names."""

    key: str
    name: str
    slug: str
    provenance: Provenance
    symbol: str | None = None
    gecko_id: str | None = None
    parent: str | None = None
    category: str | None = None
    chains: tuple[str, ...] = ()
    tvl_usd: Decimal | None = None
    url: str | None = None
    twitter: str | None = None
    github: tuple[str, ...] = ()

    @property
    def tokenless(self) -> bool:
        """No token and no CoinGecko id: an airdrop candidate."""
        return self.symbol is None and self.gecko_id is None


@dataclass(frozen=True, slots=True)
class RaiseRecord:
    """A funding round as DefiLlama reports it, amounts already in US dollars (the raises
    list reports millions, protocol details sometimes plain dollars; the adapter converts).
    Investors are names as written by the source, resolved to investor slugs later."""

    name: str
    announced_on: date
    round: str | None
    provenance: Provenance
    defillama_id: str | None = None
    protocol_slug: str | None = None
    amount_usd: Decimal | None = None
    valuation_usd: Decimal | None = None
    lead_investors: tuple[str, ...] = ()
    other_investors: tuple[str, ...] = ()
    source_url: str | None = None


@dataclass(frozen=True, slots=True)
class AirdropRecord:
    """An entry of DefiLlama's airdrop config: a claim page and its window (UTC)."""

    key: str
    name: str
    provenance: Provenance
    page: str | None = None
    token_symbol: str | None = None
    token_address: str | None = None
    chains: tuple[str, ...] = ()
    is_active: bool | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class MarketRecord:
    """A coin on CoinGecko with its market data in US dollars (None where not reported).

    `genesis_on` comes from the coin detail when asked for; `ath_on`/`atl_on` bound the
    launch from above (a token traded by then)."""

    coingecko_id: str
    symbol: str
    name: str
    provenance: Provenance
    price_usd: Decimal | None = None
    market_cap_usd: Decimal | None = None
    fdv_usd: Decimal | None = None
    volume_usd: Decimal | None = None
    circulating_supply: Decimal | None = None
    total_supply: Decimal | None = None
    ath_usd: Decimal | None = None
    ath_on: date | None = None
    atl_usd: Decimal | None = None
    atl_on: date | None = None
    genesis_on: date | None = None
    last_updated: datetime | None = None

    @property
    def traded_by(self) -> date | None:
        """The earliest day the token is known to exist: genesis, else first of ATH/ATL."""
        if self.genesis_on is not None:
            return self.genesis_on
        days = [d for d in (self.ath_on, self.atl_on) if d is not None]
        return min(days) if days else None


@dataclass(frozen=True, slots=True)
class CoinListing:
    """An entry of CoinGecko's coin list: id, symbol, name and contracts per platform."""

    coingecko_id: str
    symbol: str
    name: str
    platforms: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class RepoMetrics:
    """A GitHub repository's statistics. `weekly_commits` is the last 52 weeks, oldest
    first, or None when GitHub had not computed them yet (it answers 202 meanwhile)."""

    repo: str  # owner/name
    provenance: Provenance
    stars: int
    forks: int
    open_issues: int
    pushed_at: datetime | None
    archived: bool = False
    weekly_commits: tuple[int, ...] | None = None
    contributors: int | None = None

    @property
    def commits_last_year(self) -> int | None:
        return None if self.weekly_commits is None else sum(self.weekly_commits)


@dataclass(frozen=True, slots=True)
class Verification:
    """When a part of a project (profile, funding, airdrop, token, market, tech) was last
    confirmed by a source, and when that source last changed it."""

    project_slug: str
    part: str
    source_id: str
    source_url: str
    verified_at: datetime
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class FieldConflict:
    """A curated and an ingested value that disagree, kept side by side.

    `resolution` says which one the project shows ("curated" or "ingested"); neither is ever
    dropped silently."""

    project_slug: str
    field: str
    curated: str
    ingested: str
    source_id: str
    source_url: str
    resolution: str


# Sanity bounds: nothing in crypto is dated before Bitcoin's genesis block.
EARLIEST_DAY = date(2009, 1, 3)
MAX_AMOUNT_USD = Decimal(10) ** 13  # $10 trillion: more than any raise or valuation


class AbsurdValue(ValueError):
    """A value no real record holds (negative amount, date in 2099); the message names it."""


def check_amount(field: str, value: Decimal | None) -> Decimal | None:
    """`value` unchanged if it is a plausible dollar amount, else `AbsurdValue`."""
    if value is None:
        return None
    if not value.is_finite() or value < 0:
        raise AbsurdValue(f"{field}: {value} is not a valid amount (negative or not a number)")
    if value > MAX_AMOUNT_USD:
        raise AbsurdValue(f"{field}: {value} is implausibly large")
    return value


def check_day(field: str, day: date, today: date, *, future_days: int = 0) -> date:
    """`day` unchanged if it lies between 2009-01-03 and `today` + `future_days`."""
    if day < EARLIEST_DAY:
        raise AbsurdValue(f"{field}: {day} is before 2009")
    if day > today + timedelta(days=future_days):
        allowed = "in the future" if future_days == 0 else f"more than {future_days} days ahead"
        raise AbsurdValue(f"{field}: {day} is {allowed}")
    return day


def epoch_to_datetime(field: str, value: float) -> datetime:
    """A UNIX time in seconds or milliseconds (values of 1e12 and more are milliseconds,
    as DefiLlama's own front end reads them) as an aware UTC datetime."""
    if value < 0:
        raise AbsurdValue(f"{field}: {value} is a negative timestamp")
    seconds = value / 1000 if value >= 1e12 else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise AbsurdValue(f"{field}: {value} is not a valid timestamp") from None


@dataclass(frozen=True, slots=True)
class MatchedListing:
    """A stored DefiLlama listing and the project it was matched to (None: unmatched)."""

    listing: ProtocolListing
    project_slug: str | None
    matched_by: str | None


@dataclass(frozen=True, slots=True)
class StoredConflict:
    conflict: FieldConflict
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class StoredMarket:
    market: MarketRecord
    project_slug: str | None


@dataclass(frozen=True, slots=True)
class IngestRun:
    """A recorded run: `state` running | finished | failed | abandoned; `summary` one
    object per source."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    state: str
    dry_run: bool
    sources: tuple[str, ...]
    summary: tuple[dict[str, object], ...]


@dataclass(frozen=True, slots=True)
class StoredRepo:
    """A project's measured repository: its statistics, commits in the last 52 weeks (None:
    GitHub had not computed them) and the computed tech score (None: too little known)."""

    metrics: RepoMetrics
    commits_last_year: int | None
    score: float | None
    breakdown: tuple[tuple[str, float | None, float, str], ...]  # name, value, weight, detail
