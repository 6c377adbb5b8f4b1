"""Benchmark: the airdrop board (load all projects, assess, filter, sort) on SQLite.

Prints, for the curated data (16 projects) and for 1,000 synthetic projects built from them,
the median time of one board call, and two ratios measured in the same run:
- against a ceiling of 100 ms (the dashboard's server-time target for the board page);
- against a peer: a plain `SELECT *` of every row the board needs, with no assembly — the
  floor any board built on this schema pays.

Run: `make bench` (or `.venv/bin/python bench/bench_board.py`).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from dropscope.services import data as data_service
from dropscope.services.board import BoardQuery, board
from dropscope.services.database import Database
from dropscope.storage.tables import metadata

DATA = Path(__file__).resolve().parents[1] / "data"
CEILING_S = 0.100
RUNS = 15
NOW = datetime(2026, 11, 27, tzinfo=UTC)  # the board is measured as of this moment


def median_time(fn, runs: int = RUNS) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def scale_up(db: Database, copies: int) -> int:
    with db.unit_of_work() as uow:
        originals = uow.projects.list_all()
        for i in range(copies):
            for p in originals:
                uow.projects.save(replace(p, slug=f"{p.slug}-{i}", name=f"{p.name} {i}"), NOW)
        return len(uow.projects.slugs())


def raw_select(db: Database) -> None:
    with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            conn.execute(sa.select(table)).fetchall()


def main() -> None:
    today = NOW.date()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.ensure_schema()
        data_service.load(db, DATA, NOW)

        def one_board() -> None:
            with db.unit_of_work() as uow:
                board(uow, today, BoardQuery())

        print(f"{'projects':>9} {'board ms':>9} {'raw SELECT ms':>14} {'x raw':>7} {'/ 100 ms':>9}")
        for copies in (0, 62):
            n = scale_up(db, copies) if copies else 16
            t_board = median_time(one_board)
            t_raw = median_time(lambda: raw_select(db))
            print(
                f"{n:>9} {t_board * 1e3:>9.1f} {t_raw * 1e3:>14.1f} "
                f"{t_board / t_raw:>7.1f} {t_board / CEILING_S:>9.2f}"
            )
        db.close()


if __name__ == "__main__":
    main()
