"""`dropscope keys ...` and the first-run admin key of `dropscope serve`; a revocation made
by the CLI in another process is seen by the API's next request (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from dropscope.api.app import create_app
from dropscope.cli.app import app
from dropscope.services import data as data_service
from dropscope.services.database import Database
from tests.api.conftest import NOW, PEPPER, settings_for
from tests.services.conftest import database  # noqa: F401 (fixture)

DATA = Path(__file__).resolve().parents[2] / "data"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "DROPSCOPE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "DROPSCOPE_DATA_DIR": str(DATA),
        "DROPSCOPE_KEY_PEPPER_FILE": str(tmp_path / "secret" / "pepper.json"),
        "COLUMNS": "220",
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("DROPSCOPE_KEY_PEPPER", raising=False)
    return values


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_create_list_roll_disable_enable_revoke(env: dict[str, str]) -> None:
    made = run("keys", "create", "--name", "bot", "-s", "read", "-s", "write", "-f", "json")
    assert made.exit_code == 0, made.output
    doc = json.loads(made.stdout)
    key_id, secret = doc["key"]["id"], doc["secret"]
    assert doc["key"]["scopes"] == ["read", "write"]
    assert secret.startswith("dsk_")
    pepper = Path(env["DROPSCOPE_KEY_PEPPER_FILE"])
    assert pepper.stat().st_mode & 0o777 == 0o600  # generated on first use, private
    table = run("keys", "create", "--name", "t", "--expires-in", "30d", "--ip", "10.0.0.0/8")
    assert table.exit_code == 0
    assert "shown this once" in table.stdout
    listed = run("keys", "list")
    assert listed.exit_code == 0
    assert key_id in listed.stdout
    assert secret not in listed.stdout
    assert secret[:8] in listed.stdout
    rolled = json.loads(run("keys", "roll", key_id, "--grace", "1h", "-f", "json").stdout)
    assert rolled["previous"]["rolled_to"] == rolled["key"]["id"]
    new_id = rolled["key"]["id"]
    assert "disabled" in run("keys", "disable", new_id).stdout
    assert "active" in run("keys", "enable", new_id).stdout
    assert "revoked" in run("keys", "revoke", new_id).stdout
    again = run("keys", "enable", new_id)
    assert again.exit_code == 1
    assert "permanent" in again.stderr
    expiring = json.loads(run("keys", "expire", key_id, "--in", "2h", "-f", "json").stdout)
    assert expiring["status"] == "active"
    assert expiring["expires_at"]
    assert "expires" in run("keys", "expire", key_id).stdout
    missing = run("keys", "revoke", "key_nope")
    assert missing.exit_code == 3
    bad = run("keys", "create", "--name", "x", "--scope", "root")
    assert bad.exit_code == 2
    assert "unknown scope" in bad.stderr
    usage = json.loads(run("keys", "usage", "-f", "json").stdout)
    assert {u["key_id"] for u in usage} >= {key_id, new_id}
    audit = json.loads(run("keys", "audit", "-f", "json").stdout)
    assert [e["kind"] for e in audit[:3]] == ["expired", "expired", "revoked"]
    assert "revoked" in run("keys", "audit").stdout
    assert all(secret not in json.dumps(e) for e in audit)


def test_serve_prints_a_first_admin_key_once(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: started.append(kw))
    first = run("serve", "--port", "8123")
    assert first.exit_code == 0, first.output
    lines = [ln.strip() for ln in first.stderr.splitlines()]
    key = next(ln for ln in lines if ln.startswith("dsk_"))
    assert "First run: an admin API key was created." in first.stderr
    assert f"curl -H 'Authorization: Bearer {key}' http://127.0.0.1:8123/v1/airdrops" in lines
    second = run("serve", "--port", "8123")
    assert "dsk_" not in second.stderr  # shown once
    assert len(started) == 2
    listed = json.loads(run("keys", "list", "-f", "json").stdout)
    assert [k["scopes"] for k in listed] == [["admin", "read", "write"]]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_revocation_from_the_cli_process_is_seen_by_the_next_request(
    database: Database,  # noqa: F811
) -> None:
    data_service.load(database, DATA, NOW)
    env = {
        **os.environ,
        "DROPSCOPE_DATABASE_URL": database.url,
        "DROPSCOPE_KEY_PEPPER": PEPPER,
        "DROPSCOPE_DATA_DIR": str(DATA),
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "dropscope", "keys", *args]
        return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)

    made = cli("create", "--name", "victim", "--format", "json")
    assert made.returncode == 0, made.stderr
    doc = json.loads(made.stdout)
    application = create_app(settings_for(database), database=database, clock=lambda: NOW)
    headers = {"authorization": f"Bearer {doc['secret']}"}
    transport = httpx.ASGITransport(app=application)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as c,
    ):
        assert (await c.get("/v1/projects")).status_code == 200
        assert (await c.get("/v1/projects")).status_code == 200  # now from the key cache
        revoked = cli("revoke", doc["key"]["id"])
        assert revoked.returncode == 0, revoked.stderr
        after = await c.get("/v1/projects")
        assert after.status_code == 401
