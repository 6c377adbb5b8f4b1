"""DefiLlama protocols (`GET {base}/protocols`): every protocol with its category, chains,
TVL, website, Twitter and GitHub organisations.

The response is a list of objects; the fields read are `id`, `name`, `slug`, `symbol`
(null or "-" when the protocol has no token), `gecko_id`, `parentProtocol`, `category`,
`chains`, `tvl` (US dollars), `url`, `twitter` and `github`. A protocol without symbol and
CoinGecko id is an airdrop candidate. No key; conditional requests are sent when an earlier
answer carried an ETag or Last-Modified.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from dropscope.domain.ingested import (
    ProtocolListing,
    Provenance,
    SourceName,
    check_amount,
)
from dropscope.domain.text import slugify
from dropscope.ingest._http import SourceHttp
from dropscope.ingest._records import SourceBatch, Targets, decimal, expect_list, parse_records

SOURCE = SourceName.DEFILLAMA_PROTOCOLS
NO_SYMBOL = {"", "-", "--", "null"}


class _Protocol(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | int
    name: str
    slug: str | None = None
    symbol: str | None = None
    gecko_id: str | None = None
    parentProtocol: str | None = None
    category: str | None = None
    chains: list[str] = []
    tvl: float | None = None
    url: str | None = None
    twitter: str | None = None
    github: list[str] | None = None


def parse(
    data: Any, url: str, provenance: Provenance, rejected: list[str]
) -> list[ProtocolListing]:
    """The listings in a `/protocols` answer; bad records go to `rejected`."""
    items = expect_list(SOURCE, url, data, "protocols")

    def build(_: str, p: _Protocol) -> ProtocolListing | None:
        name = p.name.strip()
        if not name:
            return None
        symbol = (p.symbol or "").strip()
        return ProtocolListing(
            key=str(p.id),
            name=name,
            slug=(p.slug or slugify(name)).strip(),
            provenance=provenance,
            symbol=None if symbol.lower() in NO_SYMBOL else symbol,
            gecko_id=(p.gecko_id or "").strip() or None,
            parent=p.parentProtocol,
            category=p.category,
            chains=tuple(c.strip() for c in p.chains if c.strip()),
            tvl_usd=check_amount("tvl", decimal(p.tvl)),
            url=(p.url or "").strip() or None,
            twitter=(p.twitter or "").strip() or None,
            github=tuple(g.strip() for g in p.github or () if g.strip()),
        )

    numbered = ((f"#{i}", raw) for i, raw in enumerate(items))
    return parse_records(SOURCE, url, numbered, _Protocol, build, rejected, "protocol")


async def fetch(http: SourceHttp, base_url: str, targets: Targets) -> SourceBatch:
    """Fetch and parse `/protocols` (one request)."""
    batch = SourceBatch(SOURCE)
    response = await http.get_json(f"{base_url.rstrip('/')}/protocols")
    provenance = Provenance(SOURCE, response.url, response.fetched_at)
    batch.listings = parse(response.data, response.url, provenance, batch.rejected)
    batch.not_modified = response.not_modified
    return batch
