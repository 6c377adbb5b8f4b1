"""Turning one source's batch into project facts, and writing them (inside the caller's unit
of work): normalise → match → merge under the precedence rule → diff → write.

`IngestState` is what the pipeline knows between sources: the projects as merged so far,
the indexes that match names to them, and what earlier sources taught (DefiLlama listings
matched to projects, token contracts from claim pages, repositories named by CoinGecko).
It lives in memory, so a dry run sees later sources build on earlier ones although nothing
is written.

Ids of ingested items are stable (derived from what they describe, never from the fetch
time) and their dates never move later, which is what makes re-running idempotent.
"""

from __future__ import annotations

import copy
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from dropscope.domain.ingested import (
    INGEST_SOURCES,
    FieldConflict,
    MatchedListing,
    ProtocolListing,
    RaiseRecord,
    SourceName,
    StoredMarket,
)
from dropscope.domain.matching import InvestorIndex, ProjectIndex, official_domains, on_domain
from dropscope.domain.merge import IngestedFacts, ProfileClaim, ingested_part, merge_project
from dropscope.domain.models import (
    Citation,
    Evidence,
    EvidenceKind,
    FundingRound,
    Project,
    Score,
)
from dropscope.domain.tech import computed_tech, tech_subscores
from dropscope.domain.text import slugify
from dropscope.ingest._records import SourceBatch, Targets
from dropscope.services.database import UnitOfWork

# Sources whose counts are of the facts they add to projects (rounds, evidence); the others
# count the rows they keep (listings, market observations, repository metrics).
_COUNTS_FACTS = {SourceName.DEFILLAMA_RAISES, SourceName.DEFILLAMA_AIRDROPS}
_HOW_RANK = {"coingecko-id": 0, "slug": 1, "website": 2, "name": 3}
PARTS = {
    SourceName.DEFILLAMA_PROTOCOLS: "profile",
    SourceName.DEFILLAMA_RAISES: "funding",
    SourceName.DEFILLAMA_AIRDROPS: "airdrop",
    SourceName.COINGECKO: "token",
    SourceName.GITHUB: "tech",
}


@dataclass
class IngestState:
    projects: dict[str, Project]
    investors: InvestorIndex
    listings: dict[str, MatchedListing]  # matched DefiLlama listings by key
    contracts: dict[str, str] = field(default_factory=dict)  # address → project slug
    repos: dict[str, list[str]] = field(default_factory=dict)  # project → GitHub targets
    index: ProjectIndex = field(init=False)

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        self.index = ProjectIndex(self.projects.values())
        for m in self.listings.values():
            if m.project_slug and m.listing.gecko_id:
                self.index.add_coingecko_id(m.listing.gecko_id, m.project_slug)

    def copy(self) -> IngestState:
        """A copy to work on: a failed source's changes are dropped with it."""
        return IngestState(
            projects=dict(self.projects),
            investors=copy.deepcopy(self.investors),
            listings=dict(self.listings),
            contracts=dict(self.contracts),
            repos={slug: list(repos) for slug, repos in self.repos.items()},
        )

    @classmethod
    def load(cls, uow: UnitOfWork) -> IngestState:
        state = cls(
            projects={p.slug: p for p in uow.projects.list_all()},
            investors=InvestorIndex(uow.investors.list_all()),
            listings={m.listing.key: m for m in uow.ingest.listings(matched=True)},
        )
        for slug, repo in uow.ingest.repo_targets().items():
            state.repos.setdefault(slug, []).append(repo)
        return state

    def targets(self) -> Targets:
        matched = [m for m in self.listings.values() if m.project_slug in self.projects]
        gecko: dict[str, str] = {}
        for p in self.projects.values():
            if p.token.coingecko_id:
                gecko[p.token.coingecko_id] = p.slug
        for m in matched:
            if m.listing.gecko_id and m.project_slug:
                gecko.setdefault(m.listing.gecko_id, m.project_slug)
        github: dict[str, list[str]] = {s: list(r) for s, r in self.repos.items()}
        for m in sorted(matched, key=lambda m: m.listing.key):
            if m.project_slug:
                github.setdefault(m.project_slug, []).extend(m.listing.github)
        return Targets(
            protocol_slugs=tuple(sorted({m.listing.slug for m in matched})),
            coingecko_ids=gecko,
            contracts=dict(self.contracts),
            detail_ids=tuple(sorted(gecko)),
            github={s: tuple(dict.fromkeys(t)) for s, t in github.items() if t},
        )


@dataclass
class Applied:
    """What applying a batch did (counts of facts, not of rows)."""

    counts: Counter[str] = field(default_factory=Counter)
    conflicts: list[FieldConflict] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)  # project slugs, in order
    changed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    candidates: int = 0
    investors_created: int = 0


def apply_batch(uow: UnitOfWork, state: IngestState, batch: SourceBatch, now: datetime) -> Applied:
    """Write `batch`'s facts through `uow` and update `state`; see the module docstring."""
    for source in INGEST_SOURCES.values():  # every one: a dry run rolled earlier ones back
        uow.sources.save(source)
    out = Applied()
    facts: dict[str, _Facts] = defaultdict(_Facts)
    handler = _HANDLERS[batch.source]
    handler(uow, state, batch, facts, out)
    for inv in state.investors.created.values():  # idempotent; see above
        if uow.investors.save(inv) == "created":
            out.investors_created += 1
    part = PARTS[batch.source]
    for slug in sorted(facts):
        f = facts[slug]
        base = state.projects[slug]
        merged = merge_project(base, f.build())
        if batch.source in _COUNTS_FACTS:
            n_new, n_updated = _diff(base, merged.project)
            submitted = len(f.evidence) + len(f.rounds)
            out.counts["new"] += n_new
            out.counts["updated"] += n_updated
            out.counts["unchanged"] += max(0, submitted - n_new - n_updated)
        out.conflicts.extend(merged.conflicts)
        changed = uow.projects.save(merged.project, now) != "unchanged"
        uow.ingest.verify(slug, part, batch.source.value, f.url or "", now, changed)
        state.projects[slug] = merged.project
        out.touched.append(slug)
        if changed:
            out.changed.append(slug)
    if out.conflicts:
        uow.ingest.record_conflicts(out.conflicts, now)
    if batch.source in (SourceName.DEFILLAMA_PROTOCOLS, SourceName.COINGECKO):
        state.reindex()
    return out


def reapply_ingested(
    project: Project,
    stored: Project | None,
    listings: Iterable[MatchedListing],
    markets: Iterable[StoredMarket] = (),
) -> tuple[Project, list[FieldConflict]]:
    """`project` (as read from its curated file) merged with what ingestion had added: the
    ingested part of its stored copy (`stored`), and the profile claims of the DefiLlama
    `listings` and CoinGecko `markets` matched to it. So a `data load` never drops
    ingested facts, and agrees with what the last ingestion wrote."""
    facts = ingested_part(stored) if stored is not None else IngestedFacts()
    claims = [c for m in listings for c in _profile_claims(m.listing)]
    for sm in markets:
        p = sm.market.provenance
        claims.append(
            ProfileClaim("token_coingecko_id", sm.market.coingecko_id, p.source.value, p.url, p.day)
        )
    if not facts and not claims:
        return project, []
    merged = merge_project(project, replace(facts, profile=tuple(claims)))
    return merged.project, list(merged.conflicts)


@dataclass
class _Facts:
    evidence: list[Evidence] = field(default_factory=list)
    rounds: list[FundingRound] = field(default_factory=list)
    tech: Score | None = None
    profile: list[ProfileClaim] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    url: str | None = None  # the URL the source answered (for the verification record)

    def build(self) -> IngestedFacts:
        return IngestedFacts(
            tuple(self.evidence), tuple(self.rounds), self.tech, tuple(self.profile), self.urls
        )


def _diff(before: Project, after: Project) -> tuple[int, int]:
    """(new, updated) evidence items and funding rounds between two versions of a project."""
    new = updated = 0
    for old_items, new_items in (
        ({e.id: e for e in before.evidence}, {e.id: e for e in after.evidence}),
        ({r.id: r for r in before.funding_rounds}, {r.id: r for r in after.funding_rounds}),
    ):
        for key, item in new_items.items():
            if key not in old_items:
                new += 1
            elif old_items[key] != item:
                updated += 1
    return new, updated


def _profile_claims(listing: ProtocolListing) -> list[ProfileClaim]:
    p = listing.provenance
    values: list[tuple[str, str | tuple[str, ...] | None]] = [
        ("website", listing.url),
        ("chains", listing.chains),
        ("token_symbol", listing.symbol),
        ("token_coingecko_id", listing.gecko_id),
    ]
    return [
        ProfileClaim(name, value, p.source.value, p.url, p.day) for name, value in values if value
    ]


# --- one handler per source: batch → facts per project (and side tables) -----------------


def _protocols(
    uow: UnitOfWork, state: IngestState, batch: SourceBatch, facts: dict[str, _Facts], out: Applied
) -> None:
    items: list[tuple[ProtocolListing, str | None, str | None]] = []
    best: dict[str, tuple[tuple[int, float], ProtocolListing]] = {}
    for listing in batch.listings:
        m = state.index.match(
            names=(listing.name,),
            slugs=(listing.slug,),
            url=listing.url,
            coingecko_id=listing.gecko_id,
        )
        items.append((listing, m.slug if m else None, m.how if m else None))
        if m is None:
            out.candidates += listing.tokenless
            continue
        rank = (_HOW_RANK[m.how], -float(listing.tvl_usd or 0))
        if m.slug not in best or rank < best[m.slug][0]:
            best[m.slug] = (rank, listing)
    saved = uow.ingest.save_listings(items)
    out.counts.update({"new": saved["created"], "updated": saved["updated"]})
    out.counts["unchanged"] += saved["unchanged"]
    seen = {listing.key for listing, _, _ in items}
    for key in [k for k in state.listings if k in seen]:
        del state.listings[key]
    for listing, slug, how in items:
        if slug is not None:
            state.listings[listing.key] = MatchedListing(listing, slug, how)
    for slug, (_, listing) in best.items():
        f = facts[slug]
        f.url = listing.provenance.url
        f.profile.extend(_profile_claims(listing))
    out.notes.append(
        f"{len(batch.listings)} protocols: {sum(1 for _, s, _ in items if s)} matched to "
        f"projects, {out.candidates} tokenless candidates"
    )


def _raises(
    uow: UnitOfWork, state: IngestState, batch: SourceBatch, facts: dict[str, _Facts], out: Applied
) -> None:
    by_key = {m.listing.key: m.project_slug for m in state.listings.values()}
    by_slug = {m.listing.slug: m.project_slug for m in state.listings.values()}
    used: dict[str, Counter[str]] = defaultdict(Counter)
    unmatched = 0
    for r in sorted(batch.raises, key=_raise_order):
        slug = (r.protocol_slug and by_slug.get(r.protocol_slug)) or (
            r.defillama_id and by_key.get(r.defillama_id)
        )
        if not slug:
            m = state.index.match(names=(r.name,))
            slug = m.slug if m else None
        if not slug or slug not in state.projects:
            unmatched += 1
            continue
        f = facts[slug]
        f.url = f.url or r.provenance.url
        name = slugify(r.round or "") or "undisclosed"
        base_id = f"defillama-{r.announced_on}-{name}"
        used[slug][base_id] += 1
        n = used[slug][base_id]
        round_id = base_id if n == 1 else f"{base_id}-{n}"
        lead = state.investors.resolve_all(r.lead_investors)
        f.rounds.append(
            FundingRound(
                id=round_id,
                round=name,
                citation=Citation(batch.source.value, as_of=r.announced_on),
                announced_on=r.announced_on,
                amount_usd=r.amount_usd,
                valuation_usd=r.valuation_usd,
                lead_investors=lead,
                other_investors=state.investors.resolve_all(r.other_investors, exclude=lead),
                note=f"DefiLlama; announcement: {r.source_url}" if r.source_url else "DefiLlama",
            )
        )
        f.urls[f"round:{round_id}"] = r.source_url or r.provenance.url
    if unmatched:
        out.notes.append(f"{unmatched} round(s) of protocols not matched to a project: skipped")


def _raise_order(r: RaiseRecord) -> tuple[date, str, str, str]:
    amount = "" if r.amount_usd is None else f"{r.amount_usd:f}"
    return (r.announced_on, r.round or "", r.name, amount)


def _airdrops(
    uow: UnitOfWork, state: IngestState, batch: SourceBatch, facts: dict[str, _Facts], out: Applied
) -> None:
    unmatched = 0
    for a in batch.airdrops:
        m = state.index.match(names=(a.name,), slugs=(a.key,), url=a.page)
        slug = m.slug if m else _by_domain(state, a.page)
        if slug is None:
            unmatched += 1
            continue
        project = state.projects[slug]
        if a.token_address:
            state.contracts[a.token_address] = slug
        f = facts[slug]
        f.url = a.provenance.url
        if not a.page:
            out.notes.append(f"{a.key}: listed without a claim page (no evidence)")
            continue
        if a.start is None and a.end is None and a.is_active is False:
            out.notes.append(f"{a.key}: inactive and undated (no evidence)")
            continue
        day = a.provenance.day
        start = a.start.date() if a.start else day
        end = a.end.date() if a.end else None
        window = f", claims from {start}" + (f" until {end}" if end else "")
        ev = Evidence(
            id=f"defillama-airdrop-{slugify(a.key)}",
            kind=EvidenceKind.CLAIM_OPEN,
            occurred_on=start,
            public_on=min(start, day),
            summary=f"{a.name}: claim page {a.page} listed by DefiLlama{window}.",
            citation=Citation(batch.source.value, as_of=day),
            official=on_domain(a.page, official_domains(project)),
            window_end=end,
        )
        f.evidence.append(ev)
        f.urls[f"evidence:{ev.id}"] = a.page
        if a.is_active is False and end is None:
            f.evidence.append(
                replace(
                    ev,
                    id=f"{ev.id}-ended",
                    kind=EvidenceKind.CLAIM_ENDED,
                    occurred_on=max(start, day),
                    public_on=day,
                    summary=f"{a.name}: DefiLlama marks the claim inactive.",
                    window_end=None,
                )
            )
    if unmatched:
        out.notes.append(f"{unmatched} airdrop(s) not matched to a project: skipped")


def _by_domain(state: IngestState, url: str | None) -> str | None:
    found = [p.slug for p in state.projects.values() if on_domain(url, official_domains(p))]
    return found[0] if len(found) == 1 else None


def _coingecko(
    uow: UnitOfWork, state: IngestState, batch: SourceBatch, facts: dict[str, _Facts], out: Applied
) -> None:
    ids = dict(state.targets().coingecko_ids)
    for addr, coin in batch.contract_ids.items():
        if addr in state.contracts:
            ids.setdefault(coin, state.contracts[addr])
    markets = [(m, ids.get(m.coingecko_id)) for m in batch.markets]
    saved = uow.ingest.save_markets(markets)
    out.counts.update({"new": saved["created"], "updated": saved["updated"]})
    out.counts["unchanged"] += saved["unchanged"]
    for m, slug in markets:
        if slug is None or slug not in state.projects:
            continue
        f = facts[slug]
        f.url = m.provenance.url
        traded = m.traded_by or m.provenance.day
        ev = Evidence(
            id=f"coingecko-{slugify(m.coingecko_id)}-launched",
            kind=EvidenceKind.TOKEN_LAUNCHED,
            occurred_on=traded,
            public_on=traded,
            summary=f"{m.symbol} ({m.name}) trades: CoinGecko lists it as {m.coingecko_id!r}.",
            citation=Citation(batch.source.value, as_of=m.provenance.day),
        )
        f.evidence.append(ev)
        f.urls[f"evidence:{ev.id}"] = m.provenance.url
        p = m.provenance
        f.profile.append(
            ProfileClaim("token_coingecko_id", m.coingecko_id, p.source.value, p.url, p.day)
        )
    for coin, repos in batch.coin_repos.items():
        slug = ids.get(coin)
        if slug is not None:
            rest = [r for r in state.repos.get(slug, []) if r not in repos]
            state.repos[slug] = [*repos, *rest]


def _github(
    uow: UnitOfWork, state: IngestState, batch: SourceBatch, facts: dict[str, _Facts], out: Applied
) -> None:
    for slug, m in sorted(batch.repos.items()):
        if slug not in state.projects:
            continue
        at = m.provenance.fetched_at
        score = computed_tech(m, at)
        subs = tech_subscores(m, at)
        saved = uow.ingest.save_repo_metrics(slug, m, score.value if score else None, subs)
        out.counts["new" if saved == "created" else saved] += 1
        f = facts[slug]
        f.url = m.provenance.url
        f.tech = score
        f.urls["tech"] = m.provenance.url


_HANDLERS = {
    SourceName.DEFILLAMA_PROTOCOLS: _protocols,
    SourceName.DEFILLAMA_RAISES: _raises,
    SourceName.DEFILLAMA_AIRDROPS: _airdrops,
    SourceName.COINGECKO: _coingecko,
    SourceName.GITHUB: _github,
}


def touched_projects(state: IngestState, slugs: Iterable[str]) -> list[Project]:
    return [state.projects[s] for s in dict.fromkeys(slugs) if s in state.projects]
