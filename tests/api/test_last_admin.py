"""The last active admin key of an account cannot be revoked or disabled through the API
(409 problem+json saying how to recover); the CLI, the operator at the server's shell, can
always recover with `dropscope keys create --name admin --scope admin`, with no key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from dropscope.services import accounts
from dropscope.services.database import Database
from dropscope.services.keys import Actor, keys_service
from tests.api.conftest import DATA, NOW, PEPPER, client_for, make_key, settings_for

pytestmark = pytest.mark.anyio
PROBLEM = "application/problem+json"
ROOT = Path(__file__).resolve().parents[2]
RECOVERY = "dropscope keys create --name admin --scope admin"


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def assert_last_admin(r: httpx.Response, key_id: str) -> None:
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == PROBLEM
    detail = r.json()["detail"]
    assert f"key {key_id} is the last active admin key of its account" in detail
    assert "POST /v1/keys" in detail  # how to avoid it
    assert RECOVERY in detail  # how to recover
    assert "needs no key" in detail


async def test_an_admin_key_cannot_remove_the_last_admin_key_of_its_account(
    loaded: Database,
) -> None:
    first = make_key(loaded, ("admin",))
    reader = make_key(loaded, ("read",))
    async with client_for(loaded, scopes=None) as c:
        h1 = bearer(first.secret)
        assert_last_admin(await c.delete(f"/v1/keys/{first.key.id}", headers=h1), first.key.id)
        assert_last_admin(
            await c.post(f"/v1/keys/{first.key.id}/disable", headers=h1), first.key.id
        )
        assert (await c.get("/v1/keys", headers=h1)).status_code == 200  # still works
        gone = await c.delete(f"/v1/keys/{reader.key.id}", headers=h1)  # not an admin key
        assert gone.status_code == 200, gone.text

        made = await c.post("/v1/keys", json={"name": "second", "scopes": ["admin"]}, headers=h1)
        assert made.status_code == 201, made.text
        second_id, h2 = made.json()["key"]["id"], bearer(made.json()["secret"])
        off = await c.post(f"/v1/keys/{second_id}/disable", headers=h1)  # another is left
        assert off.status_code == 200, off.text
        assert_last_admin(await c.delete(f"/v1/keys/{first.key.id}", headers=h1), first.key.id)
        assert (await c.post(f"/v1/keys/{second_id}/enable", headers=h1)).status_code == 200
        revoked = await c.delete(f"/v1/keys/{first.key.id}", headers=h1)  # itself: allowed now
        assert revoked.status_code == 200, revoked.text
        assert (await c.get("/v1/keys", headers=h1)).status_code == 401
        assert_last_admin(await c.delete(f"/v1/keys/{second_id}", headers=h2), second_id)


async def test_a_tenant_keeps_its_last_admin_key_but_the_operator_may_remove_it(
    loaded: Database,
) -> None:
    service = keys_service(settings_for(loaded), loaded)
    tenant, _ = accounts.signup(service, "tenant", "198.51.100.7", NOW, accounts.SignupLimits())
    theirs = make_key(loaded, ("read", "admin"), account_id=tenant.id, plan="free")
    operator = make_key(loaded, ("admin",))
    async with client_for(loaded, scopes=None) as c:
        r = await c.delete(f"/v1/keys/{theirs.key.id}", headers=bearer(theirs.secret))
        assert_last_admin(r, theirs.key.id)
        assert f"--account {tenant.id}" in r.json()["detail"]  # the operator makes theirs
        by_operator = await c.delete(f"/v1/keys/{theirs.key.id}", headers=bearer(operator.secret))
        assert by_operator.status_code == 200, by_operator.text  # it can make them a new one


async def test_the_cli_can_remove_the_last_admin_key_and_recover_without_any_key(
    loaded: Database,
) -> None:
    only = make_key(loaded, ("admin",))
    env = {
        **os.environ,
        "DROPSCOPE_DATABASE_URL": loaded.url,
        "DROPSCOPE_KEY_PEPPER": PEPPER,
        "DROPSCOPE_DATA_DIR": str(DATA),
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "dropscope", "keys", *args]
        return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)

    revoked = cli("revoke", only.key.id)  # the operator at the shell may
    assert revoked.returncode == 0, revoked.stderr
    service = keys_service(settings_for(loaded), loaded)
    assert not [k for k in service.list(Actor.local()) if k.status_at(NOW).value == "active"]
    made = cli(*RECOVERY.split()[2:], "--format", "json")  # exactly what the 409 says
    assert made.returncode == 0, made.stderr
    secret = json.loads(made.stdout)["secret"]
    async with client_for(loaded, scopes=None) as c:
        assert (await c.get("/v1/keys", headers=bearer(secret))).status_code == 200
