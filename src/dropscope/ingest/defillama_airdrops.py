"""DefiLlama's airdrop config (`GET {airdrops_base}/config`): claim pages and their windows.

The answer is an object keyed by airdrop id, each value with `name`, `page` (the claim page),
`tokenSymbol`, `token` (contract address), `chains`, `isActive`, `startTime` and `endTime`.
Times are UNIX seconds or milliseconds (values of 1e12 and more are milliseconds, the rule
DefiLlama's own front end uses). A start more than a year ahead or an end more than three
years ahead is absurd and the entry is rejected; so is an end before the start.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from dropscope.domain.ingested import (
    AbsurdValue,
    AirdropRecord,
    Provenance,
    SourceName,
    check_day,
    epoch_to_datetime,
)
from dropscope.ingest._http import SourceHttp
from dropscope.ingest._records import SourceBatch, Targets, expect_object, parse_records

SOURCE = SourceName.DEFILLAMA_AIRDROPS
START_AHEAD_DAYS = 366
END_AHEAD_DAYS = 3 * 366


class _Airdrop(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    page: str | None = None
    tokenSymbol: str | None = None
    token: str | None = None
    chains: list[str] | None = None
    isActive: bool | None = None
    startTime: float | None = None
    endTime: float | None = None


def parse(data: Any, url: str, provenance: Provenance, rejected: list[str]) -> list[AirdropRecord]:
    """The airdrops in a `/config` answer; bad entries go to `rejected`."""
    items = expect_object(SOURCE, url, data, "airdrops")
    today = provenance.day

    def build(key: str, a: _Airdrop) -> AirdropRecord:
        start = epoch_to_datetime("startTime", a.startTime) if a.startTime else None
        end = epoch_to_datetime("endTime", a.endTime) if a.endTime else None
        if start is not None:
            check_day("startTime", start.date(), today, future_days=START_AHEAD_DAYS)
        if end is not None:
            check_day("endTime", end.date(), today, future_days=END_AHEAD_DAYS)
        if start is not None and end is not None and end < start:
            raise AbsurdValue(f"endTime: {end:%Y-%m-%d} is before startTime {start:%Y-%m-%d}")
        return AirdropRecord(
            key=key,
            name=(a.name or key).strip(),
            provenance=provenance,
            page=(a.page or "").strip() or None,
            token_symbol=(a.tokenSymbol or "").strip() or None,
            token_address=(a.token or "").strip().lower() or None,
            chains=tuple(a.chains or ()),
            is_active=a.isActive,
            start=start,
            end=end,
        )

    return parse_records(SOURCE, url, sorted(items.items()), _Airdrop, build, rejected, "airdrop")


async def fetch(http: SourceHttp, base_url: str, targets: Targets) -> SourceBatch:
    """Fetch and parse `/config` (one request)."""
    batch = SourceBatch(SOURCE)
    response = await http.get_json(f"{base_url.rstrip('/')}/config")
    provenance = Provenance(SOURCE, response.url, response.fetched_at)
    batch.airdrops = parse(response.data, response.url, provenance, batch.rejected)
    batch.not_modified = response.not_modified
    return batch
