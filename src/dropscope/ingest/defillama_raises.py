"""DefiLlama funding rounds: the raises list (`GET {base}/raises`) and the `raises` of each
matched protocol's detail (`GET {base}/protocol/{slug}`).

Both carry `date` (UNIX seconds), `name`, `round`, `amount`, `valuation`, `source` (a link
to the announcement), `leadInvestors`, `otherInvestors` and `defillamaId`. Units differ: the
raises list reports `amount` and `valuation` in millions of US dollars, protocol details
sometimes in plain dollars. `usd_amount` reads a value below 100,000 as millions and a
larger one as dollars (no round reaches $100B, none is below $100,000 in plain dollars).

The raises list is a paid-plan endpoint today: an answer of 401, 402, 403 or 404 is noted and
the protocol details are used alone. A round present in both is kept once (same protocol,
day and round name).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from dropscope.domain.ingested import (
    Provenance,
    RaiseRecord,
    SourceName,
    check_amount,
    check_day,
    epoch_to_datetime,
)
from dropscope.domain.text import normalise_name, slugify
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

SOURCE = SourceName.DEFILLAMA_RAISES
MILLIONS_BELOW = Decimal(100_000)
PAID_PLAN = (401, 402, 403, 404)


class _Raise(BaseModel):
    model_config = ConfigDict(extra="ignore")

    date: float
    name: str | None = None
    round: str | None = None
    amount: float | None = None
    valuation: float | str | None = None
    source: str | None = None
    leadInvestors: list[str] = []
    otherInvestors: list[str] = []
    defillamaId: str | int | None = None


def usd_amount(field: str, value: float | str | None) -> Decimal | None:
    """Dollars from a DefiLlama amount in millions or in dollars (see the module docstring);
    0 and empty strings mean "not disclosed"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    amount = check_amount(field, decimal(value))
    if amount is None or amount == 0:
        return None
    return amount * 1_000_000 if amount < MILLIONS_BELOW else amount


def parse(
    data: Any,
    url: str,
    provenance: Provenance,
    rejected: list[str],
    *,
    protocol_slug: str | None = None,
    protocol_name: str | None = None,
    protocol_id: str | None = None,
) -> list[RaiseRecord]:
    """The rounds in a list of raise objects (from either endpoint)."""
    items = expect_list(SOURCE, url, data, "raises")
    today = provenance.day

    def build(_: str, r: _Raise) -> RaiseRecord:
        day = epoch_to_datetime("date", r.date).date()
        check_day("date", day, today, future_days=1)
        name = (r.name or protocol_name or "").strip()
        return RaiseRecord(
            name=name,
            announced_on=day,
            round=(r.round or "").strip() or None,
            provenance=provenance,
            defillama_id=str(r.defillamaId) if r.defillamaId is not None else protocol_id,
            protocol_slug=protocol_slug,
            amount_usd=usd_amount("amount", r.amount),
            valuation_usd=usd_amount("valuation", r.valuation),
            lead_investors=tuple(i.strip() for i in r.leadInvestors if i.strip()),
            other_investors=tuple(i.strip() for i in r.otherInvestors if i.strip()),
            source_url=(r.source or "").strip() or None,
        )

    numbered = ((f"#{i}", raw) for i, raw in enumerate(items))
    return parse_records(SOURCE, url, numbered, _Raise, build, rejected, "raise")


async def fetch(http: SourceHttp, base_url: str, targets: Targets) -> SourceBatch:
    """The raises list (if the plan allows) and the raises of each protocol in `targets`."""
    base = base_url.rstrip("/")
    batch = SourceBatch(SOURCE)
    found: dict[tuple[str, str, str], RaiseRecord] = {}

    def keep(records: list[RaiseRecord]) -> None:
        for r in records:
            who = r.defillama_id or normalise_name(r.name)
            key = (who, r.announced_on.isoformat(), slugify(r.round or "round"))
            if key not in found:
                found[key] = r
            elif r.protocol_slug and not found[key].protocol_slug:
                found[key] = r  # the detail knows the protocol's slug

    listing = await http.get_json(f"{base}/raises", accept_status=PAID_PLAN)
    if listing.data is None:
        batch.notes.append(
            f"the raises list answered HTTP {listing.status} (a paid plan): protocol details only"
        )
    else:
        body = expect_object(SOURCE, listing.url, listing.data, "raises")
        provenance = Provenance(SOURCE, listing.url, listing.fetched_at)
        keep(parse(body.get("raises"), listing.url, provenance, batch.rejected))
    skipped = 0
    for slug in targets.protocol_slugs:
        try:
            detail = await http.get_json(f"{base}/protocol/{slug}", accept_status=(404,))
        except BudgetExhausted:
            skipped += 1
            continue
        except SourceUnavailable as exc:
            batch.rejected.append(f"protocol {slug}: {exc.message}")
            continue
        if detail.data is None:
            batch.notes.append(f"protocol {slug}: not found on DefiLlama")
            continue
        body = expect_object(SOURCE, detail.url, detail.data, "protocol details")
        provenance = Provenance(SOURCE, detail.url, detail.fetched_at)
        records = parse(
            body.get("raises") or [],
            detail.url,
            provenance,
            batch.rejected,
            protocol_slug=slug,
            protocol_name=str(body.get("name") or slug),
            protocol_id=str(body["id"]) if body.get("id") is not None else None,
        )
        keep(records)
    if skipped:
        batch.notes.append(f"request budget used up: {skipped} protocol detail(s) not fetched")
    batch.raises = list(found.values())
    return batch
