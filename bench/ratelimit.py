"""Benchmark: what rate limiting costs per request, against the same request unlimited.

The real app (`create_app`, a fresh SQLite database with the curated data, a real API key)
is called as an ASGI callable in this process, with no network in between, so the figures
isolate the limiter from HTTP parsing and the load generator. The request is
`GET /v1/projects/starknet` with `Authorization: Bearer <key>` (answered from the response
cache, the common case), through the whole middleware stack (request id, auth, rate limit,
ETag), with:

- **baseline**: a limiter that admits everything and counts nothing (same headers);
- **in-process**: `InProcessLimiter`;
- **redis**: `RedisLimiter` as it ships, with leases: a busy key's requests are admitted
  from permits counted in Redis ahead, so most make no round trip;
- **redis-call**: `RedisLimiter` with leases off (`lease_seconds=0`): one EVALSHA round trip
  to Redis on loopback per request (or per batch of concurrent ones).

Then the limiters alone (`await limiter.hit(...)` in a loop), which is less noisy on a busy
machine than the whole request.

Each is run sequentially (one request at a time: latency) and with 32 requests in flight
(throughput, where Redis round trips overlap). The per-minute limit is set out of reach so
every request is admitted. It also reads, from Redis's own command statistics, the round
trips a request costs (EVALSHA calls ÷ requests): at most one, and nearly none with leases.

Prints µs per request, the added cost, and the ratio limited ÷ baseline in requests/s.
Run: `.venv/bin/python bench/ratelimit.py [--requests N] [--redis-url URL]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

from dropscope.api.app import create_app
from dropscope.config import Settings
from dropscope.domain.access import Plan
from dropscope.domain.ratelimit import Decision, decide, epoch_us
from dropscope.services import data as data_service
from dropscope.services.database import Database
from dropscope.services.keys import Actor, KeySpec, keys_service
from dropscope.services.ratelimit import InProcessLimiter, Limiter, RedisLimiter

ROOT = Path(__file__).resolve().parents[1]
PATH = "/v1/projects/starknet"
PLAN = Plan("bench", per_minute=10**9, per_month=10**12)
CONCURRENCY = 32
ASGI = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class Unlimited:
    """The baseline limiter: admits everything, counts nothing, sends the same headers."""

    def __init__(self) -> None:
        now = datetime.now(UTC)
        self.decision = decide(
            PLAN, now, allowed=True, minute_used=1, minute_oldest_us=epoch_us(now), month_used=1
        )

    async def hit(self, key_id: str, plan: Plan, now: datetime) -> Decision:
        return self.decision

    async def peek(self, key_id: str, plan: Plan, now: datetime) -> Decision:
        return self.decision

    async def aclose(self) -> None:
        return None


def scope_for(secret: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {secret}".encode())],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }


async def one(app: ASGI, secret: str) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope_for(secret), receive, send)
    return status


async def run(app: ASGI, secret: str, n: int, concurrency: int) -> float:
    """Seconds for `n` requests, `concurrency` in flight; every answer must be 200."""
    for _ in range(100):  # warm-up: caches, connections, the script
        assert await one(app, secret) == 200
    started = time.perf_counter()
    if concurrency == 1:
        for _ in range(n):
            assert await one(app, secret) == 200
    else:

        async def worker(count: int) -> None:
            for _ in range(count):
                assert await one(app, secret) == 200

        await asyncio.gather(*(worker(n // concurrency) for _ in range(concurrency)))
    return time.perf_counter() - started


async def hits(limiter: Limiter, n: int, concurrency: int) -> float:
    """Seconds for `n` calls of `limiter.hit`, `concurrency` at a time."""

    async def worker(count: int) -> None:
        for _ in range(count):
            await limiter.hit("bench-alone", PLAN, datetime.now(UTC))

    await worker(50)
    started = time.perf_counter()
    await asyncio.gather(*(worker(n // concurrency) for _ in range(concurrency)))
    return time.perf_counter() - started


def evalsha_calls(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


async def measure(db: Database, args: argparse.Namespace) -> None:
    settings = Settings(
        database_url=db.url,
        data_dir=ROOT / "data",
        key_pepper="bench-pepper-0123456789",
        plans=(PLAN,),
    )
    now = datetime.now(UTC)
    secret = keys_service(settings, db).create(Actor.local(), KeySpec(name="bench"), now).secret
    prefix = f"dropscope_bench_{os.getpid()}"
    limiters: dict[str, Limiter] = {"baseline": Unlimited(), "in-process": InProcessLimiter()}
    if args.redis_url:
        limiters["redis"] = RedisLimiter.from_url(args.redis_url, prefix=prefix)
        limiters["redis-call"] = RedisLimiter.from_url(
            args.redis_url, prefix=f"{prefix}-call", lease_seconds=0
        )
    apps = {name: create_app(settings, database=db, limiter=lim) for name, lim in limiters.items()}
    best: dict[tuple[str, int], float] = {}
    for _ in range(args.rounds):  # interleaved, so a busy moment hits every variant alike
        for name, app in apps.items():
            for concurrency in (1, CONCURRENCY):
                took = await run(app, secret, args.requests, concurrency)
                best[name, concurrency] = min(took, best.get((name, concurrency), took))
    alone: dict[tuple[str, int], float] = {}
    for _ in range(args.rounds):
        for name, limiter in limiters.items():
            for concurrency in (1, CONCURRENCY):
                took = await hits(limiter, args.requests, concurrency)
                alone[name, concurrency] = min(took, alone.get((name, concurrency), took))
    trips: dict[str, float] = {}
    if args.redis_url:
        for name in ("redis", "redis-call"):
            before = evalsha_calls(args.redis_url)
            for _ in range(1000):
                assert await one(apps[name], secret) == 200
            trips[name] = (evalsha_calls(args.redis_url) - before) / 1000
    for limiter in limiters.values():
        await limiter.aclose()
    if args.redis_url:
        client = redis.Redis.from_url(args.redis_url)
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
    rows = [(n, c, t * 1e6 / args.requests, args.requests / t) for (n, c), t in best.items()]
    rows.sort(key=lambda row: (row[1], list(apps).index(row[0])))
    base = {c: us for name, c, us, _ in rows if name == "baseline"}
    base_rps = {c: rps for name, c, _, rps in rows if name == "baseline"}
    print(
        f"{PATH}: {args.requests} requests per run, best of {args.rounds} interleaved rounds, "
        "called as ASGI in-process"
    )
    print(f"{'limiter':<11} {'in flight':>9} {'µs/req':>8} {'+µs':>7} {'req/s':>9} {'x base':>7}")
    for name, c, us, rps in rows:
        extra = us - base[c]
        print(f"{name:<11} {c:>9} {us:8.1f} {extra:7.1f} {rps:9.0f} {rps / base_rps[c]:7.3f}")
    print(f"\nthe limiter alone: `await limiter.hit(...)`, {args.requests} hits per run")
    print(f"{'limiter':<11} {'in flight':>9} {'µs/hit':>8}")
    for (name, c), took in sorted(alone.items(), key=lambda kv: kv[0][1]):
        print(f"{name:<11} {c:>9} {took * 1e6 / args.requests:8.1f}")
    for name, per_request in trips.items():
        print(
            f"Redis round trips per request, {name} (server-side EVALSHA calls ÷ requests, "
            f"1,000 in a row): {per_request:.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2_000, help="requests per run")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (best one kept)")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("DROPSCOPE_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="Redis for the redis row ('' to skip)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.ensure_schema()
        data_service.load(db, ROOT / "data", datetime.now(UTC))
        try:
            try:
                import uvloop  # optional, as under `dropscope serve`

                runner: Any = uvloop.run
            except ImportError:
                runner = asyncio.run
            runner(measure(db, args))
        finally:
            db.close()


if __name__ == "__main__":
    main()
