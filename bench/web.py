"""Benchmark: the dashboard's pages, server time, on SQLite with the curated data.

Each page is requested in-process through the whole app (`create_app`: middleware, routing,
one read-only unit of work, the services, Jinja2 rendering, the ETag), with no
`If-None-Match` and a distinct URL each time (an ignored `bench=N` parameter), so every
request builds its page: the page cache never answers. It
prints the median and 95th percentile of the handler's own time (its `Server-Timing`) and
of the whole in-process request, and the ratio of the board's median to its 100 ms ceiling
(the issue's target: board HTML under 100 ms server time on the curated data). It repeats
the board with 1,000 synthetic projects built from the curated ones, for scale.

Run: `make bench` (or `.venv/bin/python bench/web.py`).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx

from dropscope.api.app import create_app
from dropscope.config import Settings
from dropscope.services import data as data_service
from dropscope.services.database import Database

DATA = Path(__file__).resolve().parents[1] / "data"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
CEILING_MS = 100.0
RUNS = 60
PAGES = (
    "/",
    "/?narrative=zk-rollups&min_tech=80&sort=-tech,name",
    "/projects/starknet",
    "/compare?slugs=scroll,linea,taiko",
    "/history",
    "/investors",
)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(db: Database, pages: tuple[str, ...], runs: int) -> dict[str, tuple[float, ...]]:
    settings = Settings(
        database_url=db.url, data_dir=DATA, key_pepper="bench-pepper-0123456789abcdef"
    )  # type: ignore[arg-type]
    app = create_app(settings, database=db, clock=lambda: NOW)
    out = {}
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
    ):
        for path in pages:
            server, whole = [], []
            for i in range(runs + 3):
                t0 = time.perf_counter()
                # a query parameter the pages ignore makes each URL new: no page cache hit
                sep = "&" if "?" in path else "?"
                r = await client.get(f"{path}{sep}bench={i}")
                elapsed = (time.perf_counter() - t0) * 1000
                assert r.status_code == 200, (path, r.status_code)
                if i >= 3:  # the first requests compile templates and warm caches
                    server.append(float(r.headers["server-timing"].split("dur=")[1]))
                    whole.append(elapsed)
            out[path] = (
                statistics.median(server),
                pct(server, 0.95),
                statistics.median(whole),
                pct(whole, 0.95),
                len(r.content) / 1024,
            )
    return out


def scale_up(db: Database, copies: int) -> int:
    with db.unit_of_work() as uow:
        originals = uow.projects.list_all()
        for i in range(copies):
            for p in originals:
                uow.projects.save(replace(p, slug=f"{p.slug}-{i}", name=f"{p.name} {i}"), NOW)
        uow.meta.bump_data_version()
        return len(uow.projects.slugs())


def report(title: str, rows: dict[str, tuple[float, ...]]) -> None:
    print(title)
    print(f"{'page':52} {'server ms':>9} {'p95':>6} {'request ms':>10} {'p95':>6} {'KiB':>6}")
    for path, (med, p95, whole, wp95, kib) in rows.items():
        print(f"{path:52} {med:9.1f} {p95:6.1f} {whole:10.1f} {wp95:6.1f} {kib:6.1f}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        db.ensure_schema()
        data_service.load(db, DATA, NOW)
        curated = asyncio.run(measure(db, PAGES, RUNS))
        report("Dashboard pages, curated data (16 projects), SQLite", curated)
        board_ms = curated["/"][0]
        print(f"board ratio vs {CEILING_MS:.0f} ms ceiling: {board_ms / CEILING_MS:.3f}")
        n = scale_up(db, 62)
        big = asyncio.run(measure(db, PAGES[:2], 10))
        report(f"\nBoard with {n} projects, SQLite", big)
        print(f"board ratio vs {CEILING_MS:.0f} ms ceiling: {big['/'][0] / CEILING_MS:.3f}")
        db.close()


if __name__ == "__main__":
    main()
