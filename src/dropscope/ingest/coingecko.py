"""CoinGecko: which projects' tokens exist, and their market data.

- `GET {base}/coins/list?include_platform=true` (only when contract addresses are to be
  matched): `[{"id","symbol","name","platforms":{"ethereum":"0x…"}}]`;
- `GET {base}/coins/markets?vs_currency=usd&ids=a,b,…` (250 ids a request): `id`,
  `symbol`, `name`, `current_price`, `market_cap`, `fully_diluted_valuation`,
  `total_volume`, `circulating_supply`, `total_supply`, `ath`, `ath_date`, `atl`,
  `atl_date`, `last_updated`;
- `GET {base}/coins/{id}` (market data and tickers off) for `genesis_date` and
  `links.repos_url.github`, for the ids the pipeline asks details of.

A demo key goes in the `x-cg-demo-api-key` header (about 30–100 calls a minute); without
one the public limit is lower, which the request budget and the 429 handling absorb.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from dropscope.domain.ingested import (
    MarketRecord,
    Provenance,
    SourceName,
    check_amount,
    check_day,
)
from dropscope.errors import SourceUnavailable
from dropscope.ingest._http import BudgetExhausted, SourceHttp
from dropscope.ingest._records import (
    SourceBatch,
    Targets,
    decimal,
    expect_list,
    expect_object,
    parse_records,
)

SOURCE = SourceName.COINGECKO
IDS_PER_REQUEST = 250


class _Coin(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    symbol: str = ""
    name: str = ""
    platforms: dict[str, str | None] | None = None


class _Market(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    symbol: str
    name: str
    current_price: float | None = None
    market_cap: float | None = None
    fully_diluted_valuation: float | None = None
    total_volume: float | None = None
    circulating_supply: float | None = None
    total_supply: float | None = None
    ath: float | None = None
    ath_date: datetime | None = None
    atl: float | None = None
    atl_date: datetime | None = None
    last_updated: datetime | None = None


class _Repos(BaseModel):
    model_config = ConfigDict(extra="ignore")

    github: list[str] = []


class _Links(BaseModel):
    model_config = ConfigDict(extra="ignore")

    repos_url: _Repos = _Repos()


class _Detail(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    genesis_date: date | None = None
    links: _Links = _Links()


def parse_markets(
    data: Any, url: str, provenance: Provenance, rejected: list[str]
) -> list[MarketRecord]:
    """The coins in a `/coins/markets` answer; bad records go to `rejected`."""
    items = expect_list(SOURCE, url, data, "coins")
    today = provenance.day

    def day(field: str, value: datetime | None) -> date | None:
        return None if value is None else check_day(field, value.date(), today, future_days=1)

    def build(_: str, m: _Market) -> MarketRecord:
        return MarketRecord(
            coingecko_id=m.id,
            symbol=m.symbol.upper(),
            name=m.name,
            provenance=provenance,
            price_usd=check_amount("current_price", decimal(m.current_price)),
            market_cap_usd=check_amount("market_cap", decimal(m.market_cap)),
            fdv_usd=check_amount("fully_diluted_valuation", decimal(m.fully_diluted_valuation)),
            volume_usd=check_amount("total_volume", decimal(m.total_volume)),
            circulating_supply=check_amount("circulating_supply", decimal(m.circulating_supply)),
            total_supply=check_amount("total_supply", decimal(m.total_supply)),
            ath_usd=check_amount("ath", decimal(m.ath)),
            ath_on=day("ath_date", m.ath_date),
            atl_usd=check_amount("atl", decimal(m.atl)),
            atl_on=day("atl_date", m.atl_date),
            last_updated=m.last_updated,
        )

    numbered = ((f"#{i}", raw) for i, raw in enumerate(items))
    return parse_records(SOURCE, url, numbered, _Market, build, rejected, "coin")


def parse_contracts(
    data: Any, url: str, contracts: set[str], rejected: list[str]
) -> dict[str, str]:
    """contract address → coin id, for the `contracts` found in a `/coins/list` answer."""
    items = expect_list(SOURCE, url, data, "coins")

    def build(_: str, c: _Coin) -> list[tuple[str, str]]:
        return [
            (addr.lower(), c.id)
            for addr in (c.platforms or {}).values()
            if addr and addr.lower() in contracts
        ]

    numbered = ((f"#{i}", raw) for i, raw in enumerate(items))
    found = parse_records(SOURCE, url, numbered, _Coin, build, rejected, "coin")
    return {addr: coin for pairs in found for addr, coin in pairs}


def parse_detail(
    data: Any, url: str, provenance: Provenance
) -> tuple[date | None, tuple[str, ...]]:
    """(genesis date, owner/name repositories) from a `/coins/{id}` answer."""
    body = expect_object(SOURCE, url, data, "coin details")
    detail = _Detail.model_validate(body)
    genesis = detail.genesis_date
    if genesis is not None:
        genesis = check_day("genesis_date", genesis, provenance.day, future_days=1)
    repos = []
    for link in detail.links.repos_url.github:
        parts = link.strip().rstrip("/").split("github.com/")
        if len(parts) == 2 and parts[1].count("/") == 1:
            repos.append(parts[1])
    return genesis, tuple(dict.fromkeys(repos))


async def fetch(http: SourceHttp, base_url: str, targets: Targets) -> SourceBatch:
    """Markets for the projects' coins (by id, or by contract through the coin list), and the
    details asked for; see the module docstring."""
    base = base_url.rstrip("/")
    batch = SourceBatch(SOURCE)
    ids = dict(targets.coingecko_ids)
    if targets.contracts:
        listing = await http.get_json(f"{base}/coins/list", {"include_platform": "true"})
        batch.contract_ids = parse_contracts(
            listing.data, listing.url, set(targets.contracts), batch.rejected
        )
        for addr, coin in batch.contract_ids.items():
            ids.setdefault(coin, targets.contracts[addr])
    wanted = sorted(ids)
    for i in range(0, len(wanted), IDS_PER_REQUEST):
        chunk = wanted[i : i + IDS_PER_REQUEST]
        response = await http.get_json(
            f"{base}/coins/markets",
            {"vs_currency": "usd", "ids": ",".join(chunk), "per_page": str(IDS_PER_REQUEST)},
        )
        provenance = Provenance(SOURCE, response.url, response.fetched_at)
        batch.markets.extend(parse_markets(response.data, response.url, provenance, batch.rejected))
    listed = {m.coingecko_id for m in batch.markets}
    if missing := [c for c in wanted if c not in listed]:
        batch.notes.append(f"not on CoinGecko markets: {', '.join(missing)}")
    await _details(http, base, targets, listed, batch)
    return batch


async def _details(
    http: SourceHttp, base: str, targets: Targets, listed: set[str], batch: SourceBatch
) -> None:
    params = {
        "localization": "false",
        "tickers": "false",
        "market_data": "false",
        "community_data": "false",
        "developer_data": "false",
        "sparkline": "false",
    }
    skipped = 0
    by_id = {m.coingecko_id: i for i, m in enumerate(batch.markets)}
    for coin in targets.detail_ids:
        if coin not in listed:
            continue
        try:
            response = await http.get_json(f"{base}/coins/{coin}", params, accept_status=(404,))
        except BudgetExhausted:
            skipped += 1
            continue
        except SourceUnavailable as exc:
            batch.rejected.append(f"coin {coin}: {exc.message}")
            continue
        if response.data is None:
            continue
        provenance = Provenance(SOURCE, response.url, response.fetched_at)
        try:
            genesis, repos = parse_detail(response.data, response.url, provenance)
        except (ValueError, SourceUnavailable) as exc:
            batch.rejected.append(f"coin {coin}: {exc}")
            continue
        if repos:
            batch.coin_repos[coin] = repos
        if genesis is not None:
            i = by_id[coin]
            m = batch.markets[i]
            batch.markets[i] = replace(m, genesis_on=genesis)
    if skipped:
        batch.notes.append(f"request budget used up: {skipped} coin detail(s) not fetched")
