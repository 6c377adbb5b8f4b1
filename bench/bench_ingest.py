"""Benchmark: ingesting a synthetic DefiLlama-shaped dump of 20,000 protocols and 10,000
raises, from empty and as a no-change refresh, on SQLite and PostgreSQL.

The dump has the exact shape of `GET /protocols` and `GET /raises` (the records of
`tests/fixtures/` plus synthetic ones: a third tokenless, raises spread over the protocols),
served in process by `httpx.MockTransport`, so the figures are the pipeline's (parse,
match, diff, write, classify), not the network's. Each run starts on a database holding the
curated data. Printed: seconds for the first ingestion ("from empty") and for the second,
identical one (the steady-state refresh, where nothing changes), each with its ratio to the
issue's ceiling: 30 s from empty, 10 s for the refresh.

Run: `make bench` (or `.venv/bin/python bench/bench_ingest.py`); PostgreSQL when
DROPSCOPE_TEST_POSTGRES_URL (or DROPSCOPE_BENCH_POSTGRES_URL) is set.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from dropscope.config import Settings
from dropscope.domain.ingested import SourceName
from dropscope.services import data as data_service
from dropscope.services.database import Database
from dropscope.services.ingest import IngestReport, ingest, options_from_settings

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PROTOCOLS, RAISES = 20_000, 10_000
CEILING_EMPTY_S, CEILING_REFRESH_S = 30.0, 10.0
CATEGORIES = ["Dexes", "Lending", "Bridge", "Derivatives", "Yield", "CDP", "Liquid Staking"]
CHAINS = ["Ethereum", "Arbitrum", "Base", "Solana", "BSC", "Polygon", "Optimism", "Avalanche"]


def dump() -> tuple[bytes, bytes]:
    """(protocols, raises) JSON bodies."""
    rng = random.Random(6)
    protocols: list[dict[str, Any]] = json.loads(
        (FIXTURES / "defillama-protocols/protocols.json").read_text()
    )
    template = protocols[0]
    for i in range(PROTOCOLS - len(protocols)):
        tokenless = i % 3 == 0
        name = f"Protocol {i:05d}"
        protocols.append(
            {
                **template,
                "id": str(100_000 + i),
                "name": name,
                "slug": f"protocol-{i:05d}",
                "symbol": "-" if tokenless else f"P{i:05d}",
                "gecko_id": None if tokenless else f"protocol-{i:05d}",
                "url": f"https://protocol-{i:05d}.example",
                "twitter": f"protocol{i:05d}",
                "category": rng.choice(CATEGORIES),
                "chains": rng.sample(CHAINS, rng.randint(1, 3)),
                "tvl": round(rng.lognormvariate(15, 2), 2),
                "parentProtocol": None,
                "github": [f"protocol-{i:05d}"],
            }
        )
    raises: dict[str, list[dict[str, Any]]] = json.loads(
        (FIXTURES / "defillama-raises/raises.json").read_text()
    )
    rows = raises["raises"]
    for _ in range(RAISES - len(rows)):
        p = rng.randrange(PROTOCOLS - 7)
        rows.append(
            {
                **rows[0],
                "date": 1_600_000_000 + rng.randrange(170_000_000),
                "name": f"Protocol {p:05d}",
                "round": rng.choice(["Seed", "Series A", "Series B", "Strategic"]),
                "amount": round(rng.uniform(0.5, 80), 1),
                "valuation": None,
                "leadInvestors": [f"Fund {rng.randrange(400)}"],
                "otherInvestors": [f"Fund {rng.randrange(400)}" for _ in range(3)],
                "defillamaId": str(100_000 + p),
            }
        )
    return json.dumps(protocols).encode(), json.dumps(raises).encode()


def transport(protocols: bytes, raises: bytes) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/protocols":
            return httpx.Response(
                200, content=protocols, headers={"Content-Type": "application/json"}
            )
        if path == "/raises":
            return httpx.Response(200, content=raises, headers={"Content-Type": "application/json"})
        return httpx.Response(404, json={"message": "not found"})

    return httpx.MockTransport(handler)


def databases() -> Iterator[tuple[str, Database]]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            db.ensure_schema()
            yield "SQLite", db
        finally:
            db.close()
    server = os.environ.get("DROPSCOPE_BENCH_POSTGRES_URL") or os.environ.get(
        "DROPSCOPE_TEST_POSTGRES_URL"
    )
    if not server:
        print("PostgreSQL: skipped (set DROPSCOPE_TEST_POSTGRES_URL)")
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in server else "?"
    db = Database(f"{server}{sep}options=-csearch_path%3D{schema}")
    try:
        db.ensure_schema()
        yield "PostgreSQL", db
    finally:
        db.close()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def timed_run(db: Database, mock: httpx.MockTransport) -> tuple[float, IngestReport]:
    sources = (SourceName.DEFILLAMA_PROTOCOLS, SourceName.DEFILLAMA_RAISES)
    options = options_from_settings(Settings(), sources)

    async def main() -> IngestReport:
        async with httpx.AsyncClient(transport=mock) as client:
            return await ingest(db, options, client=client, clock=lambda: NOW)

    t0 = time.perf_counter()
    report = asyncio.run(main())
    return time.perf_counter() - t0, report


def main() -> None:
    protocols, raises = dump()
    mock = transport(protocols, raises)
    print(
        f"dump: {PROTOCOLS:,} protocols ({len(protocols) / 1e6:.1f} MB), "
        f"{RAISES:,} raises ({len(raises) / 1e6:.1f} MB)"
    )
    for name, db in databases():
        data_service.load(db, ROOT / "data", NOW)
        first, r1 = timed_run(db, mock)
        second, r2 = timed_run(db, mock)
        assert all(s.state == "ok" for s in r1.sources + r2.sources), r1.as_dict()
        assert all(s.new == s.updated == 0 for s in r2.sources), r2.as_dict()
        listings = r1.sources[0]
        print(
            f"{name:<10} from empty {first:6.2f} s ({first / CEILING_EMPTY_S:.2f} × the "
            f"{CEILING_EMPTY_S:g} s ceiling; {listings.new:,} listings, "
            f"{r1.sources[1].new} rounds matched)   refresh {second:6.2f} s "
            f"({second / CEILING_REFRESH_S:.2f} × the {CEILING_REFRESH_S:g} s ceiling)"
        )


if __name__ == "__main__":
    main()
