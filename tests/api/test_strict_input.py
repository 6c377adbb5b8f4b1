"""Input the API used to take in a lax reading, now refused with 400 problem+json: a date
query parameter that is not YYYY-MM-DD (`as_of=0` was 1970-01-01), a boolean where a number
goes and a number where a boolean goes (`overlap_seconds: false` was 0), control characters
in query parameters (`q=%00` matched everything), duplicate keys in a JSON body (the last
one won); and a malformed `Authorization` header, answered 401 saying so, not ignored."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

from dropscope.api import routes
from dropscope.api.auth import MALFORMED_AUTHORIZATION
from dropscope.api.json import StrictJsonRoute
from dropscope.services.database import Database
from dropscope.services.key_auth import MISSING_KEY
from tests.api.conftest import client_for, make_key
from tests.api.test_write import CITE, new_project

pytestmark = pytest.mark.anyio
PROBLEM = "application/problem+json"
HOOKS = {"webhook_allow_http": True, "webhook_allowed_networks": ("127.0.0.0/8",)}
ALL = ("read", "write", "admin")


def assert_400(r: httpx.Response, *words: str) -> None:
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == PROBLEM
    text = r.text
    for word in words:
        assert word in text, text


# -- (b) dates in query parameters ---------------------------------------------------------


async def test_a_date_query_parameter_takes_only_yyyy_mm_dd(client: httpx.AsyncClient) -> None:
    for path in ("/v1/airdrops", "/v1/projects", "/v1/projects/scroll", "/v1/investors"):
        for bad in ("0", "1700000000", "20240105", "2024-1-5", "2024-01-05T00:00:00", "true"):
            assert_400(await client.get(path, params={"as_of": bad}), "as_of", "YYYY-MM-DD")
        ok = await client.get(path, params={"as_of": "2024-01-05"})
        assert ok.status_code == 200, (path, ok.text)
    board = (await client.get("/v1/airdrops", params={"as_of": "2024-01-05"})).json()
    assert board["as_of"] == "2024-01-05"
    assert_400(await client.get("/v1/airdrops", params={"as_of": "2024-02-30"}), "as_of")


async def test_the_dashboard_takes_only_yyyy_mm_dd_too(shared_loaded: Database) -> None:
    async with client_for(shared_loaded, scopes=None) as web:
        for bad in ("20240105", "2024-W01-1", "0"):
            r = await web.get("/", params={"as_of": bad})
            assert r.status_code == 400, bad
            assert r.headers["content-type"].startswith("text/html")
        assert (await web.get("/", params={"as_of": "2024-01-05"})).status_code == 200


# -- (c) numbers and booleans in bodies ----------------------------------------------------


async def test_booleans_and_numbers_in_bodies_are_strict(loaded: Database) -> None:
    async with client_for(loaded, scopes=ALL, **HOOKS) as c:
        made = await c.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"})
        assert made.status_code == 201, made.text
        hook = f"/v1/webhooks/{made.json()['webhook']['id']}"
        for value in (False, True, "60", 60.5):
            r = await c.post(f"{hook}/rotate", json={"overlap_seconds": value})
            assert_400(r, "overlap_seconds")
        assert (await c.post(f"{hook}/rotate", json={"overlap_seconds": 0})).status_code == 200
        for value in (1, 0, "yes", "true"):
            assert_400(await c.patch(hook, json={"enabled": value}), "enabled")
        assert (await c.patch(hook, json={"enabled": False})).status_code == 200

        for value in (True, "88"):
            body = {"name": "w", "filters": [{"min_tech": value}]}
            assert_400(await c.post("/v1/watchlists", json=body), "min_tech")
        ok = {"name": "w", "filters": [{"min_tech": 88, "min_fundamentals": 70.5}]}
        assert (await c.post("/v1/watchlists", json=ok)).status_code == 201

        key = make_key(loaded, ("read",))
        roll = f"/v1/keys/{key.key.id}/roll"
        assert_400(await c.post(roll, json={"grace_seconds": False}), "grace_seconds")
        assert_400(await c.post(roll, json={"grace_seconds": "3600"}), "grace_seconds")
        assert_400(await c.post(roll, json={"expires_at": 1900000000}), "expires_at")
        later = {"name": "k", "expires_at": 1900000000}
        assert_400(await c.post("/v1/keys", json=later), "expires_at")
        later["expires_at"] = "2030-03-17T17:46:40Z"
        assert (await c.post("/v1/keys", json=later)).status_code == 201

        evidence = {
            "id": "strict",
            "kind": "rumour",
            "occurred_on": "2024-01-01",
            "public_on": "2024-01-01",
            "summary": "Said somewhere.",
            "cite": CITE,
        }
        for change in ({"official": 1}, {"official": "yes"}, {"occurred_on": 0}):
            r = await c.post("/v1/projects/scroll/evidence", json={**evidence, **change})
            assert_400(r, next(iter(change)))
        assert_400(
            await c.post(
                "/v1/projects/scroll/evidence", json={**evidence, "cite": {**CITE, "as_of": 0}}
            ),
            "as_of",
        )
        project = new_project()
        project["scores"][0]["value"] = True
        assert_400(await c.post("/v1/projects", json=project), "value")
        r = await c.post("/v1/projects/scroll/evidence", json={**evidence, "official": False})
        assert r.status_code == 201, r.text


# -- (d) the Authorization header ----------------------------------------------------------


async def test_a_malformed_authorization_header_is_refused_as_such(
    shared_loaded: Database,
) -> None:
    key = make_key(shared_loaded, ("read",)).secret
    async with client_for(shared_loaded, scopes=None) as c:
        for value in (f"Bearer\t{key}", "Bearer", f"Bearer {key} extra", f"Bearer{key}"):
            r = await c.get("/v1/airdrops", headers={"authorization": value})
            assert r.status_code == 401, value
            assert r.headers["content-type"] == PROBLEM
            assert r.headers["www-authenticate"].startswith("Bearer")
            assert r.json()["detail"] == MALFORMED_AUTHORIZATION
            assert "Authorization header is malformed" in r.json()["detail"]
            assert key not in r.text
            with_other = {"authorization": value, "x-api-key": key}  # not silently replaced
            assert (await c.get("/v1/airdrops", headers=with_other)).status_code == 401
        for value in (f"bearer {key}", f"BEARER {key}", f"Bearer   {key}", f"bEaReR {key}"):
            r = await c.get("/v1/airdrops", headers={"authorization": value})
            assert r.status_code == 200, value
        other_scheme = {"authorization": "Basic eDp5"}  # not ours: still "no key"
        r = await c.get("/v1/airdrops", headers=other_scheme)
        assert r.status_code == 401
        assert r.json()["detail"] == MISSING_KEY


# -- (e) control characters in query parameters --------------------------------------------


async def test_control_characters_in_query_parameters_are_refused(
    client: httpx.AsyncClient,
) -> None:
    for query in (
        "q=%00",
        "q=a%00b",
        "q=a%09b",
        "q=%1b%5b2J",
        "q=%7f",
        "q=%C2%85",
        "narrative=%0a",
    ):
        r = await client.get(f"/v1/airdrops?{query}")
        assert_400(r, "control character")
    assert_400(await client.get("/v1/projects?q=%00"), "control character")
    assert_400(await client.get("/v1/airdrops?%00=1"), "control character")
    everything = (await client.get("/v1/airdrops")).json()["count"]
    found = (await client.get("/v1/airdrops", params={"q": "scroll"})).json()["count"]
    assert 0 < found < everything  # plain text search still works


async def test_the_dashboard_refuses_control_characters_with_its_400_page(
    shared_loaded: Database,
) -> None:
    async with client_for(shared_loaded, scopes=None) as web:
        for path in ("/?q=%00", "/?q=a%00b", "/?narrative=%1b", "/ask?q=%00", "/ask?q=why%07"):
            r = await web.get(path)
            assert r.status_code == 400, path
            assert r.headers["content-type"].startswith("text/html")
            assert "control characters" in r.text, path
        assert (await web.get("/?q=scroll")).status_code == 200


# -- (f) duplicate keys in JSON bodies -----------------------------------------------------


async def test_duplicate_keys_in_a_json_body_are_refused(loaded: Database) -> None:
    json_type = {"content-type": "application/json"}
    async with client_for(loaded, scopes=ALL) as c:
        r = await c.post("/v1/watchlists", content=b'{"name": "a", "name": "b"}', headers=json_type)
        assert_400(r, "'name' twice")
        assert r.json()["errors"][0]["loc"] == ["body"]
        nested = b'{"name": "a", "filters": [{"chain": "x", "chain": "y"}]}'
        assert_400(await c.post("/v1/watchlists", content=nested, headers=json_type), "'chain'")
        patch = b'{"summary": "One.", "summary": "Two."}'
        merge = {"content-type": "application/merge-patch+json"}
        assert_400(await c.patch("/v1/projects/scroll", content=patch, headers=merge), "summary")
        assert (await c.get("/v1/projects/scroll")).json()["summary"] not in ("One.", "Two.")
        keys = b'{"name": "k", "scopes": ["read"], "scopes": ["admin"]}'
        assert_400(await c.post("/v1/keys", content=keys, headers=json_type), "'scopes'")
        broken = await c.post("/v1/watchlists", content=b'{"name": ', headers=json_type)
        assert broken.status_code == 400  # not JSON at all: as before
        one = b'{"name": "a", "slugs": ["scroll"]}'
        fine = await c.post("/v1/watchlists", content=one, headers=json_type)
        assert fine.status_code == 201, fine.text


def _routers() -> list[APIRouter]:
    found = []
    for info in pkgutil.iter_modules(routes.__path__):
        module = importlib.import_module(f"{routes.__name__}.{info.name}")
        found += [v for v in vars(module).values() if isinstance(v, APIRouter)]
    return found


def test_every_api_route_that_reads_a_body_parses_it_strictly() -> None:
    with_body: list[Any] = []
    for router in _routers():
        for route in router.routes:
            if isinstance(route, APIRoute) and route.body_field is not None:
                with_body.append(route.path)
                assert isinstance(route, StrictJsonRoute), route.path
    assert "/v1/watchlists" in with_body
    assert "/v1/projects/{slug}" in with_body
