"""Benchmark: webhook deliveries per second, and end-to-end latency from a write to the
receiver's 2xx.

A receiver process (uvicorn, a bare ASGI app answering 204, `bench/webhook_receiver.py`)
listens on 127.0.0.1 (allowed by `webhook_allowed_networks`, as in the tests).

- **throughput**: N messages in the outbox (test pings through the service), delivered by one
  in-process `Dispatcher` (claim with a lease, sign, POST through the SSRF-checked pinned
  connection, settle each in its own transaction with its attempt logged), with
  `webhook_concurrency` = 16. The **peer** in the same run: the same N signed bodies POSTed by
  a bare `httpx.AsyncClient` to the same receiver with the same concurrency (no database,
  no checks): the ceiling of this machine and receiver. Printed: deliveries/s and the ratio.
- **end to end**: a dispatcher process (`dropscope webhooks dispatch`) runs; the bench makes
  S curation writes one after another (`add_evidence` on a watched project: the events are
  noticed and put in the outbox in the write's transaction; some writes change the status),
  and measures from each write's commit to the receiver's arrival time of its
  `project.evidence_added` message. Twice: with the default idle poll of 1 s and with 50 ms.
  The peer: one bare httpx POST's round trip to the same receiver.

SQLite (a temp file); PostgreSQL too when DROPSCOPE_BENCH_POSTGRES_URL is set.
Run: `.venv/bin/python bench/webhooks.py [N] [S]` (defaults 2000 and 40).
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dropscope.config import Settings  # noqa: E402
from dropscope.domain.webhooks import sign_headers  # noqa: E402
from dropscope.ingest.curated_schema import EvidenceIn  # noqa: E402
from dropscope.services import data as data_service  # noqa: E402
from dropscope.services import watchlists as watch  # noqa: E402
from dropscope.services import webhooks as hooks  # noqa: E402
from dropscope.services.curation import add_evidence  # noqa: E402
from dropscope.services.database import Database  # noqa: E402
from dropscope.services.keys import operator_account  # noqa: E402
from dropscope.services.webhook_dispatch import DispatchConfig, Dispatcher  # noqa: E402

CONCURRENCY = 16
PORT = 18765


def _settings(url: str, **extra: object) -> Settings:
    values: dict[str, object] = {
        "database_url": url,
        "data_dir": ROOT / "data",
        "webhook_allow_http": True,
        "webhook_allowed_networks": ("127.0.0.0/8",),
        "webhook_concurrency": CONCURRENCY,
        "webhook_scan_seconds": 0,
        **extra,
    }
    return Settings(**values)  # type: ignore[arg-type]


def _receiver(log: Path) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "webhook_receiver:app",
        "--app-dir",
        str(ROOT / "bench"),
        "--host",
        "127.0.0.1",
        "--port",
        str(PORT),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    p = subprocess.Popen(cmd, env={**os.environ, "BENCH_RECEIVER_LOG": str(log)})
    for _ in range(200):
        try:
            httpx.post(f"http://127.0.0.1:{PORT}/", content=b"{}")
            return p
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("receiver did not start")


def _arrivals(log: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in log.read_text().splitlines():
        msg_id, at = line.split()
        out.setdefault(msg_id, float(at))
    return out


def _prepare(db: Database, url: str) -> tuple[str, str]:
    settings = _settings(db.url)
    now = datetime.now(UTC)
    data_service.load(db, ROOT / "data", now)
    with db.unit_of_work() as uow:
        me = operator_account(uow, now).id
        slugs = uow.projects.slugs()
        watch.create(uow, me, "all", list(slugs), (), now)
        hook = hooks.create(uow, settings, me, url, now).endpoint
    return me, hook.id


async def _throughput(db: Database, n: int, me: str, hook_id: str) -> tuple[float, float]:
    settings = _settings(db.url)
    now = datetime.now(UTC)
    with db.unit_of_work() as uow:
        bodies = [hooks.ping(uow, me, hook_id, now) for _ in range(n)]
    secret = None
    with db.unit_of_work(read_only=True) as uow:
        secret = uow.webhooks.endpoint(me, hook_id).secret  # type: ignore[union-attr]
    t0 = time.perf_counter()
    async with Dispatcher(db, DispatchConfig.of(settings)) as d:
        done = 0
        while done < n:
            done += await d.run_once()
    ours = n / (time.perf_counter() - t0)

    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(follow_redirects=False) as client:

        async def post(i: int) -> None:
            b = bodies[i]
            h = sign_headers((secret,), f"raw_{i}", int(time.time()), b.body)
            async with gate:
                r = await client.post(
                    f"http://127.0.0.1:{PORT}/hook",
                    content=b.body,
                    headers={"content-type": "application/json", **h},
                )
                r.raise_for_status()

        t0 = time.perf_counter()
        await asyncio.gather(*(post(i) for i in range(n)))
        raw = n / (time.perf_counter() - t0)
    return ours, raw


def _end_to_end(db: Database, samples: int, log: Path, poll: float, me: str) -> list[float]:
    env = {
        **os.environ,
        "DROPSCOPE_DATABASE_URL": db.url,
        "DROPSCOPE_WEBHOOK_ALLOW_HTTP": "true",
        "DROPSCOPE_WEBHOOK_ALLOWED_NETWORKS": '["127.0.0.0/8"]',
        "DROPSCOPE_WEBHOOK_POLL_SECONDS": str(poll),
        "DROPSCOPE_WEBHOOK_SCAN_SECONDS": "0",
    }
    cmd = [
        sys.executable,
        "-c",
        "from dropscope.cli.app import main; main()",
        "webhooks",
        "dispatch",
    ]
    worker = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    committed: dict[str, float] = {}
    try:
        with db.unit_of_work() as uow:  # wait until the dispatcher delivers a first ping
            hook_id = uow.webhooks.endpoints(me)[0].id
            warm = hooks.ping(uow, me, hook_id, datetime.now(UTC)).message_id
        deadline = time.monotonic() + 60
        while warm not in _arrivals(log):
            if time.monotonic() > deadline:
                raise RuntimeError("the dispatcher process did not start")
            time.sleep(0.05)
        time.sleep(poll)  # idle again
        with db.unit_of_work(read_only=True) as uow:
            slugs = uow.projects.slugs()
        for i in range(samples):
            slug = slugs[i % len(slugs)]
            item = EvidenceIn.model_validate(
                {
                    "id": f"bench-{uuid.uuid4().hex[:8]}",
                    "kind": "rumour",
                    "occurred_on": date.today().isoformat(),
                    "public_on": date.today().isoformat(),
                    "summary": "Benchmark evidence.",
                    "cite": {"source": "tm-upcoming-airdrops", "as_of": "2023-12-15"},
                }
            )
            with db.unit_of_work() as uow:
                add_evidence(uow, slug, item, datetime.now(UTC))
            t = time.time()
            with db.unit_of_work(read_only=True) as uow:
                (e,) = uow.events.list(me, types=["project.evidence_added"], limit=1000)[-1:]
            committed[e.id] = t
            time.sleep(0.25 + (i % 7) * 0.05)  # writes arrive at random moments of a poll
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not set(committed) <= set(_arrivals(log)):
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(10)
    arrived = _arrivals(log)
    return [(arrived[k] - t) * 1000 for k, t in committed.items() if k in arrived]


def _raw_rtt(n: int = 200) -> float:
    with httpx.Client() as client:
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            client.post(f"http://127.0.0.1:{PORT}/hook", content=b"{}")
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def run(label: str, db: Database, n: int, samples: int, folder: Path) -> None:
    log = folder / f"received-{label}.log"
    log.touch()
    receiver = _receiver(log)
    try:
        me, hook_id = _prepare(db, f"http://127.0.0.1:{PORT}/hook")
        ours, raw = asyncio.run(_throughput(db, n, me, hook_id))
        print(
            f"{label:<11} throughput  dispatcher {ours:8.0f}/s   raw httpx {raw:8.0f}/s"
            f"   ratio {ours / raw:.2f}"
        )
        rtt = _raw_rtt()
        for poll in (1.0, 0.05):
            lat = _end_to_end(db, samples, log, poll, me)
            print(
                f"{label:<11} end-to-end  poll {poll:>4} s: p50 {_pct(lat, 0.5):7.1f} ms"
                f"  p95 {_pct(lat, 0.95):7.1f} ms  max {max(lat):7.1f} ms  ({len(lat)}/{samples})"
                f"   raw POST rtt {rtt:.2f} ms   p50/rtt {_pct(lat, 0.5) / rtt:.0f}x"
            )
    finally:
        receiver.send_signal(signal.SIGTERM)
        receiver.wait(10)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    samples = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = Database(f"sqlite:///{folder / 'bench.db'}")
        db.ensure_schema()
        try:
            run("sqlite", db, n, samples, folder)
        finally:
            db.close()
        pg = os.environ.get("DROPSCOPE_BENCH_POSTGRES_URL", "").strip()
        if pg:
            schema = f"bench_hooks_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(pg)
            with admin.begin() as c:
                c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            sep = "&" if "?" in pg else "?"
            db = Database(f"{pg}{sep}options=-csearch_path%3D{schema}")
            db.ensure_schema()
            try:
                run("postgresql", db, n, samples, folder)
            finally:
                db.close()
                with admin.begin() as c:
                    c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


if __name__ == "__main__":
    main()
