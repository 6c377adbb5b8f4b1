"""Idempotency-Keys are per API key: the same Idempotency-Key sent with two keys (of two
accounts, or of one) is two requests, each with its own stored response; a key's own retry
replays its response, and its own reuse with another body is still a 422."""

from __future__ import annotations

import httpx
import pytest

from dropscope.services import accounts
from dropscope.services.database import Database
from dropscope.services.keys import keys_service
from tests.api.conftest import NOW, client_for, make_key, settings_for
from tests.api.test_write import new_project

pytestmark = pytest.mark.anyio
PROBLEM = "application/problem+json"
SHARED = {"idempotency-key": "2f9c-shared-by-chance"}


def as_key(secret: str) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}", **SHARED}


async def post(c: httpx.AsyncClient, secret: str, slug: str) -> httpx.Response:
    body = {**new_project(slug), "name": f"Chain {slug.title()}"}  # names are unique too
    return await c.post("/v1/projects", json=body, headers=as_key(secret))


async def test_each_key_gets_its_own_response_for_the_same_idempotency_key(
    loaded: Database,
) -> None:
    service = keys_service(settings_for(loaded), loaded)
    tenant, _ = accounts.signup(service, "tenant", "198.51.100.7", NOW, accounts.SignupLimits())
    a1 = make_key(loaded).secret  # the operator's account
    a2 = make_key(loaded).secret  # the same account, another key
    b1 = make_key(loaded, account_id=tenant.id).secret  # another account
    b2 = make_key(loaded, account_id=tenant.id).secret
    async with client_for(loaded, scopes=None) as c:
        first = {s: await post(c, s, slug) for s, slug in ((a1, "one"), (b1, "two"), (a2, "three"))}
        for r in first.values():
            assert r.status_code == 201, r.text  # not a 422: the others' use does not count
            assert "idempotent-replayed" not in r.headers
        assert [r.json()["slug"] for r in first.values()] == ["one", "two", "three"]

        for secret, slug in ((a1, "one"), (b1, "two"), (a2, "three")):
            again = await post(c, secret, slug)  # a true retry: its own response
            assert again.status_code == 201
            assert again.headers["idempotent-replayed"] == "true"
            assert again.content == first[secret].content

        stolen = await post(c, b2, "one")  # a1's very request from another account's key
        assert stolen.status_code == 409, stolen.text  # written anew (the slug exists)
        assert "idempotent-replayed" not in stolen.headers  # a1's answer is not shown
        assert stolen.headers["content-type"] == PROBLEM

        reused = await post(c, a1, "four")  # a1's own key, another body: still refused
        assert reused.status_code == 422
        assert reused.headers["content-type"] == PROBLEM
        assert (
            await c.get("/v1/projects/four", headers={"authorization": f"Bearer {a1}"})
        ).status_code == 404
