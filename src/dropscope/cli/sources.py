"""What ingestion knows about a project, as `dropscope project` shows it: when each part was
last verified and by which source, the conflicts kept, the token market and the repository."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table

from dropscope.cli.output import num, usd
from dropscope.services.ingest import ProjectSources


def sources_json(s: ProjectSources) -> dict[str, Any]:
    market = s.markets[0].market if s.markets else None
    repo = s.repository
    return {
        "last_verified": [
            {
                "part": v.part,
                "source": v.source_id,
                "url": v.source_url,
                "verified_at": v.verified_at,
                "changed_at": v.changed_at,
            }
            for v in s.verifications
        ],
        "conflicts": [
            {
                **_fields(c.conflict),
                "first_seen_at": c.first_seen_at,
                "last_seen_at": c.last_seen_at,
            }
            for c in s.conflicts
        ],
        "market": None
        if market is None
        else {
            "coingecko_id": market.coingecko_id,
            "price_usd": market.price_usd,
            "market_cap_usd": market.market_cap_usd,
            "fdv_usd": market.fdv_usd,
            "ath_usd": market.ath_usd,
            "ath_on": market.ath_on,
            "fetched_at": market.provenance.fetched_at,
            "url": market.provenance.url,
        },
        "repository": None
        if repo is None
        else {
            "repo": repo.metrics.repo,
            "stars": repo.metrics.stars,
            "forks": repo.metrics.forks,
            "contributors": repo.metrics.contributors,
            "commits_last_year": repo.commits_last_year,
            "computed_tech": repo.score,
            "breakdown": [
                {"name": n, "value": v, "weight": w, "detail": d} for n, v, w, d in repo.breakdown
            ],
            "fetched_at": repo.metrics.provenance.fetched_at,
        },
    }


def _fields(c: Any) -> dict[str, Any]:
    return {
        "field": c.field,
        "curated": c.curated,
        "ingested": c.ingested,
        "source": c.source_id,
        "url": c.source_url,
        "shown": c.resolution,
    }


def render_sources(s: ProjectSources) -> Group:
    parts: list[Any] = []
    if s.verifications:
        t = Table(title="Last verified", title_justify="left", header_style="bold")
        for col in ("Part", "Source", "Verified", "Last changed", "URL"):
            t.add_column(col)
        for v in s.verifications:
            changed = f"{v.changed_at:%Y-%m-%d %H:%M}" if v.changed_at else "–"
            t.add_row(v.part, v.source_id, f"{v.verified_at:%Y-%m-%d %H:%M}", changed, v.source_url)
        parts.append(t)
    if s.conflicts:
        t = Table(title="Conflicts (kept)", title_justify="left", header_style="bold")
        for col in ("Field", "Curated", "Ingested", "Source", "Shown"):
            t.add_column(col)
        for c in s.conflicts:
            f = c.conflict
            t.add_row(f.field, f.curated, f.ingested, f"{f.source_id} {f.source_url}", f.resolution)
        parts.append(t)
    if s.markets:
        m = s.markets[0].market
        parts.append(
            f"Token market ({m.coingecko_id}, CoinGecko {m.provenance.fetched_at:%Y-%m-%d}): "
            f"price ${m.price_usd if m.price_usd is not None else '–'}, market cap "
            f"{usd(m.market_cap_usd)}, FDV {usd(m.fdv_usd)}, ATH ${m.ath_usd} on {m.ath_on or '–'}"
        )
    if s.repository is not None:
        r = s.repository
        subs = "; ".join(f"{n} {'–' if v is None else f'{v:g}'}" for n, v, _, _ in r.breakdown)
        parts.append(
            f"GitHub {r.metrics.repo}: {num(r.metrics.stars)} stars, {num(r.metrics.forks)} "
            f"forks, computed tech {'–' if r.score is None else f'{r.score:g}'} ({subs})"
        )
    return Group(*parts)
