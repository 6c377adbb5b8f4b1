"""Adapters and their HTTP client on recorded responses (httpx.MockTransport), no database."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from dropscope.domain.ingested import CachedResponse, Provenance, SourceName
from dropscope.errors import SourceUnavailable
from dropscope.ingest import coingecko, defillama_airdrops, defillama_protocols, defillama_raises
from dropscope.ingest._http import BudgetExhausted, HttpPolicy, SourceHttp
from dropscope.ingest._records import Targets
from tests.ingest.fixture_http import FIXTURES, FixtureRouter

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def http(
    handler: Callable[[httpx.Request], httpx.Response],
    sleeps: list[float] | None = None,
    **kwargs: Any,
) -> SourceHttp:
    async def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return SourceHttp(client, "test", sleep=sleep, clock=lambda: NOW, **kwargs)


def get(h: SourceHttp, url: str = "https://example.org/x", **kw: Any) -> Any:
    async def main() -> Any:
        async with h.client:
            return await h.get_json(url, **kw)

    return asyncio.run(main())


def test_transport_errors_are_retried_with_backoff() -> None:
    calls = iter([httpx.ConnectError("refused"), httpx.ConnectError("refused"), None])

    def handler(request: httpx.Request) -> httpx.Response:
        exc = next(calls)
        if exc is not None:
            raise exc
        return httpx.Response(200, json={"ok": True})

    sleeps: list[float] = []
    h = http(handler, sleeps)
    assert get(h).data == {"ok": True}
    assert sleeps == [0.5, 1.0]
    assert h.requests_made == 3


def test_retry_after_as_an_http_date_and_githubs_primary_rate_limit() -> None:
    answers = iter(
        [
            httpx.Response(503, headers={"Retry-After": "Fri, 27 Nov 2026 12:00:09 GMT"}),
            httpx.Response(
                403, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1795780812"}
            ),
            httpx.Response(200, json=[]),
        ]
    )
    sleeps: list[float] = []
    assert get(http(lambda r: next(answers), sleeps)).data == []
    assert sleeps == [9.0, 12.0]  # until the date; until the reset time


def test_the_budget_counts_every_attempt() -> None:
    h = http(lambda r: httpx.Response(500), policy=HttpPolicy(budget=2, max_retries=5))
    with pytest.raises(BudgetExhausted, match="request budget of 2 used up"):
        get(h)


def test_conditional_requests_reuse_the_cached_body_on_304() -> None:
    url = "https://example.org/x"
    cached = CachedResponse(url, "test", '"v1"', None, gzip.compress(b'{"a": 1}'), NOW)
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("If-None-Match"))
        return httpx.Response(304)

    response = get(http(handler, cache={url: cached}), url)
    assert seen == ['"v1"']
    assert response.not_modified
    assert response.data == {"a": 1}


def test_new_validators_are_collected_and_record_mode_writes_fixtures(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"b": 2}, headers={"ETag": '"v2"'})

    h = http(handler, record_dir=tmp_path, base_url="https://api.coingecko.com/api/v3")
    get(h, "https://api.coingecko.com/api/v3/coins/markets", params={"ids": "a,b"})
    (entry,) = h.new_cache.values()
    assert entry.etag == '"v2"'
    assert json.loads(gzip.decompress(entry.body)) == {"b": 2}
    assert json.loads((tmp_path / "test" / "coins_markets.json").read_text()) == {"b": 2}


def test_accepted_statuses_come_back_without_data() -> None:
    response = get(http(lambda r: httpx.Response(402, text="paid plan")), accept_status=(402,))
    assert (response.status, response.data) == (402, None)
    with pytest.raises(SourceUnavailable, match="answered HTTP 404"):
        get(http(lambda r: httpx.Response(404, json={"message": "Not Found"})))


def _provenance(source: SourceName) -> Provenance:
    return Provenance(source, "https://example.org", NOW)


def test_defillama_amount_units_differ_between_endpoints() -> None:
    assert defillama_raises.usd_amount("amount", 12) == Decimal(12_000_000)  # list: millions
    assert defillama_raises.usd_amount("amount", 12_000_000) == Decimal(12_000_000)  # detail
    assert defillama_raises.usd_amount("amount", 5.5) == Decimal("5500000.0")
    assert defillama_raises.usd_amount("amount", 0) is None  # undisclosed
    raw = json.loads((FIXTURES / "defillama-raises/raises.json").read_text())["raises"]
    rejected: list[str] = []
    records = defillama_raises.parse(raw, "u", _provenance(SourceName.DEFILLAMA_RAISES), rejected)
    lz = next(r for r in records if r.name == "LayerZero Labs")
    assert (lz.amount_usd, lz.valuation_usd) == (Decimal(120_000_000), Decimal(3_000_000_000))
    assert lz.announced_on == date(2023, 4, 4)
    assert rejected == []


def test_airdrop_times_in_seconds_or_milliseconds() -> None:
    raw = json.loads((FIXTURES / "defillama-airdrops/config.json").read_text())
    raw["bad"] = {
        "name": "Bad",
        "page": "https://x.io",
        "startTime": 1720137600,
        "endTime": 1717545600,
    }
    rejected: list[str] = []
    records = {
        a.key: a
        for a in defillama_airdrops.parse(
            raw, "u", _provenance(SourceName.DEFILLAMA_AIRDROPS), rejected
        )
    }
    taiko = records["taiko"]  # startTime in seconds, endTime in milliseconds
    assert (taiko.start, taiko.end) == (
        datetime(2024, 6, 5, tzinfo=UTC),
        datetime(2024, 7, 5, tzinfo=UTC),
    )
    assert taiko.token_address == "0x10dea67478c5f8c5e2d90e5e9b26dbe60c54d800"
    assert rejected == ["airdrop bad ('Bad'): endTime: 2024-06-05 is before startTime 2024-07-05"]


def test_protocol_listings_and_candidates() -> None:
    raw = json.loads((FIXTURES / "defillama-protocols/protocols.json").read_text())
    rejected: list[str] = []
    listings = defillama_protocols.parse(
        raw, "u", _provenance(SourceName.DEFILLAMA_PROTOCOLS), rejected
    )
    by_name = {listing.name: listing for listing in listings}
    assert by_name["Astria"].symbol is None  # "-" means no token
    assert by_name["Astria"].tokenless
    assert not by_name["Taiko"].tokenless
    assert by_name["Taiko"].github == ("taikoxyz",)
    assert by_name["Parcl v3"].tvl_usd == Decimal("4821337.42")


def test_coingecko_contracts_markets_and_details_through_the_adapter() -> None:
    router = FixtureRouter()
    targets = Targets(
        coingecko_ids={"taiko": "taiko"},
        contracts={"0x1789e0043623282d5dcc7f213d703c6d8bafbb04": "linea"},
        detail_ids=("taiko",),
    )

    async def main() -> Any:
        async with httpx.AsyncClient(transport=httpx.MockTransport(router)) as client:
            h = SourceHttp(client, "coingecko", clock=lambda: NOW)
            return await coingecko.fetch(h, "https://api.coingecko.com/api/v3", targets)

    batch = asyncio.run(main())
    assert batch.contract_ids == {"0x1789e0043623282d5dcc7f213d703c6d8bafbb04": "linea"}
    assert batch.coin_repos == {"taiko": ("taikoxyz/taiko-mono",)}
    markets = {m.coingecko_id: m for m in batch.markets}
    assert markets["taiko"].traded_by == date(2024, 6, 5)
    assert markets["linea"].price_usd == Decimal("0.00781")
