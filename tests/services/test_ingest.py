"""The ingestion pipeline on recorded responses (httpx.MockTransport), on SQLite and PostgreSQL:
statuses move through evidence, re-runs change nothing, dry runs write nothing, and every
failure of a source is isolated and leaves the data as it was."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from dropscope.config import Settings
from dropscope.domain.classify import classify
from dropscope.domain.ingested import SourceName
from dropscope.domain.models import ScoreMethod
from dropscope.domain.status import AirdropStatus
from dropscope.services import data as data_service
from dropscope.services.database import Database
from dropscope.services.ingest import IngestReport, SourceReport, ingest, options_from_settings
from dropscope.storage.tables import metadata
from tests.ingest.fixture_http import FIXTURES, Answer, FixtureRouter, mock_client

DATA = Path(__file__).resolve().parents[2] / "data"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
S = AirdropStatus
ALL = tuple(SourceName)

# Columns that move on every run by design: the run log, when things were last verified,
# when a cached answer was fetched, when a known conflict was last seen.
VOLATILE = {
    "ingest_runs": None,
    "project_verifications": {"verified_at"},
    "ingest_http_cache": {"fetched_at"},
    "ingest_conflicts": {"last_seen_at"},
}


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def run(
    db: Database,
    router: FixtureRouter,
    *sources: SourceName,
    now: datetime = NOW,
    dry_run: bool = False,
    sleeps: Sleeps | None = None,
    settings: Settings | None = None,
) -> IngestReport:
    options = options_from_settings(settings or Settings(), sources or ALL, dry_run=dry_run)

    async def main() -> IngestReport:
        async with mock_client(router) as client:
            return await ingest(
                db,
                options,
                client=client,
                clock=lambda: now,
                sleep=Sleeps() if sleeps is None else sleeps,
            )

    return asyncio.run(main())


def by_source(report: IngestReport) -> dict[str, SourceReport]:
    return {s.source: s for s in report.sources}


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            skip = VOLATILE.get(table.name, set())
            if skip is None:
                continue
            cols = [c for c in table.columns if c.name not in skip]
            rows = conn.execute(sa.select(*cols)).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def status(db: Database, slug: str, at: date) -> tuple[AirdropStatus, str]:
    with db.unit_of_work(read_only=True) as uow:
        p = uow.projects.get(slug)
    assert p is not None
    c = classify(p.evidence, at)
    return c.status, c.rule


@pytest.fixture
def loaded(database: Database) -> Database:
    data_service.load(database, DATA, NOW)
    return database


@pytest.fixture
def router() -> FixtureRouter:
    return FixtureRouter()


def test_a_full_run_moves_statuses_through_evidence(loaded: Database, router) -> None:
    before = status(loaded, "taiko", NOW.date())
    assert before == (S.CONFIRMED, "announced")
    report = run(loaded, router)
    assert [s.state for s in report.sources] == ["ok"] * 5
    assert status(loaded, "taiko", NOW.date()) == (S.DISTRIBUTED, "claim_window_closed")
    assert status(loaded, "scroll", NOW.date()) == (S.DISTRIBUTED, "claim_window_closed")
    changes = {c.project_slug: c for c in report.status_changes}
    assert changes["taiko"].old is S.CONFIRMED
    assert changes["taiko"].new is S.DISTRIBUTED
    assert changes["taiko"].effective_on == date(2024, 7, 6)  # the day after the window
    assert changes["taiko"].evidence_ids == ("defillama-airdrop-taiko",)
    with loaded.unit_of_work(read_only=True) as uow:
        history = uow.status_changes.for_project("taiko")
        taiko = uow.projects.get("taiko")
        version = uow.meta.data_version()
    assert history[-1].new is S.DISTRIBUTED
    assert history[-1].recorded_at == NOW
    assert taiko is not None
    claim = next(e for e in taiko.evidence if e.id == "defillama-airdrop-taiko")
    assert claim.citation.source_id == "defillama-airdrops"  # the change names its source
    assert claim.official  # claim.taiko.xyz is on the project's own domain
    assert (claim.occurred_on, claim.window_end) == (date(2024, 6, 5), date(2024, 7, 5))
    launched = next(e for e in taiko.evidence if e.kind.value == "token_launched")
    assert launched.citation.source_id == "coingecko"
    assert launched.occurred_on == date(2024, 6, 5)  # traded by its first ATH/ATL date
    assert version >= 3


def test_the_article_board_of_2024_01_05_is_unchanged_by_ingestion(
    loaded: Database, router
) -> None:
    run(loaded, router)
    with loaded.unit_of_work(read_only=True) as uow:
        projects = uow.projects.list_all()
    confirmed = {
        p.slug for p in projects if classify(p.evidence, date(2024, 1, 5)).status is S.CONFIRMED
    }
    assert confirmed == {"starknet", "peaq", "dymension", "movement", "layerzero"}


def test_funding_rounds_units_investors_and_provenance(loaded: Database, router) -> None:
    report = run(loaded, router, SourceName.DEFILLAMA_PROTOCOLS, SourceName.DEFILLAMA_RAISES)
    raises = by_source(report)["defillama-raises"]
    assert raises.state == "ok"
    assert raises.new == 5
    assert any("not matched to a project" in n for n in raises.notes)  # Berachain, LayerZero Labs
    with loaded.unit_of_work(read_only=True) as uow:
        taiko = uow.projects.get("taiko")
        astria = uow.projects.get("astria")
        investors = {i.slug: i for i in uow.investors.list_all()}
    assert taiko is not None
    assert astria is not None
    rounds = {r.id: r for r in taiko.funding_rounds}
    # the same Series A in the raises list ($12, millions) and the detail ($12,000,000): once
    series_a = rounds["defillama-2023-06-02-series-a"]
    assert series_a.amount_usd == Decimal(12_000_000)
    assert rounds["defillama-2023-03-15-seed"].amount_usd == Decimal(10_000_000)
    assert rounds["defillama-2024-01-01-strategic"].amount_usd == Decimal(15_000_000)  # detail only
    assert series_a.lead_investors == ("generative-ventures",)
    assert "gsr" in series_a.other_investors  # "GSR" is the curated investor
    assert series_a.citation.source_id == "defillama-raises"
    assert series_a.note
    assert "coindesk.com" in series_a.note
    seed = next(r for r in astria.funding_rounds if r.id.startswith("defillama-"))
    # "maven11 " is Maven 11 again (normalised name), "Figment Capital" an alias of Figment
    assert seed.lead_investors == ("maven-11",)
    assert seed.other_investors == ("delphi-digital", "figment", "robot-ventures")
    assert investors["sequoia-china"].name == "Sequoia China"  # new investors are created
    assert "tm-article-total" in {r.id for r in taiko.funding_rounds}  # curated kept


def test_rerunning_the_same_input_changes_nothing(loaded: Database, router) -> None:
    run(loaded, router)
    before = snapshot(loaded)
    again = run(loaded, router)
    assert all(s.new == 0 and s.updated == 0 for s in again.sources), again.as_dict()
    assert again.status_changes == []
    assert snapshot(loaded) == before
    # conditional requests: validators sent back, 304 answers reused
    sent = [h for url, h in router.log if url.endswith("/protocols")]
    assert sent[-1].get("if-none-match") == 'W/"5a1f-protocols-2026-11-27"'
    assert by_source(again)["defillama-protocols"].not_modified
    # a later day with the same input moves no project (only a new day of market data)
    later = run(loaded, router, now=datetime(2026, 12, 3, 8, 0, tzinfo=UTC))
    assert all(s.state == "ok" for s in later.sources)
    assert by_source(later)["coingecko"].new == 6  # one observation per coin per day
    changed = snapshot(loaded)
    for table in ("evidence", "funding_rounds", "status_changes", "projects"):
        assert changed[table] == before[table], table


def test_a_dry_run_writes_nothing_but_reports_what_would_change(loaded: Database, router) -> None:
    before = snapshot(loaded)
    with loaded.engine.connect() as conn:
        runs_before = conn.execute(sa.text("select count(*) from ingest_runs")).scalar()
    report = run(loaded, router, dry_run=True)
    assert report.dry_run
    assert report.run_id is None
    assert snapshot(loaded) == before
    with loaded.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from ingest_runs")).scalar() == runs_before
    assert {c.project_slug for c in report.status_changes} == {"taiko", "scroll"}
    assert by_source(report)["defillama-raises"].new == 5  # raises saw the dry listings


def test_a_claim_page_appearing_makes_a_project_claimable_then_distributed(
    loaded: Database, router
) -> None:
    june = datetime(2024, 6, 10, 9, 0, tzinfo=UTC)
    first = run(loaded, router, SourceName.DEFILLAMA_AIRDROPS, now=june)
    airdrops = by_source(first)["defillama-airdrops"]
    assert airdrops.state == "ok"
    # Linea's claim, 15 months ahead of this day, is rejected as absurd; the rest goes in
    assert any("linea" in r and "startTime" in r for r in airdrops.rejections)
    changes = {c.project_slug: c for c in first.status_changes}
    assert changes["taiko"].new is S.CLAIMABLE
    assert changes["taiko"].rule == "claim_open"
    assert status(loaded, "taiko", june.date()) == (S.CLAIMABLE, "claim_open")
    july = datetime(2024, 7, 20, 9, 0, tzinfo=UTC)
    second = run(loaded, router, SourceName.DEFILLAMA_AIRDROPS, now=july)
    moved = {c.project_slug: c for c in second.status_changes}
    assert moved["taiko"].old is S.CLAIMABLE
    assert moved["taiko"].new is S.DISTRIBUTED
    with loaded.unit_of_work(read_only=True) as uow:
        recorded = [c.new for c in uow.status_changes.for_project("taiko")]
    assert recorded[-2:] == [S.CLAIMABLE, S.DISTRIBUTED]


def test_conflicts_are_kept_and_the_official_newer_value_wins(loaded: Database, router) -> None:
    report = run(loaded, router, SourceName.DEFILLAMA_AIRDROPS)
    assert by_source(report)["defillama-airdrops"].conflicts == 1
    with loaded.unit_of_work(read_only=True) as uow:
        conflicts = uow.ingest.conflicts("zksync")
        zksync = uow.projects.get("zksync")
    (c,) = conflicts
    assert (c.conflict.curated, c.conflict.ingested) == ("2025-01-03", "2025-06-03")
    assert c.conflict.resolution == "ingested"  # claim.zknation.io is official and newer
    assert c.conflict.source_url == "https://claim.zknation.io"
    assert zksync is not None
    claims = [e for e in zksync.evidence if e.kind.value == "claim_open"]
    assert [e.id for e in claims] == ["defillama-airdrop-zk"]


def test_a_data_load_after_ingesting_keeps_the_ingested_facts(loaded: Database, router) -> None:
    run(loaded, router)
    before = snapshot(loaded)
    report = data_service.load(loaded, DATA, NOW)
    assert report.status_changes == ()
    assert not report.changed.get("projects"), report.changed
    after = snapshot(loaded)
    for table in ("evidence", "funding_rounds", "projects", "status_changes", "meta"):
        assert after[table] == before[table], table


def test_each_project_shows_when_each_part_was_last_verified(loaded: Database, router) -> None:
    run(loaded, router)
    with loaded.unit_of_work(read_only=True) as uow:
        parts = {(v.part, v.source_id): v for v in uow.ingest.verifications("taiko")}
        metrics = uow.ingest.repo_metrics("taiko")
        markets = uow.ingest.latest_markets("taiko")
        candidates = [m.listing.name for m in uow.ingest.candidates()]
        astria = uow.projects.get("astria")
    assert set(parts) == {
        ("profile", "defillama-protocols"),
        ("funding", "defillama-raises"),
        ("airdrop", "defillama-airdrops"),
        ("token", "coingecko"),
        ("tech", "github"),
    }
    assert all(v.verified_at == NOW for v in parts.values())
    assert parts[("tech", "github")].source_url.endswith("/repos/taikoxyz/taiko-mono")
    assert metrics is not None
    assert metrics.metrics.contributors == 201
    assert metrics.commits_last_year == 1702
    assert metrics.score == 97.6
    assert markets[0].market.price_usd == Decimal("0.2871")
    assert candidates == ["Lighter", "StarkGate", "Polymarket"]  # by TVL
    assert astria is not None
    tech = astria.score(astria.scores[0].kind)
    assert tech is not None
    assert tech.method is ScoreMethod.CURATED


# --- failures: each isolated, each leaving the data as it was ---------------------------


def test_a_source_that_is_down_fails_alone_after_backing_off(loaded: Database, router) -> None:
    router.override("coingecko/coins_list.json", Answer(503, "Service Unavailable"))
    sleeps = Sleeps()
    report = run(loaded, router, sleeps=sleeps)
    cg = by_source(report)["coingecko"]
    assert cg.state == "error"
    assert "HTTP 503" in (cg.error or "")
    assert "after 4 attempt(s)" in (cg.error or "")
    assert sleeps[:3] == [0.5, 1.0, 2.0]  # exponential backoff
    assert [s.state for s in report.sources if s.source != "coingecko"] == ["ok"] * 4
    with loaded.unit_of_work(read_only=True) as uow:
        assert uow.ingest.latest_markets() == []
        runs = uow.ingest.runs()
    assert runs[0].state == "finished"
    assert runs[0].summary[3]["state"] == "error"


def test_rate_limiting_is_honoured_up_to_a_cap(loaded: Database, router) -> None:
    router.override(
        "defillama-airdrops/config.json",
        [Answer(429, "slow down", {"Retry-After": "7"}), *[Answer(200, _config())]],
    )
    sleeps = Sleeps()
    report = run(loaded, router, SourceName.DEFILLAMA_AIRDROPS, sleeps=sleeps)
    assert by_source(report)["defillama-airdrops"].state == "ok"
    assert sleeps == [7.0]
    router.override("defillama-airdrops/config.json", Answer(429, "", {"Retry-After": "3600"}))
    report = run(loaded, router, SourceName.DEFILLAMA_AIRDROPS)
    error = by_source(report)["defillama-airdrops"].error or ""
    assert "rate limiting: retry after 3600 s, more than the 120 s cap" in error


def test_a_slow_source_times_out_with_a_clear_error(loaded: Database, router) -> None:
    router.override("defillama-protocols/protocols.json", Answer(raise_error=httpx.ReadTimeout))
    report = run(loaded, router, SourceName.DEFILLAMA_PROTOCOLS)
    error = by_source(report)["defillama-protocols"].error or ""
    assert "no answer within 20 s, after 4 attempt(s)" in error


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head></html>",
            "answered an HTML page, not JSON",
        ),
        (b'[{"id": "111", "name": "Aave V3", "symbol": "AA', "truncated or invalid JSON"),
        (b'{"protocols": []}', "did not answer a list of protocols (got an object)"),
        (b'[{"id": 1, "name": "A", "chains": "Ethereum"}, "x"]', "answered garbage: 2 of 2"),
        (b"", "answered an empty body"),
    ],
)
def test_garbage_is_rejected_and_existing_data_untouched(
    loaded: Database, router, body: bytes, message: str
) -> None:
    run(loaded, router)
    before = snapshot(loaded)
    router.override("defillama-protocols/protocols.json", Answer(200, body))
    report = run(loaded, router, SourceName.DEFILLAMA_PROTOCOLS)
    protocols = by_source(report)["defillama-protocols"]
    assert protocols.state == "error"
    assert message in (protocols.error or "")
    assert snapshot(loaded) == before


def test_absurd_records_are_rejected_one_by_one(loaded: Database, router) -> None:
    raises = json.loads((FIXTURES / "defillama-raises/raises.json").read_text())
    raises["raises"][0]["amount"] = -5  # Taiko's seed: a negative amount
    raises["raises"][3]["date"] = 4102444800  # Parcl's seed: 2100-01-01
    router.override("defillama-raises/raises.json", Answer(200, raises))
    config = _config()
    config["taiko"]["endTime"] = 4102444800000  # a claim window ending in 2100 (ms)
    router.override("defillama-airdrops/config.json", Answer(200, config))
    report = run(loaded, router)
    r, a = by_source(report)["defillama-raises"], by_source(report)["defillama-airdrops"]
    assert r.state == a.state == "ok"
    assert any("raise #0 ('Taiko'): amount: -5.0 is not a valid amount" in x for x in r.rejections)
    assert any("raise #3 ('Parcl'): date: 2100-01-01 is" in x for x in r.rejections)
    assert any("airdrop taiko ('Taiko'): endTime: 2100-01-01" in x for x in a.rejections)
    with loaded.unit_of_work(read_only=True) as uow:
        taiko = uow.projects.get("taiko")
    assert taiko is not None
    assert "defillama-2023-03-15-seed" not in {r.id for r in taiko.funding_rounds}
    assert "defillama-airdrop-taiko" not in {e.id for e in taiko.evidence}


def test_wrong_types_in_one_record_reject_that_record(loaded: Database, router) -> None:
    markets = json.loads((FIXTURES / "coingecko/coins_markets.json").read_text())
    markets[0]["current_price"] = "a lot"
    router.override("coingecko/coins_markets.json", Answer(200, markets))
    report = run(loaded, router, SourceName.COINGECKO)
    cg = by_source(report)["coingecko"]
    assert cg.state == "ok"
    assert cg.rejected == 1
    assert "coin #0 ('Linea'): current_price: Input should be a valid number" in cg.rejections[0]


def test_the_request_budget_stops_a_source_early_with_a_note(loaded: Database, router) -> None:
    settings = Settings(ingest_budgets={"github": 4})
    report = run(loaded, router, settings=settings)
    gh = by_source(report)["github"]
    assert gh.state == "ok"
    assert gh.requests == 4
    assert any("request budget used up" in n for n in gh.notes)


def test_github_still_computing_statistics_leaves_activity_unknown(
    loaded: Database, router
) -> None:
    router.override(
        "github/repos_taikoxyz_taiko-mono_stats_commit_activity.json", Answer(202, b"{}")
    )
    run(loaded, router)
    with loaded.unit_of_work(read_only=True) as uow:
        metrics = uow.ingest.repo_metrics("taiko")
    assert metrics is not None
    assert metrics.commits_last_year is None
    assert [b[1] is None for b in metrics.breakdown] == [True, False, False]
    assert metrics.score is not None  # repository and collaboration are enough for a score


def _config() -> dict[str, Any]:
    return json.loads((FIXTURES / "defillama-airdrops/config.json").read_text())


class _Bug(Exception):
    """An exception no adapter expects (as a bug would raise), from the transport."""

    def __init__(self, message: str, request: httpx.Request | None = None) -> None:
        super().__init__(message)


def test_an_unexpected_error_in_one_source_is_an_error_row_not_a_crash(
    loaded: Database, router
) -> None:
    before = snapshot(loaded)
    router.override("coingecko/coins_list.json", Answer(raise_error=_Bug))
    report = run(loaded, router)
    cg = by_source(report)["coingecko"]
    assert cg.state == "error"
    assert "unexpected _Bug" in (cg.error or "")
    assert [s.state for s in report.sources if s.source != "coingecko"] == ["ok"] * 4
    with loaded.unit_of_work(read_only=True) as uow:
        assert uow.ingest.latest_markets() == []
    assert snapshot(loaded) != before  # the other sources still wrote
