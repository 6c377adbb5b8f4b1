"""Key management, sign-up, usage and audit over HTTP; tenants kept apart; the OpenAPI
security schemes."""

from __future__ import annotations

import pytest

from dropscope.services.database import Database
from tests.api.conftest import client_for

pytestmark = pytest.mark.anyio


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


async def test_an_admin_manages_keys(loaded: Database) -> None:
    async with client_for(loaded, scopes=("read", "admin")) as c:
        made = await c.post(
            "/v1/keys",
            json={"name": "bot", "scopes": ["read"], "ip_allowlist": ["10.0.0.1"]},
        )
        assert made.status_code == 201, made.text
        assert made.headers["cache-control"] == "no-store"
        body = made.json()
        key_id, secret = body["key"]["id"], body["secret"]
        assert made.headers["location"] == f"/v1/keys/{key_id}"
        assert body["key"]["display"] == secret[:8]
        assert body["key"]["ip_allowlist"] == ["10.0.0.1/32"]
        got = (await c.get(f"/v1/keys/{key_id}")).json()
        assert secret not in str(got)
        assert got["status"] == "active"
        listed = (await c.get("/v1/keys", params={"limit": 1})).json()
        assert listed["count"] == 1
        assert listed["next_cursor"]
        rest = await c.get("/v1/keys", params={"limit": 1, "cursor": listed["next_cursor"]})
        ids = {listed["data"][0]["id"], rest.json()["data"][0]["id"]}
        assert key_id in ids
        assert len(ids) == 2
        assert (await c.post(f"/v1/keys/{key_id}/disable")).json()["status"] == "disabled"
        assert (await c.post(f"/v1/keys/{key_id}/disable")).status_code == 409
        assert (await c.post(f"/v1/keys/{key_id}/enable")).json()["status"] == "active"
        assert (await c.delete(f"/v1/keys/{key_id}")).json()["status"] == "revoked"
        assert (await c.post(f"/v1/keys/{key_id}/enable")).status_code == 409
        assert (await c.post(f"/v1/keys/{key_id}/roll")).status_code == 409
        assert (await c.get("/v1/keys/key_nothing")).status_code == 404
        bad = await c.post("/v1/keys", json={"name": "x", "scopes": ["root"]})
        assert bad.status_code == 400
        cidr = await c.post("/v1/keys", json={"name": "x", "ip_allowlist": ["300.1.1.1"]})
        assert cidr.status_code == 400
        audit = (await c.get("/v1/audit", params={"key": key_id})).json()
        kinds = [e["kind"] for e in audit["data"]]
        assert kinds == ["revoked", "enabled", "disabled", "created"]


async def test_tenants_cannot_see_or_touch_each_other(loaded: Database) -> None:
    async with client_for(loaded, scopes=("read", "admin"), signup="open") as op:
        a = (await op.post("/v1/accounts", json={"name": "A"})).json()
        b = (await op.post("/v1/accounts", json={"name": "B"})).json()
        # the operator gives each tenant an admin key of its own
        keys = {}
        for t in (a, b):
            r = await op.post(
                "/v1/keys",
                json={
                    "name": "admin",
                    "scopes": ["read", "admin"],
                    "plan": "free",
                    "account_id": t["account"]["id"],
                },
            )
            assert r.status_code == 201, r.text
            keys[t["account"]["id"]] = r.json()["secret"]
        a_admin, b_key_id = keys[a["account"]["id"]], b["key"]["id"]
        every = (await op.get("/v1/keys", params={"limit": 100})).json()["data"]
        assert {k["account_id"] for k in every} >= {a["account"]["id"], b["account"]["id"]}

        h = bearer(a_admin)
        mine = (await op.get("/v1/keys", headers=h)).json()["data"]
        assert {k["account_id"] for k in mine} == {a["account"]["id"]}
        other = await op.get("/v1/keys", headers=h, params={"account": b["account"]["id"]})
        assert {k["account_id"] for k in other.json()["data"]} == {a["account"]["id"]}
        for method, path in (
            ("GET", f"/v1/keys/{b_key_id}"),
            ("DELETE", f"/v1/keys/{b_key_id}"),
            ("POST", f"/v1/keys/{b_key_id}/disable"),
            ("POST", f"/v1/keys/{b_key_id}/roll"),
        ):
            r = await op.request(method, path, headers=h)
            assert r.status_code == 404, (method, path)
        escalate = await op.post("/v1/keys", headers=h, json={"name": "x", "scopes": ["write"]})
        assert escalate.status_code == 403
        audit = (await op.get("/v1/audit", headers=h)).json()["data"]
        assert audit
        assert {e["account_id"] for e in audit} == {a["account"]["id"]}
        usage = (await op.get("/v1/usage", headers=h)).json()
        assert usage["account_id"] == a["account"]["id"]
        assert {u["key_id"] for u in usage["keys"]} <= {k["id"] for k in mine}
        assert (await op.get("/v1/airdrops", headers=bearer(b["secret"]))).status_code == 200


async def test_sign_up_when_open(loaded: Database) -> None:
    async with client_for(loaded, scopes=None, signup="open", signup_per_ip_per_hour=2) as c:
        first = await c.post("/v1/accounts", json={"name": "research team"})
        assert first.status_code == 201, first.text
        body = first.json()
        assert body["key"]["scopes"] == ["read"]
        assert body["key"]["plan"] == "free"
        assert first.headers["cache-control"] == "no-store"
        h = bearer(body["secret"])
        assert (await c.get("/v1/airdrops", headers=h)).status_code == 200
        assert (await c.patch("/v1/projects/scroll", json={}, headers=h)).status_code == 403
        assert (await c.get("/v1/keys", headers=h)).status_code == 403
        assert (await c.post("/v1/accounts", json={"name": "second"})).status_code == 201
        third = await c.post("/v1/accounts", json={"name": "third"})
        assert third.status_code == 429
        assert third.json()["violated-policies"] == ["signup-per-network"]
        assert int(third.headers["retry-after"]) > 3500
        assert (await c.post("/v1/accounts", json={"name": ""})).status_code == 400
        assert (await c.post("/v1/accounts", json={"name": "x", "plan": "gold"})).status_code == 400


async def test_usage_counts_the_callers_requests(loaded: Database) -> None:
    async with client_for(loaded, scopes=("read",)) as c:
        for _ in range(3):
            assert (await c.get("/v1/projects")).status_code == 200
        usage = await c.get("/v1/usage", params={"days": 7})
        assert usage.status_code == 200
        body = usage.json()
        (mine,) = body["keys"]
        assert mine["total"] == 4  # three reads and this request
        assert mine["days"] == [{"day": "2026-11-27", "count": 4}]
        assert body["since"] == "2026-11-21"
        assert body["until"] == "2026-11-27"
        assert usage.headers["cache-control"] == "no-store"
        quota = {q["policy"]: q for q in mine["quota"]}
        assert quota["month"]["used"] >= 4
        assert quota["month"]["remaining"] == quota["month"]["quota"] - quota["month"]["used"]
        assert (await c.get("/v1/usage", params={"days": 91})).status_code == 400
        assert (await c.get("/v1/audit")).status_code == 403


async def test_the_spec_declares_both_schemes_and_scopes_answers(client) -> None:  # type: ignore[no-untyped-def]
    spec = (await client.get("/v1/openapi.json")).json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "`Authorization: Bearer dsk_…`",
    }
    assert schemes["apiKey"]["in"] == "header"
    assert schemes["apiKey"]["name"] == "X-API-Key"
    board = spec["paths"]["/v1/airdrops"]["get"]
    assert board["security"] == [{"bearer": []}, {"apiKey": []}]
    assert {"401", "403"} <= set(board["responses"])
    assert "security" not in spec["paths"]["/healthz"]["get"]
    assert "/v1/accounts" not in spec["paths"]  # sign-up is closed by default
