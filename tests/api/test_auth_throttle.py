"""The refused-key throttle over HTTP: an address that sent many bad keys gets 429 for its
bad keys, never for a valid one (behind a proxy one address is everybody), and refusing them
early costs no database lookup each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from dropscope.domain.keys import generate_key
from dropscope.services.database import Database
from dropscope.services.keys import Actor, keys_service
from tests.api.conftest import NOW, client_for, make_key, settings_for

pytestmark = pytest.mark.anyio
PROBLEM = "application/problem+json"
BAD_KEYS = 110  # the limit is 100 unknown keys per address per minute


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


@contextmanager
def key_lookups(db: Database) -> Iterator[list[str]]:
    """The SELECTs on api_keys run while inside (authentication's lookups)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        text = " ".join(statement.split()).lower()
        if text.startswith("select") and "from api_keys" in text:
            seen.append(text)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


async def flood(c: httpx.AsyncClient, n: int = BAD_KEYS) -> httpx.Response:
    r = None
    for _ in range(n):
        r = await c.get("/v1/airdrops", headers=bearer(generate_key()))
    assert r is not None
    return r


def assert_throttled(r: httpx.Response) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["violated-policies"] == ["auth-failures"]
    assert 1 <= int(r.headers["retry-after"]) <= 60


async def test_a_valid_key_is_served_from_an_address_that_sent_bad_keys(
    shared_loaded: Database,
) -> None:
    db = shared_loaded
    used = make_key(db, ("read",)).secret  # in the verified-key cache before the flood
    fresh = make_key(db, ("read",)).secret  # first presented while the address is throttled
    revoked = make_key(db, ("read",))
    keys_service(settings_for(db), db).revoke(Actor.local(), revoked.key.id, NOW)
    async with client_for(db, scopes=None) as c:  # every request from 127.0.0.1
        assert (await c.get("/v1/airdrops", headers=bearer(used))).status_code == 200
        assert_throttled(await flood(c))
        for key in (used, fresh, used):
            r = await c.get("/v1/airdrops", headers=bearer(key))
            assert r.status_code == 200, r.text
            assert "ratelimit" in r.headers  # counted against its own plan, as always
        assert (await c.get("/v1/airdrops", headers={"x-api-key": fresh})).status_code == 200
        for bad in (generate_key(), "dsk_short", revoked.secret):
            assert_throttled(await c.get("/v1/airdrops", headers=bearer(bad)))
        with key_lookups(db) as lookups:
            for _ in range(50):
                assert_throttled(await c.get("/v1/airdrops", headers=bearer(generate_key())))
        assert lookups == []  # refused from memory: no lookup per attempt


async def test_the_throttle_costs_one_read_however_many_attempts(loaded: Database) -> None:
    async with client_for(loaded, scopes=None) as c:
        assert (await flood(c, 100)).status_code == 401  # the 100th: not yet throttled
        with key_lookups(loaded) as lookups:
            for _ in range(30):
                assert_throttled(await c.get("/v1/airdrops", headers=bearer(generate_key())))
            good = make_key(loaded, ("read",)).secret  # a key change: the set is read again
            assert (await c.get("/v1/airdrops", headers=bearer(good))).status_code == 200
            for _ in range(30):
                assert_throttled(await c.get("/v1/airdrops", headers=bearer(generate_key())))
        live_reads = [q for q in lookups if "where api_keys.state" in q]
        assert len(live_reads) == 2, lookups  # one per keys version, not one per attempt
        assert len(lookups) == 3  # and the one lookup of the valid key
