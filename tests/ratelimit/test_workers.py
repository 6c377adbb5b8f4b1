"""Counts are exact across processes: `uvicorn --workers 4` on a loopback port, the limiter on
Redis, N concurrent clients sending 3x the key's per-minute limit. Exactly the limit gets 2xx,
the rest 429: with a small limit (one Redis call per request) and with a larger one (busy
workers serve much of it from leases). Bounded in time: the server is killed (its own process
group) at the end."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import free_port, stop_group
from tests.ratelimit.conftest import delete_prefix, redis_url, unique_prefix

pytestmark = pytest.mark.redis
ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4
CLIENTS = 12
START_TIMEOUT = 30.0


@pytest.fixture(params=[40, 400], ids=["limit-40", "limit-400"])
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, int]]:
    """(base URL, per-minute limit) of the app under `uvicorn --workers 4`, once every
    worker has answered."""
    url, prefix, port = redis_url(), unique_prefix(), free_port()
    limit: int = request.param
    env = {
        **os.environ,
        "DROPSCOPE_TEST_REDIS_URL": url,
        "RATELIMIT_TEST_PREFIX": prefix,
        "RATELIMIT_TEST_PER_MINUTE": str(limit),
    }
    log = (tmp_path / "uvicorn.log").open("wb")
    cmd = [sys.executable, "-m", "uvicorn", "tests.ratelimit.workers_app:app"]
    cmd += ["--workers", str(WORKERS), "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--no-access-log", "--log-level", "warning"]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_workers(base, proc, tmp_path / "uvicorn.log")
        yield base, limit
    finally:
        stop_group(proc)
        log.close()
        delete_prefix(url, prefix)


def _wait_for_workers(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Poll /healthz (not limited) on new connections until WORKERS distinct pids answered."""
    pids: set[str] = set()
    deadline = time.monotonic() + START_TIMEOUT
    while len(pids) < WORKERS:
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"uvicorn did not start {WORKERS} workers: {log.read_text()[-2000:]}")
        try:
            r = httpx.get(base + "/healthz", timeout=2)
            pids.add(r.headers["x-worker-pid"])
        except httpx.TransportError:
            time.sleep(0.1)


async def _client(base: str, n: int) -> list[tuple[int, str, int]]:
    """One client: `n` requests in a row, each on a new connection (so the kernel spreads
    them over the workers): (status, worker pid, that worker's leased hits so far)."""
    out = []
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as c:
        for _ in range(n):
            r = await c.get("/v1/data")
            if r.status_code == 200:
                out.append((200, r.headers["x-worker-pid"], int(r.headers["x-leased"])))
            else:
                out.append((r.status_code, "", 0))
    return out


def test_four_workers_admit_exactly_the_limit(server: tuple[str, int]) -> None:
    base, limit = server
    per_client = 3 * limit // CLIENTS

    async def burst() -> list[tuple[int, str, int]]:
        runs = await asyncio.wait_for(
            asyncio.gather(*(_client(base, per_client) for _ in range(CLIENTS))), timeout=40
        )
        return [r for run in runs for r in run]

    started = time.monotonic()
    results = asyncio.run(burst())
    assert time.monotonic() - started < 40  # well inside the 60 s window
    statuses = Counter(status for status, _, _ in results)
    assert statuses == {200: limit, 429: 2 * limit}
    served_by = {pid for status, pid, _ in results if status == 200}
    assert len(served_by) >= 2, "the admitted requests should come from several workers"
    if limit >= 400:  # busy enough for leases: some requests made no Redis call
        leased: dict[str, int] = {}
        for status, pid, n in results:
            if status == 200:
                leased[pid] = max(leased.get(pid, 0), n)
        assert sum(leased.values()) > 0
