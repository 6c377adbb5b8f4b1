"""With Redis on PostgreSQL, the keys version rides on the rate limiter's one Redis call, or is
pushed to workers that admit from leases: a revocation made by the CLI in another process
(which INCRs and publishes `<prefix>:keys_version`) is seen by the next request, without a
database read per request; a lost INCR is caught by the periodic database recheck."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import anyio
import httpx
import pytest
import redis

from dropscope.api.app import create_app
from dropscope.domain.access import DEFAULT_PLANS
from dropscope.errors import Unauthorized
from dropscope.services import data as data_service
from dropscope.services.database import Database
from dropscope.services.key_auth import KeyVerifier, UsageRecorder
from dropscope.services.keys import Actor, KeySpec, keys_service
from tests.api.conftest import DATA, NOW, PEPPER, make_key, settings_for
from tests.processes import free_port, stop_group
from tests.ratelimit.conftest import delete_prefix, redis_url, unique_prefix
from tests.services.conftest import fresh_database
from tests.services.test_keys import PEPPERS, service

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[Database]:
    with fresh_database("postgresql", tmp_path) as db:
        data_service.load(db, DATA, NOW)
        yield db


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.anyio
async def test_a_cli_revocation_reaches_workers_through_redis(pg: Database) -> None:
    url, prefix = redis_url(), unique_prefix()
    try:
        created = make_key(pg, ("read",))
        settings = settings_for(pg, redis_url=url, redis_prefix=prefix)
        app = create_app(settings, database=pg, clock=lambda: NOW)
        assert app.state.dropscope.verifier.remote
        headers = {"authorization": f"Bearer {created.secret}"}
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as c,
        ):
            for _ in range(3):
                assert (await c.get("/v1/projects")).status_code == 200
            env = {
                **os.environ,
                "DROPSCOPE_DATABASE_URL": pg.url,
                "DROPSCOPE_KEY_PEPPER": PEPPER,
                "DROPSCOPE_REDIS_URL": url,
                "DROPSCOPE_REDIS_PREFIX": prefix,
            }
            cmd = [sys.executable, "-m", "dropscope", "keys", "revoke", created.key.id]
            cmd += ["--format", "json"]
            done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
            assert json.loads(done.stdout)["status"] == "revoked"
            assert redis.Redis.from_url(url).get(f"{prefix}:keys_version") == b"1"
            # Over a network the push and the next request arrive through the same I/O step
            # (the push is handled first); through ASGITransport the request skips that step,
            # so wait for the push to land. The clock is fixed: the lease the first requests
            # opened is still valid, and only the pushed version can refuse the key.
            limiter = app.state.limiter
            for _ in range(500):
                if limiter.keys_version == "1":
                    break
                await anyio.sleep(0.01)
            assert limiter.keys_version == "1", "the keys version was not pushed to the worker"
            after = await c.get("/v1/projects")
        assert after.status_code == 401
    finally:
        delete_prefix(url, prefix)


def test_a_lost_redis_notice_is_caught_by_the_periodic_recheck(tmp_path: Path) -> None:
    """Remote mode with no notice at all: the cache holds until `recheck_seconds` pass."""
    with fresh_database("sqlite", tmp_path) as db:
        svc = service(db)
        created = svc.create(Actor.local(), KeySpec(name="k"), NOW)
        clock = [0.0]
        v = KeyVerifier(
            db, PEPPERS, DEFAULT_PLANS, UsageRecorder(db), remote=True, monotonic=lambda: clock[0]
        )
        try:
            v.confirm_remote("7")
            assert asyncio.run(v.verify(created.secret, None, NOW)).key_id == created.key.id
            svc.revoke(Actor.local(), created.key.id, NOW)  # no Redis: nobody is told
            clock[0] = 4.9
            assert asyncio.run(v.verify(created.secret, None, NOW)).key_id == created.key.id
            clock[0] = 5.0
            with pytest.raises(Unauthorized):
                asyncio.run(v.verify(created.secret, None, NOW + timedelta(seconds=5)))
        finally:
            v.close()


@pytest.mark.redis
@pytest.mark.postgres
def test_workers_serving_from_leases_refuse_a_revoked_key_on_the_next_request(
    pg: Database, tmp_path: Path
) -> None:
    """`dropscope serve --workers 2` on PostgreSQL and Redis: busy enough that both workers
    admit the key from leases (no Redis call, so no keys version with the request); another
    process (this one, through the keys service, as the CLI would) revokes it while the
    leases are open; every request sent after the revocation returned is refused, whichever
    worker takes it: the version was pushed to them (services/redis_pubsub.py)."""
    url, prefix = redis_url(), unique_prefix()
    created = make_key(pg, ("read",))
    env = {
        **os.environ,
        "DROPSCOPE_DATABASE_URL": pg.url,
        "DROPSCOPE_KEY_PEPPER": PEPPER,
        "DROPSCOPE_REDIS_URL": url,
        "DROPSCOPE_REDIS_PREFIX": prefix,
    }
    port = free_port()
    cmd = [sys.executable, "-m", "dropscope", "serve", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--workers", "2"]
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base, headers = f"http://127.0.0.1:{port}", {"authorization": f"Bearer {created.secret}"}
    fresh = httpx.Limits(max_keepalive_connections=0)  # a new connection each: both workers
    try:
        wait_until_ready(base, server, tmp_path / "serve.log")
        with httpx.Client(base_url=base, headers=headers, limits=fresh, timeout=10) as c:
            for _ in range(60):
                assert c.get("/v1/projects").status_code == 200
            state = redis.Redis.from_url(url).hgetall(f"{prefix}:rl:{created.key.id}:state")
            assert len(state) > 1, "no lease was open: the test would not test leases"
            settings = settings_for(pg, redis_url=url, redis_prefix=prefix)
            keys_service(settings, pg).revoke(Actor.local(), created.key.id, NOW)
            assert [c.get("/v1/projects").status_code for _ in range(20)] == [401] * 20
    finally:
        stop_group(server, timeout=15)
        log.close()
        delete_prefix(url, prefix)


def wait_until_ready(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"dropscope serve stopped: {log.read_text()[-2000:]}")
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"dropscope serve did not start: {log.read_text()[-2000:]}")
