"""Cached GETs answered before the framework: same bytes and headers, still authenticated,
scoped and rate limited, and dropped when the data changes."""

from __future__ import annotations

import pytest

from dropscope.services.database import Database
from tests.api.conftest import client_for, make_key

pytestmark = pytest.mark.anyio

URL = "/v1/airdrops?status=likely&sort=-potential"


async def test_a_cached_answer_is_the_same_answer(shared_loaded: Database) -> None:
    async with client_for(shared_loaded) as c:
        first = await c.get(URL)
        second = await c.get(URL)
        reordered = await c.get("/v1/airdrops?sort=-potential&status=likely")
    assert first.status_code == second.status_code == reordered.status_code == 200
    assert second.content == first.content == reordered.content
    for name in ("etag", "cache-control", "content-type", "ratelimit-policy"):
        assert second.headers[name] == first.headers[name], name
    assert "ratelimit" in second.headers  # counted like any request
    assert second.headers["x-request-id"] != first.headers["x-request-id"]


async def test_cached_answers_still_check_key_scope_and_etag(shared_loaded: Database) -> None:
    async with client_for(shared_loaded) as c:
        warm = await c.get(URL)
        etag = warm.headers["etag"]
        assert (await c.get(URL, headers={"if-none-match": etag})).status_code == 304
        assert (await c.get(URL, headers={"authorization": "Bearer nope"})).status_code == 401
        admin_only = make_key(shared_loaded, ("admin",)).secret
        refused = await c.get(URL, headers={"authorization": f"Bearer {admin_only}"})
        assert refused.status_code == 403


async def test_a_write_drops_the_cached_answer(loaded: Database) -> None:
    async with client_for(loaded) as c:
        before = (await c.get("/v1/projects/astria")).json()
        patched = await c.patch("/v1/projects/astria", json={"summary": "Rewritten summary."})
        assert patched.status_code == 200
        after = (await c.get("/v1/projects/astria")).json()
    assert before["summary"] != after["summary"] == "Rewritten summary."
