"""Curation writes over HTTP: auth, validation, idempotency, re-classification, caching."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import pytest

from dropscope.api import app as app_module
from dropscope.services.database import Database
from dropscope.storage.repositories.idempotency import StoredResponse
from tests.api.conftest import NOW, client_for, settings_for

pytestmark = pytest.mark.anyio

CITE = {"source": "tm-upcoming-airdrops", "as_of": "2023-12-15"}
PROBLEM = "application/problem+json"


def new_project(slug: str = "newchain") -> dict:
    return {
        "slug": slug,
        "name": "New Chain",
        "summary": "A test project.",
        "sector": "layer-1",
        "narratives": ["layer-1"],
        "competitors": ["peaq"],
        "profile_cite": CITE,
        "scores": [{"kind": "tech", "value": 85, "label": "tech score", "cite": CITE}],
        "evidence": [
            {
                "id": "rumour",
                "kind": "rumour",
                "occurred_on": "2024-01-01",
                "public_on": "2024-01-01",
                "summary": "Speculated.",
                "cite": CITE,
            }
        ],
    }


async def test_writes_need_the_write_scope(loaded: Database) -> None:
    async with client_for(loaded, scopes=("read",)) as c:
        r = await c.post("/v1/projects", json=new_project())
        assert (await c.get("/v1/projects/scroll")).status_code == 200
    assert r.status_code == 403
    assert r.headers["content-type"] == PROBLEM
    assert "'write' scope" in r.json()["detail"]


async def test_writes_need_a_key(loaded: Database) -> None:
    async with client_for(loaded, scopes=None) as c:
        missing = await c.post("/v1/projects", json=new_project())
        wrong = await c.post(
            "/v1/projects", json=new_project(), headers={"authorization": "Bearer nope"}
        )
    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert "nope" not in wrong.text


async def test_create_patch_and_add_evidence(loaded: Database) -> None:
    async with client_for(loaded) as c:
        board_before = (await c.get("/v1/airdrops", params={"limit": 100})).json()
        r = await c.post("/v1/projects", json=new_project())
        assert r.status_code == 201, r.text
        assert r.headers["location"] == "/v1/projects/newchain"
        assert r.headers["cache-control"] == "no-store"
        assert r.json()["status"]["status"] == "possible"
        board_after = (await c.get("/v1/airdrops", params={"limit": 100})).json()
        assert len(board_after["data"]) == len(board_before["data"]) + 1  # cache invalidated

        p = await c.patch(
            "/v1/projects/newchain",
            content=b'{"summary": "Changed.", "narratives": ["layer-1", "depin"]}',
            headers={"content-type": "application/merge-patch+json"},
        )
        assert p.status_code == 200, p.text
        assert p.json()["summary"] == "Changed."
        assert (await c.get("/v1/projects/newchain")).json()["narratives"] == ["layer-1", "depin"]

        ev = {
            "id": "points",
            "kind": "points_program",
            "occurred_on": "2026-11-01",
            "public_on": "2026-11-01",
            "summary": "A points programme started.",
            "cite": CITE,
        }
        e = await c.post("/v1/projects/newchain/evidence", json=ev)
        assert e.status_code == 201, e.text
        body = e.json()
        assert body["status"]["status"] == "likely"
        assert body["status_change"]["old"] == "possible"
        assert body["status_change"]["new"] == "likely"
        hist = (await c.get("/v1/projects/newchain/status-history")).json()
        assert [h["new"] for h in hist["recorded"]] == ["possible", "likely"]
        dup = await c.post("/v1/projects/newchain/evidence", json=ev)
        assert dup.status_code == 409


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"surprise": 1}, 400, "surprise"),
        ({"scores": [{"kind": "tech", "value": 150, "label": "x", "cite": CITE}]}, 400, "value"),
        ({"competitors": ["scrol"]}, 400, "competitors"),
        ({"profile_cite": {"source": "nowhere", "as_of": "2024-01-01"}}, 400, "source"),
        ({"slug": "starknet"}, 409, None),
    ],
)
async def test_bad_projects_are_refused_with_the_field(
    loaded: Database, change: dict, status: int, field: str | None
) -> None:
    async with client_for(loaded) as c:
        r = await c.post("/v1/projects", json={**new_project(), **change})
        assert r.status_code == status, r.text
        assert r.headers["content-type"] == PROBLEM
        if field:
            assert field in str(r.json().get("errors")) + r.json()["detail"]
        assert (await c.get("/v1/projects/newchain")).status_code == 404


async def test_patch_errors(loaded: Database) -> None:
    async with client_for(loaded) as c:
        slug = await c.patch("/v1/projects/scroll", json={"slug": "other"})
        assert slug.status_code == 400
        typ = await c.patch("/v1/projects/scroll", json={"chains": "ethereum"})
        assert typ.status_code == 400
        assert "chains" in str(typ.json())
        gone = await c.patch("/v1/projects/nope", json={"summary": "x"})
        assert gone.status_code == 404


async def test_idempotency_key_replays_and_guards(loaded: Database) -> None:
    async with client_for(loaded) as c:
        h = {"idempotency-key": "k-1"}
        first = await c.post("/v1/projects", json=new_project(), headers=h)
        again = await c.post("/v1/projects", json=new_project(), headers=h)
        assert first.status_code == again.status_code == 201
        assert again.content == first.content
        assert again.headers["idempotent-replayed"] == "true"
        other = await c.post("/v1/projects", json=new_project("otherchain"), headers=h)
        assert other.status_code == 422
        assert other.headers["content-type"] == PROBLEM
        assert (await c.get("/v1/projects/otherchain")).status_code == 404
        bad = await c.post(
            "/v1/projects", json=new_project("x"), headers={"idempotency-key": "a b"}
        )
        assert bad.status_code == 400


async def test_concurrent_retries_write_once(loaded: Database) -> None:
    async with client_for(loaded) as c:
        h = {"idempotency-key": "same"}
        results = await asyncio.gather(
            *(c.post("/v1/projects", json=new_project(), headers=h) for _ in range(4))
        )
    codes = sorted(r.status_code for r in results)
    assert codes[0] == 201
    assert set(codes) <= {201, 409}
    with loaded.unit_of_work() as uow:
        assert uow.projects.slugs().count("newchain") == 1


async def test_nul_characters_are_refused_not_a_500(loaded: Database) -> None:
    async with client_for(loaded) as c:
        r = await c.post(
            "/v1/projects",
            json={**new_project(), "summary": "bad\u0000text"},
        )
        assert r.status_code == 400, r.text
        q = await c.get("/v1/airdrops", params={"q": "a\u0000b"})
        assert q.status_code in (200, 400)


async def test_responses_kept_for_idempotency_keys_are_forgotten_after_their_retention(
    loaded: Database,
) -> None:
    """At start (and hourly) each worker forgets the responses stored for Idempotency-Keys
    more than `idempotency_retention_hours` (24) old; younger ones still replay."""

    def stored(key: str, age: timedelta) -> StoredResponse:
        return StoredResponse(
            key, "POST", "/v1/projects", "h", 201, b"{}", "application/json", NOW - age, "key_a"
        )

    def kept(key: str) -> bool:
        with loaded.unit_of_work(read_only=True) as uow:
            return uow.idempotency.get(key, "POST", "/v1/projects", owner="key_a") is not None

    with loaded.unit_of_work() as uow:
        uow.idempotency.put(stored("old", timedelta(hours=25)))
        uow.idempotency.put(stored("young", timedelta(hours=23)))
    async with client_for(loaded):
        for _ in range(200):
            if not kept("old"):
                break
            await asyncio.sleep(0.02)
    assert not kept("old")
    assert kept("young")


async def test_forgetting_idempotency_keys_survives_a_database_that_is_away(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The hourly purge logs a warning and keeps running when the database cannot be
    reached (nothing listens on the port): the API is not taken down by housekeeping."""
    away = Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    settings = settings_for(away)
    task = asyncio.create_task(app_module._housekeeping(away, settings, lambda: NOW))
    try:
        for _ in range(100):
            if "could not forget old idempotency keys" in caplog.text:
                break
            await asyncio.sleep(0.05)
        assert "could not forget old idempotency keys" in caplog.text
        assert not task.done()  # still running: it tries again at the next round
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        away.close()
