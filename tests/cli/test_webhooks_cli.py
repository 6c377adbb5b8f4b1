"""`dropscope watch ...` and `dropscope webhooks ...`: the commands, `verify` for receivers,
and the dispatcher as a process — killed mid-delivery and restarted it loses nothing; on
PostgreSQL two dispatcher processes never deliver the same message twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dropscope.cli.app import app
from dropscope.domain.webhooks import new_secret, sign_headers
from dropscope.services import webhooks as hooks
from dropscope.services.database import Database
from dropscope.services.keys import operator_account
from tests.services.conftest import fresh_database
from tests.services.webhook_helpers import Receiver, receiver

__all__ = ["receiver"]
DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "DROPSCOPE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "DROPSCOPE_DATA_DIR": str(DATA),
        "DROPSCOPE_KEY_PEPPER": "test-pepper-0123456789abcdef",
        "DROPSCOPE_WEBHOOK_ALLOW_HTTP": "true",
        "DROPSCOPE_WEBHOOK_ALLOWED_NETWORKS": '["127.0.0.0/8"]',
        "COLUMNS": "220",
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


def run(*args: str, input: bytes | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def test_watch_commands(env: dict[str, str]) -> None:
    made = run(
        "watch",
        "add",
        "zk",
        "scroll",
        "taiko",
        "--narrative",
        "zk-rollups",
        "--min-tech",
        "88",
        "-f",
        "json",
    )
    assert made.exit_code == 0, made.output
    doc = json.loads(made.stdout)
    assert doc["slugs"] == ["scroll", "taiko"]
    assert doc["filters"][0]["min_tech"] == 88
    wid = doc["id"]
    changed = run("watch", "update", wid, "--add", "ten", "--remove", "taiko", "-f", "json")
    assert json.loads(changed.stdout)["slugs"] == ["scroll", "ten"]
    assert wid in run("watch", "list").stdout
    bad = run("watch", "add", "x", "Not A Slug")
    assert bad.exit_code == 2
    assert "not a project slug" in bad.stderr
    assert run("watch", "add", "x", "--status", "soon").exit_code == 2
    assert run("watch", "remove", "wl_nope").exit_code == 3
    assert run("watch", "remove", wid).exit_code == 0
    assert run("watch", "events").exit_code == 0


def test_webhook_commands(env: dict[str, str]) -> None:
    made = run(
        "webhooks",
        "add",
        "https://hooks.example.com/in",
        "--event",
        "claim.closing_1d",
        "-f",
        "json",
    )
    assert made.exit_code == 0, made.output
    doc = json.loads(made.stdout)
    assert doc["secret"].startswith("whsec_")
    wid = doc["id"]
    listed = run("webhooks", "list", "-f", "json")
    assert "secret" not in listed.stdout
    assert json.loads(listed.stdout)[0]["event_types"] == ["claim.closing_1d"]
    assert "new secret" in run("webhooks", "rotate", wid, "--overlap", "1h").stdout
    assert run("webhooks", "disable", wid).exit_code == 0
    assert run("webhooks", "ping", wid).exit_code == 1  # disabled: a conflict
    assert run("webhooks", "enable", wid).exit_code == 0
    assert "queued delivery" in run("webhooks", "ping", wid).stdout
    out = run("webhooks", "deliveries", wid, "-f", "json")
    (d,) = json.loads(out.stdout)
    assert d["event_type"] == "webhook.ping"
    assert run("webhooks", "replay", str(d["id"])).exit_code == 0
    for url in ("http://10.0.0.1/", "https://169.254.169.254/", "ftp://x.example/"):
        bad = run("webhooks", "add", url)
        assert bad.exit_code == 2, url
        assert bad.stderr.startswith("error: ")
    assert run("webhooks", "add", "https://x.example/", "--event", "nope").exit_code == 2
    assert "0 new event" in run("webhooks", "scan").stdout
    assert run("webhooks", "scan", "--at", "yesterday").exit_code == 2
    assert run("webhooks", "remove", wid).exit_code == 0


REFUSED_URLS = [
    "https://localhost./",
    "https://127。0。0。1/",
    "https://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/",
    "https://metadata/",
    "https://intranet/",
    "https://hooks.example.com/\x1b[2J",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_webhooks_add_refuses_what_delivery_would(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("DROPSCOPE_WEBHOOK_ALLOWED_NETWORKS", "[]")  # the default policy
    bad = run("webhooks", "add", url)
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error: webhook") or bad.stderr.startswith("error: url")
    assert bad.stderr.count("\n") == 1
    assert "\x1b" not in bad.stderr
    assert run("webhooks", "list", "-f", "json").stdout.strip() == "[]"


def test_control_characters_in_names_and_descriptions_are_refused(env: dict[str, str]) -> None:
    bad = run("webhooks", "add", "https://hooks.example.com/", "--description", "a\x1b[31m\r\nb")
    assert bad.exit_code == 2
    assert bad.stderr == "error: description may not contain control characters (\\x1b at 1)\n"
    bad = run("watch", "add", "zk\x1b]0;owned\x07", "scroll")
    assert bad.exit_code == 2
    assert "\x1b" not in bad.stderr
    assert "\x07" not in bad.stderr
    assert run("watch", "add", "zk", "--text", "a\u202eb").exit_code == 2


EVIL = "ok\x1b[31m red\r\nfake line [bold]x[/bold]\u202eexe\x9b2J"


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_text_stored_before_the_checks_is_printed_escaped(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str
) -> None:
    """Rows an older version saved (inserted through the repositories, as it would have):
    `webhooks list`, `watch list` and `webhooks deliveries` print their text with every
    control character visible and rich markup as it is; JSON output escapes them too."""
    from dropscope.domain.keys import new_id
    from dropscope.domain.watchlists import Watchlist
    from dropscope.domain.webhooks import Endpoint

    with fresh_database(kind, tmp_path) as db:
        monkeypatch.setenv("DROPSCOPE_DATABASE_URL", db.url)
        now = datetime.now(UTC)
        with db.unit_of_work() as uow:
            me = operator_account(uow, now).id
            wid = new_id("wh_")
            url = "https://hooks.example.com/in\x1b[2J"
            uow.webhooks.add_endpoint(
                Endpoint(wid, me, url, EVIL, (), True, None, new_secret(), None, None, now, now)
            )
            uow.watchlists.add(Watchlist("wl_evil", me, EVIL, ("scroll",), (), now, now))
        listed = run("webhooks", "list")
        watched = run("watch", "list")
        as_json = run("webhooks", "list", "-f", "json")
    for out in (listed, watched):
        assert out.exit_code == 0, out.output
        text = out.stdout
        for raw in ("\x1b", "\r", "\u202e", "\x9b"):
            assert raw not in text, (raw, text)
        assert "ok\\x1b[31m red\\x0d\\x0afake line [bold]x[/bold]\\u202eexe\\x9b2J" in text
    assert "https://hooks.example.com/in\\x1b[2J" in listed.stdout
    assert "\u202e" not in as_json.stdout
    assert "\x9b" not in as_json.stdout
    assert "\\u202e" in as_json.stdout
    assert json.loads(as_json.stdout)[0]["description"] == EVIL


def test_verify(env: dict[str, str], tmp_path: Path) -> None:
    secret = new_secret()
    body = b'{"type":"webhook.ping"}'
    ts = int(datetime.now(UTC).timestamp())
    h = sign_headers((secret,), "msg_1", ts, body)
    args = [
        "webhooks",
        "verify",
        "--secret",
        secret,
        "--id",
        "msg_1",
        "--timestamp",
        str(ts),
        "--signature",
        h["webhook-signature"],
    ]
    ok = run(*args, input=body)
    assert ok.exit_code == 0
    assert "valid: msg_1" in ok.stdout
    (tmp_path / "body").write_bytes(body + b" ")
    bad = run(*args, "--body", str(tmp_path / "body"))
    assert bad.exit_code == 1
    assert "no webhook-signature matches" in bad.stderr
    old = str(ts - 600)
    stale = sign_headers((secret,), "msg_1", int(old), body)["webhook-signature"]
    late = run(
        "webhooks",
        "verify",
        "--secret",
        secret,
        "--id",
        "msg_1",
        "--timestamp",
        old,
        "--signature",
        stale,
        input=body,
    )
    assert late.exit_code == 1
    assert "too far" in late.stderr


# --- the dispatcher as a process --------------------------------------------------------


def _dispatcher(url: str, log: Path | None = None, **settings: str) -> subprocess.Popen[bytes]:
    """`dropscope webhooks dispatch` in a process of its own; its stderr to `log` if given."""
    env = {
        **os.environ,
        "DROPSCOPE_DATABASE_URL": url,
        "DROPSCOPE_WEBHOOK_ALLOW_HTTP": "true",
        "DROPSCOPE_WEBHOOK_ALLOWED_NETWORKS": '["127.0.0.0/8"]',
        "DROPSCOPE_WEBHOOK_RETRY_BASE_SECONDS": "0.05",
        "DROPSCOPE_WEBHOOK_RETRY_FACTOR": "2",
        "DROPSCOPE_WEBHOOK_RETRY_CAP_SECONDS": "0.3",
        "DROPSCOPE_WEBHOOK_POLL_SECONDS": "0.05",
        "DROPSCOPE_WEBHOOK_SCAN_SECONDS": "0",
        **settings,
    }
    cmd = [
        sys.executable,
        "-c",
        "from dropscope.cli.app import main; main()",
        "webhooks",
        "dispatch",
    ]
    if log is None:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with log.open("wb") as err:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)


def _wait_running(log: Path, within: float = 30) -> None:
    """Until the dispatcher writing stderr to `log` says it is running."""
    deadline = time.monotonic() + within
    while b"running" not in log.read_bytes():
        if time.monotonic() > deadline:
            raise AssertionError(f"the dispatcher did not start: {log.read_text()[-500:]}")
        time.sleep(0.05)


def _endpoint_with_pings(db: Database, url: str, n: int) -> tuple[str, set[str]]:
    from dropscope.config import Settings

    settings = Settings(
        database_url=db.url, webhook_allow_http=True, webhook_allowed_networks=("127.0.0.0/8",)
    )
    now = datetime.now(UTC)
    with db.unit_of_work() as uow:
        me = operator_account(uow, now).id
        made = hooks.create(uow, settings, me, url, now)
        ids = {hooks.ping(uow, me, made.endpoint.id, now).message_id for _ in range(n)}
    return made.secret, ids


def _wait_delivered(db: Database, n: int, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with db.unit_of_work(read_only=True) as uow:
            if uow.webhooks.counts().get("delivered", 0) == n:
                return
        time.sleep(0.05)
    raise AssertionError("not every message was delivered in time")


def _stop(p: subprocess.Popen[bytes]) -> None:
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        p.wait(10)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_killing_the_dispatcher_mid_delivery_loses_nothing(
    kind: str, tmp_path: Path, receiver: Receiver
) -> None:
    with fresh_database(kind, tmp_path) as db:
        secret, ids = _endpoint_with_pings(db, receiver.url, 6)
        receiver.set("slow", delay=1.0)
        first = _dispatcher(
            db.url, DROPSCOPE_WEBHOOK_TIMEOUT="3", DROPSCOPE_WEBHOOK_LEASE_SECONDS="4"
        )
        try:
            deadline = time.monotonic() + 15
            while not receiver.requests() and time.monotonic() < deadline:
                time.sleep(0.05)  # the receiver answered one: others are in flight
            first.send_signal(signal.SIGKILL)
            first.wait(5)
        finally:
            _stop(first)
        with db.unit_of_work(read_only=True) as uow:
            assert uow.webhooks.counts().get("delivered", 0) < 6  # it died mid-way
        receiver.set("ok")
        second = _dispatcher(
            db.url, DROPSCOPE_WEBHOOK_TIMEOUT="3", DROPSCOPE_WEBHOOK_LEASE_SECONDS="4"
        )
        try:
            _wait_delivered(db, 6, 30)
        finally:
            _stop(second)
        assert set(receiver.accepted(secret)) == ids


@pytest.mark.postgres
def test_two_dispatchers_never_deliver_the_same_message_twice(
    tmp_path: Path, receiver: Receiver
) -> None:
    with fresh_database("postgresql", tmp_path) as db:
        # Both dispatchers are up before the messages exist, and each answer takes 0.1 s (a
        # batch of 16 at 4 at a time, 0.4 s), so neither can deliver all 80 before the
        # other's next poll (every 0.05 s): both must take a share, however slow the start.
        logs = [tmp_path / f"dispatcher-{i}.log" for i in range(2)]
        workers = [_dispatcher(db.url, log, DROPSCOPE_WEBHOOK_CONCURRENCY="4") for log in logs]
        try:
            for log in logs:
                _wait_running(log)
            receiver.set("slow", delay=0.1)
            secret, ids = _endpoint_with_pings(db, receiver.url, 80)
            _wait_delivered(db, 80, 60)
        finally:
            for w in workers:
                _stop(w)
        got = [r["headers"]["webhook-id"] for r in receiver.requests()]
        assert sorted(got) == sorted(ids)  # each exactly once, no duplicate
        assert set(receiver.accepted(secret)) == ids
        with db.unit_of_work(read_only=True) as uow:
            endpoint = uow.webhooks.endpoints(operator_account(uow, datetime.now(UTC)).id)[0]
            deliveries = uow.webhooks.deliveries(endpoint.account_id, endpoint.id, limit=200)
            attempts = [a for d in deliveries for a in uow.webhooks.attempts(d.id)]
        assert len(attempts) == 80
        assert all(a.status_code == 200 for a in attempts)
        assert len({a.worker for a in attempts}) == 2  # both took a share


def test_dispatch_once_delivers_what_is_due(env: dict[str, str], receiver: Receiver) -> None:
    made = json.loads(run("webhooks", "add", receiver.url, "-f", "json").stdout)
    assert run("webhooks", "ping", made["id"]).exit_code == 0
    out = run("webhooks", "dispatch", "--once")
    assert out.exit_code == 0, out.output
    assert "1 deliveries attempted" in out.stdout
    assert len(receiver.accepted(made["secret"])) == 1
    (d,) = json.loads(run("webhooks", "deliveries", made["id"], "-f", "json").stdout)
    assert (d["state"], d["last_status"]) == ("delivered", 200)


def test_account_option_keeps_accounts_apart(env: dict[str, str]) -> None:
    from dropscope.domain.keys import Account

    db = Database(env["DROPSCOPE_DATABASE_URL"])
    try:
        db.ensure_schema()
        with db.unit_of_work() as uow:
            uow.accounts.add(Account("acct_other", "other", False, datetime.now(UTC)))
    finally:
        db.close()
    mine = json.loads(run("watch", "add", "mine", "scroll", "-f", "json").stdout)
    theirs = json.loads(
        run("watch", "add", "theirs", "taiko", "--account", "acct_other", "-f", "json").stdout
    )
    assert theirs["account_id"] == "acct_other"
    listed = json.loads(run("watch", "list", "--account", "acct_other", "-f", "json").stdout)
    assert [w["id"] for w in listed] == [theirs["id"]]
    assert run("watch", "remove", mine["id"], "--account", "acct_other").exit_code == 3
    assert run("watch", "list", "--account", "acct_nobody").exit_code == 3


def test_prune_keeps_what_is_pending(env: dict[str, str], receiver: Receiver) -> None:
    made = json.loads(run("webhooks", "add", receiver.url, "-f", "json").stdout)
    run("webhooks", "ping", made["id"])
    run("webhooks", "dispatch", "--once")
    receiver.set("500")
    run("webhooks", "ping", made["id"])
    run("webhooks", "dispatch", "--once")  # fails: stays pending
    assert "deleted 0 event(s) and 0 deliveries" in run("webhooks", "prune").stdout
    out = run("webhooks", "prune", "--older-than", "0s")
    assert "and 1 deliveries" in out.stdout
    (left,) = json.loads(run("webhooks", "deliveries", made["id"], "-f", "json").stdout)
    assert left["state"] == "pending"
    assert run("webhooks", "prune", "--older-than", "soon").exit_code == 2
