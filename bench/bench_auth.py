"""Benchmark: what API-key authentication costs per request, against a whole request.

In one process, driving ASGI apps directly (no HTTP server, no sockets), median of 5 runs:
- **auth**: the `Gate` middleware (api/gate.py) around an app that answers a fixed 200, with
  a limiter that admits everything and counts nothing (`Unlimited`, from bench/ratelimit.py),
  minus that bare app alone: parse, checksum, HMAC, keys-version check, cache lookup, state,
  allowlist, usage count, and the gate's own work (headers). With one key, and with 1,000
  keys used round-robin (all cached after the first pass).
- **auth, PostgreSQL with Redis**: the same, but the keys version comes with the rate
  limiter's Redis call (`remote=True`), so auth itself makes no round trip.
- **request**: `GET /v1/projects/starknet` through the whole app of `create_app` (auth, rate
  limit in-process, ETag, the response cache warm), the cheapest real data request.

Printed: microseconds per request and `auth ÷ request`, the share of a request that auth
costs. Without HTTP parsing and sockets in the denominator this share is an upper bound of
what a client sees. Target: ≤ 0.15 together with rate limiting (issue 4); this measures the
auth part. SQLite always; PostgreSQL too when DROPSCOPE_BENCH_POSTGRES_URL is set.

Run: `.venv/bin/python bench/bench_auth.py`.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dropscope.api.app import create_app  # noqa: E402
from dropscope.api.gate import Gate  # noqa: E402
from dropscope.config import Settings  # noqa: E402
from dropscope.domain.access import Plan, Scope  # noqa: E402
from dropscope.services import data as data_service  # noqa: E402
from dropscope.services.database import Database  # noqa: E402
from dropscope.services.key_auth import KeyVerifier, UsageRecorder, verifier_for  # noqa: E402
from dropscope.services.keys import Actor, KeySpec, keys_service  # noqa: E402
from ratelimit import Unlimited  # noqa: E402  (bench/ratelimit.py)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PEPPER = "bench-pepper-0123456789abcdef"
N = 20_000
RUNS = 5
App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def scope_for(path: str, key: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {key}".encode())],
        "client": ("127.0.0.1", 5000),
        "server": ("bench", 80),
    }


async def per_request_us(app: App, scopes: list[dict[str, Any]], n: int) -> float:
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    runs = []
    for _ in range(RUNS):
        status.clear()
        start = time.perf_counter()
        for i in range(n):
            await app(dict(scopes[i % len(scopes)]), receive, send)
        runs.append((time.perf_counter() - start) / n * 1e6)
        assert set(status) == {200}, set(status)
    return statistics.median(runs)


def gate(verifier: KeyVerifier) -> Gate:
    """The gate around the bare app, with a limiter that admits all and counts nothing."""
    return Gate(bare, verifier=verifier, limiter=Unlimited(), clock=lambda: NOW)


async def measure(db: Database, label: str) -> None:
    unlimited = (Plan("bench", per_minute=10**9, per_month=10**12),)  # measure, not refuse
    settings = Settings(database_url=db.url, key_pepper=PEPPER, plans=unlimited)  # type: ignore[call-arg]
    svc = keys_service(settings, db)
    spec = KeySpec(name="bench", scopes=frozenset({Scope.READ}), plan="bench")
    one = svc.create(Actor.local(), spec, NOW).secret
    many = [svc.create(Actor.local(), spec, NOW).secret for _ in range(1000)]
    verifier = verifier_for(settings, db, svc.peppers)
    auth = gate(verifier)
    bare_us = await per_request_us(bare, [scope_for("/v1/x", one)], N)
    one_us = await per_request_us(auth, [scope_for("/v1/x", one)], N) - bare_us
    many_us = await per_request_us(auth, [scope_for("/v1/x", k) for k in many], N) - bare_us
    await verifier.usage.flush()
    verifier.close()
    remote_us = None
    if not db.is_sqlite:  # with Redis: the keys version comes with the rate limiter's call
        remote = KeyVerifier(db, svc.peppers, settings.plans, UsageRecorder(db), remote=True)
        remote.confirm_remote("1")
        auth = gate(remote)
        remote_us = await per_request_us(auth, [scope_for("/v1/x", one)], N) - bare_us
        remote.close()

    app = create_app(settings, database=db, clock=lambda: NOW)
    async with app.router.lifespan_context(app):
        request_us = await per_request_us(app, [scope_for("/v1/projects/starknet", one)], N // 4)
    app.state.dropscope.verifier.close()
    print(
        f"{label:<10} {one_us:>9.1f} {many_us:>10.1f} {request_us:>10.1f} "
        f"{one_us / request_us:>9.3f} {many_us / request_us:>10.3f}"
    )
    if remote_us is not None:
        print(
            f"{'  + redis':<10} {remote_us:>9.1f} {'':>10} {'':>10} {remote_us / request_us:>9.3f}"
        )


def sqlite_db(folder: Path) -> Database:
    db = Database(f"sqlite:///{folder / 'bench.db'}")
    db.ensure_schema()
    data_service.load(db, ROOT / "data", NOW)
    return db


async def main() -> None:
    print(
        f"{'database':<10} {'auth µs':>9} {'1000 keys':>10} {'request µs':>10} "
        f"{'auth/req':>9} {'1000/req':>10}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite_db(Path(tmp))
        try:
            await measure(db, "sqlite")
        finally:
            db.close()
    pg = os.environ.get("DROPSCOPE_BENCH_POSTGRES_URL", "").strip()
    if pg:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(pg)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        db = Database(f"{pg}{'&' if '?' in pg else '?'}options=-csearch_path%3D{schema}")
        try:
            db.ensure_schema()
            data_service.load(db, ROOT / "data", NOW)
            await measure(db, "postgresql")
        finally:
            db.close()
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
