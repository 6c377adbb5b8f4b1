"""The adapters by source name, in pipeline order: each is `fetch(http, base_url, targets)`
returning a `SourceBatch`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from dropscope.domain.ingested import SourceName
from dropscope.ingest import coingecko, defillama_airdrops, defillama_protocols, defillama_raises
from dropscope.ingest import github as github_adapter
from dropscope.ingest._http import BudgetExhausted, HttpPolicy, SourceHttp, fixture_name
from dropscope.ingest._records import SourceBatch, Targets

Fetch = Callable[[SourceHttp, str, Targets], Awaitable[SourceBatch]]

FETCHERS: dict[SourceName, Fetch] = {
    SourceName.DEFILLAMA_PROTOCOLS: defillama_protocols.fetch,
    SourceName.DEFILLAMA_RAISES: defillama_raises.fetch,
    SourceName.DEFILLAMA_AIRDROPS: defillama_airdrops.fetch,
    SourceName.COINGECKO: coingecko.fetch,
    SourceName.GITHUB: github_adapter.fetch,
}

__all__ = [
    "FETCHERS",
    "BudgetExhausted",
    "Fetch",
    "HttpPolicy",
    "SourceBatch",
    "SourceHttp",
    "Targets",
    "fixture_name",
]
