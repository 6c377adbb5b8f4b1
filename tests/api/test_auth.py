"""Authentication over HTTP: which requests need a key, the refusals (401/403 problem+json
saying no more than a client needs), both headers, caching headers, rolled keys over time."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from dropscope.domain.keys import checksum
from dropscope.services.database import Database
from dropscope.services.key_auth import INVALID_KEY
from dropscope.services.keys import Actor, keys_service
from tests.api.conftest import NOW, client_for, make_key, settings_for
from tests.services.test_keys import dump_database

pytestmark = pytest.mark.anyio
PROBLEM = "application/problem+json"


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


async def test_data_endpoints_need_a_key_and_health_and_docs_do_not(
    shared_loaded: Database,
) -> None:
    async with client_for(shared_loaded, scopes=None) as c:
        for path in ("/v1/airdrops", "/v1/projects/scroll", "/v1/usage", "/v1/keys", "/v1/nope"):
            r = await c.get(path)
            assert r.status_code == 401, path
            assert r.headers["content-type"] == PROBLEM
            assert r.headers["www-authenticate"].startswith("Bearer")
            assert "Authorization: Bearer" in r.json()["detail"]
            assert r.json()["instance"] == path
        for path in ("/healthz", "/readyz", "/docs", "/v1/openapi.json"):
            assert (await c.get(path)).status_code == 200, path
        assert (await c.post("/v1/accounts", json={"name": "x"})).status_code == 404  # closed


async def test_every_unusable_key_gets_the_same_401(shared_loaded: Database) -> None:
    db = shared_loaded
    good = make_key(db, ("read",)).secret
    body = good[4:-6]
    bad_checksum = good[:-6] + checksum(body[::-1])
    unknown_body = "0" * 32
    unknown = "dsk_" + unknown_body + checksum(unknown_body)
    revoked = make_key(db, ("read",))
    disabled = make_key(db, ("read",))
    expired = make_key(db, ("read",), expires_at=NOW + timedelta(seconds=1))
    keys_service_ = keys_service(settings_for(db), db)
    keys_service_.revoke(Actor.local(), revoked.key.id, NOW)
    keys_service_.disable(Actor.local(), disabled.key.id, NOW)
    later = NOW + timedelta(seconds=5)
    cases = {
        "malformed": "dsk_short",
        "not ours": "sk_live_" + "a" * 30,
        "bad checksum": bad_checksum,
        "unknown": unknown,
        "revoked": revoked.secret,
        "disabled": disabled.secret,
        "expired": expired.secret,
    }
    async with client_for(db, scopes=None, clock=lambda: later) as c:
        assert (await c.get("/v1/airdrops", headers=bearer(good))).status_code == 200
        for what, key in cases.items():
            for headers in (bearer(key), {"x-api-key": key}):
                r = await c.get("/v1/airdrops", headers=headers)
                assert r.status_code == 401, what
                assert r.headers["content-type"] == PROBLEM
                assert r.json()["detail"] == INVALID_KEY, what  # no hint which it was
                assert key not in r.text
                assert "ratelimit" not in r.headers  # refused before it counts


async def test_an_address_outside_the_allowlist_gets_403(shared_loaded: Database) -> None:
    inside = make_key(shared_loaded, ("read",), ip_allowlist=("127.0.0.0/8",)).secret
    outside = make_key(shared_loaded, ("read",), ip_allowlist=("203.0.113.0/24",)).secret
    async with client_for(shared_loaded, scopes=None) as c:  # ASGITransport: 127.0.0.1
        assert (await c.get("/v1/airdrops", headers=bearer(inside))).status_code == 200
        r = await c.get("/v1/airdrops", headers=bearer(outside))
    assert r.status_code == 403
    assert r.headers["content-type"] == PROBLEM
    assert "address" in r.json()["detail"]


async def test_scopes_are_exact(shared_loaded: Database) -> None:
    admin_only = make_key(shared_loaded, ("admin",)).secret
    read = make_key(shared_loaded, ("read",)).secret
    async with client_for(shared_loaded, scopes=None) as c:
        r = await c.get("/v1/airdrops", headers=bearer(admin_only))
        assert r.status_code == 403  # admin does not imply read
        assert "'read' scope" in r.json()["detail"]
        w = await c.patch("/v1/projects/scroll", json={"summary": "x"}, headers=bearer(read))
        assert w.status_code == 403
        assert "'write' scope" in w.json()["detail"]
        k = await c.get("/v1/keys", headers=bearer(read))
        assert k.status_code == 403
        assert (await c.get("/v1/usage", headers=bearer(read))).status_code == 200


async def test_x_api_key_makes_responses_private(shared_loaded: Database) -> None:
    key = make_key(shared_loaded, ("read",)).secret
    async with client_for(shared_loaded, scopes=None) as c:
        via_bearer = await c.get("/v1/projects/scroll", headers=bearer(key))
        via_header = await c.get("/v1/projects/scroll", headers={"x-api-key": key})
        etag = via_header.headers["etag"]
        not_modified = await c.get(
            "/v1/projects/scroll", headers={"x-api-key": key, "if-none-match": etag}
        )
        mine = await c.get("/v1/usage", headers={"x-api-key": key})
    assert via_bearer.headers["cache-control"] == "no-cache"
    assert via_bearer.headers["vary"] == "Authorization, X-API-Key"
    assert via_header.headers["cache-control"] == "private, no-cache"
    assert via_header.headers["vary"] == "Authorization, X-API-Key"
    assert via_header.content == via_bearer.content
    assert not_modified.status_code == 304
    assert not_modified.headers["cache-control"] == "private, no-cache"
    assert not_modified.headers["vary"] == "Authorization, X-API-Key"
    assert mine.headers["cache-control"] == "no-store, private"


async def test_bearer_wins_over_x_api_key(shared_loaded: Database) -> None:
    key = make_key(shared_loaded, ("read",)).secret
    async with client_for(shared_loaded, scopes=None) as c:
        r = await c.get("/v1/airdrops", headers={**bearer("dsk_bad"), "x-api-key": key})
        basic = await c.get(
            "/v1/airdrops", headers={"authorization": "Basic eDp5", "x-api-key": key}
        )
    assert r.status_code == 401
    assert basic.status_code == 200  # not a Bearer credential: the X-API-Key is used


async def test_a_rolled_key_works_during_its_grace_and_not_after(loaded: Database) -> None:
    now = [NOW]
    async with client_for(loaded, scopes=("read", "admin"), clock=lambda: now[0]) as c:
        mine = (await c.get("/v1/keys")).json()["data"][-1]
        old = make_key(loaded, ("read",))
        r = await c.post(f"/v1/keys/{old.key.id}/roll", json={"grace_seconds": 3600})
        assert r.status_code == 201, r.text
        body = r.json()
        new = body["secret"]
        assert body["previous"]["grace_until"] == (NOW + timedelta(hours=1)).isoformat().replace(
            "+00:00", "Z"
        )
        for minutes, old_ok in ((0, True), (59, True), (60, False), (600, False)):
            now[0] = NOW + timedelta(minutes=minutes)
            old_r = await c.get("/v1/airdrops", headers=bearer(old.secret))
            new_r = await c.get("/v1/airdrops", headers=bearer(new))
            assert (old_r.status_code == 200) is old_ok, minutes
            assert new_r.status_code == 200
        assert mine["id"] != old.key.id


async def test_revocation_through_the_api_is_seen_at_once(loaded: Database) -> None:
    victim = make_key(loaded, ("read",))
    async with client_for(loaded, scopes=("read", "admin")) as c:
        assert (await c.get("/v1/airdrops", headers=bearer(victim.secret))).status_code == 200
        r = await c.delete(f"/v1/keys/{victim.key.id}")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "revoked"
        assert (await c.get("/v1/airdrops", headers=bearer(victim.secret))).status_code == 401


async def test_the_plain_key_is_nowhere_after_a_run(
    loaded: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets: list[str] = []
    async with client_for(loaded, scopes=("read", "write", "admin"), signup="open") as c:
        made = await c.post("/v1/keys", json={"name": "k", "scopes": ["read"]})
        secrets.append(made.json()["secret"])
        rolled = await c.post(f"/v1/keys/{made.json()['key']['id']}/roll", json={})
        secrets.append(rolled.json()["secret"])
        signed = await c.post("/v1/accounts", json={"name": "someone"})
        secrets.append(signed.json()["secret"])
        for s in secrets:
            assert (await c.get("/v1/airdrops", headers=bearer(s))).status_code == 200
            typo = {"authorization": "", "x-api-key": s[:-1]}
            assert (await c.get("/v1/airdrops", headers=typo)).status_code == 401
            await c.get("/v1/nope", headers=bearer(s))
        await c.get("/v1/audit")
        await c.get("/v1/usage")
    dump = dump_database(loaded)
    if loaded.is_sqlite:  # the file itself too, with its write-ahead log
        path = Path(sa.make_url(loaded.url).database or "")
        files = [path, path.with_name(path.name + "-wal")]
        dump += "".join(f.read_bytes().decode("latin-1") for f in files if f.exists())
        assert len(dump) > 100_000
    logs = caplog.text + "\n".join(str(r.__dict__) for r in caplog.records)
    for s in secrets:
        assert s not in dump
        assert s[4:36] not in dump
        assert s not in logs
        assert s[4:36] not in logs
    assert "auth_failed" in dump  # the refusals were recorded, without the key


async def test_responses_to_unknown_paths_with_a_key_are_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/nope")
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
