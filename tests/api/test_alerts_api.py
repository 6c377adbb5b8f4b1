"""Watchlists, events (feed and SSE) and webhooks over HTTP, on SQLite and PostgreSQL: a
watched project's status change made through the curation API reaches a receiver process
as a signed webhook and shows in the feed and the stream; tenant isolation; SSRF refusals;
problem+json for bad input."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest

from dropscope.clock import system_clock
from dropscope.domain.webhooks import verify
from dropscope.services.database import Database
from tests.api.conftest import NOW, client_for
from tests.services.webhook_helpers import Receiver, drain, fast_settings, receiver

pytestmark = pytest.mark.anyio
__all__ = ["receiver"]

CITE = {"source": "tm-upcoming-airdrops", "as_of": "2023-12-15"}
PROBLEM = "application/problem+json"
HOOKS = {
    "webhook_allow_http": True,
    "webhook_allowed_networks": ("127.0.0.0/8",),
    "events_stream_seconds": 0.3,
    "events_stream_poll_seconds": 0.05,
}


def claim(today: date) -> dict[str, Any]:
    """Official evidence that a claim opened a week before `today` and ends in 6 days."""
    return {
        "id": "claim-open",
        "kind": "claim_open",
        "occurred_on": (today - timedelta(days=7)).isoformat(),
        "public_on": (today - timedelta(days=7)).isoformat(),
        "window_end": (today + timedelta(days=6)).isoformat(),
        "official": True,
        "summary": "Claiming is open for another six days.",
        "cite": CITE,
    }


CLAIM = claim(NOW.date())  # for apps on the fixed clock of tests/api/conftest.py


def sse(text: str) -> list[dict[str, Any]]:
    """The events of an SSE body: [{id, event, data}]."""
    out = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line and line[0] != ":"
        )
        if "data" in fields:
            out.append({**fields, "data": json.loads(fields["data"])})
    return out


async def tenant(c: httpx.AsyncClient, name: str) -> dict[str, str]:
    """A new account (open sign-up) and the headers of its read key."""
    made = (await c.post("/v1/accounts", json={"name": name})).json()
    return {"authorization": f"Bearer {made['secret']}"}


async def test_a_status_change_reaches_feed_stream_and_receiver(
    loaded: Database, receiver: Receiver
) -> None:
    """On the wall clock: the receiver process checks signature timestamps against its own
    clock, and a rotated secret's overlap ends by the dispatcher's clock."""
    async with client_for(loaded, signup="open", clock=system_clock, **HOOKS) as c:
        me = await tenant(c, "me")
        w = await c.post("/v1/watchlists", json={"name": "l2s", "slugs": ["taiko"]}, headers=me)
        assert w.status_code == 201, w.text
        assert w.headers["cache-control"] == "no-store"
        h = await c.post("/v1/webhooks", json={"url": receiver.url}, headers=me)
        assert h.status_code == 201, h.text
        secret, hook_id = h.json()["secret"], h.json()["webhook"]["id"]
        assert secret.startswith("whsec_")
        assert "secret" not in (await c.get(f"/v1/webhooks/{hook_id}", headers=me)).text
        start = await c.get("/v1/events/stream", headers=me)  # nothing yet
        assert start.headers["content-type"].startswith("text/event-stream")
        assert sse(start.text) == []

        # The change, through the curation API (the operator's write key).
        before = (await c.get("/v1/projects/taiko")).json()["status"]["status"]
        e = await c.post("/v1/projects/taiko/evidence", json=claim(system_clock().date()))
        assert e.status_code == 201, e.text
        assert e.json()["status_change"]["old"] == before
        assert e.json()["status_change"]["new"] == "claimable"

        feed = (await c.get("/v1/events", headers=me)).json()
        types = {x["type"] for x in feed["data"]}
        assert types == {
            "project.status_changed",
            "project.evidence_added",
            "claim.opened",
            "claim.closing_7d",  # 6 days left
        }
        status = next(x for x in feed["data"] if x["type"] == "project.status_changed")
        assert (status["data"]["old"], status["data"]["new"]) == (before, "claimable")
        assert status["data"]["evidence"][0]["id"] == "claim-open"
        only = await c.get("/v1/events", params={"type": "claim.opened"}, headers=me)
        assert [x["type"] for x in only.json()["data"]] == ["claim.opened"]
        assert (await c.get(f"/v1/events/{status['id']}", headers=me)).status_code == 200

        # SSE: from the start, then resumed with Last-Event-ID.
        seqs = [x["seq"] for x in feed["data"]]
        everything = sse((await c.get("/v1/events/stream", params={"after": 0}, headers=me)).text)
        assert [int(x["id"]) for x in everything] == seqs
        assert everything[0]["event"] == feed["data"][0]["type"]
        resumed = await c.get("/v1/events/stream", headers={**me, "last-event-id": str(seqs[1])})
        assert [int(x["id"]) for x in sse(resumed.text)] == seqs[2:]

        # Pagination: a cursor per page, then a cursor that waits for what comes next.
        p1 = (await c.get("/v1/events", params={"limit": 3}, headers=me)).json()
        p2 = (
            await c.get("/v1/events", params={"limit": 3, "cursor": p1["next_cursor"]}, headers=me)
        ).json()
        assert [x["seq"] for x in p1["data"] + p2["data"]] == seqs

        # Delivery to the receiver process, signed.
        settings = fast_settings(loaded, **HOOKS)
        await drain(loaded, settings)
        got = receiver.accepted(secret)
        assert set(got) == {x["id"] for x in feed["data"]}
        log = (await c.get(f"/v1/webhooks/{hook_id}/deliveries", headers=me)).json()
        assert {d["state"] for d in log["data"]} == {"delivered"}
        one = await c.get(f"/v1/webhooks/{hook_id}/deliveries/{log['data'][0]['id']}", headers=me)
        (attempt,) = one.json()["attempt_log"]
        assert attempt["status_code"] == 200
        assert attempt["latency_ms"] > 0

        # Ping, replay, rotate.
        ping = await c.post(f"/v1/webhooks/{hook_id}/ping", headers=me)
        assert ping.status_code == 202
        again = await c.post(
            f"/v1/webhooks/{hook_id}/deliveries/{log['data'][0]['id']}/replay", headers=me
        )
        assert again.status_code == 202
        assert again.json()["state"] == "pending"
        rotated = await c.post(f"/v1/webhooks/{hook_id}/rotate", json={}, headers=me)
        assert rotated.json()["webhook"]["rotation_ends_at"] is not None
        await drain(loaded, settings)
        both = [
            r for r in receiver.requests() if len(r["headers"]["webhook-signature"].split()) == 2
        ]
        assert len(both) == 2  # the ping and the replay, signed with the old and new secrets
        new, old = rotated.json()["secret"], secret
        for r in both:
            for key in (new, old):
                verify(key, r["headers"], r["body"].encode(), datetime.fromtimestamp(r["at"], UTC))
        assert ping.json()["message_id"] in {r["headers"]["webhook-id"] for r in both}


async def test_tenants_see_only_their_own(loaded: Database, receiver: Receiver) -> None:
    async with client_for(loaded, signup="open", **HOOKS) as c:
        a, b = await tenant(c, "a"), await tenant(c, "b")
        w = (
            await c.post("/v1/watchlists", json={"name": "x", "slugs": ["taiko"]}, headers=a)
        ).json()
        h = (await c.post("/v1/webhooks", json={"url": receiver.url}, headers=a)).json()
        hid = h["webhook"]["id"]
        assert (await c.post("/v1/projects/taiko/evidence", json=CLAIM)).status_code == 201
        assert (await c.get("/v1/events", headers=a)).json()["count"] == 4
        assert (await c.get("/v1/events", headers=b)).json()["count"] == 0
        assert sse((await c.get("/v1/events/stream", params={"after": 0}, headers=b)).text) == []
        assert (await c.get("/v1/watchlists", headers=b)).json()["data"] == []
        assert (await c.get("/v1/webhooks", headers=b)).json()["data"] == []
        for method, path in [
            ("GET", f"/v1/watchlists/{w['id']}"),
            ("PATCH", f"/v1/watchlists/{w['id']}"),
            ("DELETE", f"/v1/watchlists/{w['id']}"),
            ("GET", f"/v1/webhooks/{hid}"),
            ("PATCH", f"/v1/webhooks/{hid}"),
            ("DELETE", f"/v1/webhooks/{hid}"),
            ("POST", f"/v1/webhooks/{hid}/rotate"),
            ("POST", f"/v1/webhooks/{hid}/ping"),
            ("GET", f"/v1/webhooks/{hid}/deliveries"),
            ("GET", f"/v1/webhooks/{hid}/deliveries/1"),
            ("POST", f"/v1/webhooks/{hid}/deliveries/1/replay"),
        ]:
            body = {} if method in ("PATCH", "POST") else None
            r = await c.request(method, path, json=body, headers=b)
            assert r.status_code == 404, (method, path, r.text)
            assert r.headers["content-type"] == PROBLEM
        # and a's things are intact
        assert (await c.get(f"/v1/watchlists/{w['id']}", headers=a)).status_code == 200
        assert (await c.get(f"/v1/webhooks/{hid}", headers=a)).json()["enabled"] is True


@pytest.mark.parametrize(
    ("path", "body", "needle"),
    [
        ("/v1/watchlists", {"name": "x", "slugs": ["Not A Slug"]}, "not a project slug"),
        ("/v1/watchlists", {"name": "x"}, "at least one slug"),
        ("/v1/watchlists", {"name": "x", "filters": [{}]}, "at least one condition"),
        ("/v1/watchlists", {"name": "x", "filters": [{"statuses": ["soon"]}]}, ""),
        ("/v1/watchlists", {"name": "x", "slugs": ["a"], "extra": 1}, ""),
        ("/v1/webhooks", {"url": "https://127.0.0.1/hook"}, "loopback"),
        ("/v1/webhooks", {"url": "https://169.254.169.254/latest"}, "link-local"),
        ("/v1/webhooks", {"url": "https://[::ffff:10.0.0.1]/"}, "private"),
        ("/v1/webhooks", {"url": "https://100.64.1.1/"}, "refused"),
        ("/v1/webhooks", {"url": "http://hooks.example.com/"}, "must use https"),
        ("/v1/webhooks", {"url": "https://localhost/x"}, "local name"),
        # judged as DNS sees the host: IDNA / UTS-46 mapped, one trailing dot dropped
        ("/v1/webhooks", {"url": "https://localhost./"}, "localhost is a local name"),
        ("/v1/webhooks", {"url": "https://127。0。0。1/"}, "127.0.0.1 is a loopback"),
        ("/v1/webhooks", {"url": "https://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/"}, "localhost is a local name"),
        ("/v1/webhooks", {"url": "https://metadata/"}, "single-label name"),
        ("/v1/webhooks", {"url": "https://intranet/"}, "single-label name"),
        ("/v1/webhooks", {"url": "https://hooks.example.com/a\r\nb"}, "control characters"),
        ("/v1/webhooks", {"url": "https://hooks.example.com/\u202e"}, "control characters"),
        (
            "/v1/webhooks",
            {"url": "https://hooks.example.com/", "description": "ok\x1b[31m red\r\nfake line"},
            "description may not contain control characters",
        ),
        ("/v1/watchlists", {"name": "zk\x1b[2J", "slugs": ["scroll"]}, "control characters"),
        (
            "/v1/watchlists",
            {"name": "zk", "filters": [{"text": "a\u202eb"}]},
            "filter text may not contain control characters",
        ),
        ("/v1/webhooks", {"url": "https://a.example/", "event_types": ["nope"]}, ""),
    ],
)
async def test_bad_input_is_a_problem(
    shared_loaded: Database, path: str, body: dict, needle: str
) -> None:
    async with client_for(shared_loaded, scopes=("read",)) as c:  # default: strict SSRF policy
        r = await c.post(path, json=body)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == PROBLEM
    assert needle in r.json()["detail"]


async def test_saved_filter_watchlist_round_trip(shared_loaded: Database) -> None:
    async with client_for(shared_loaded, scopes=("read",)) as c:
        doc = {
            "name": "zk",
            "filters": [{"statuses": ["likely"], "narrative": "zk-rollups", "min_tech": 88}],
        }
        made = await c.post("/v1/watchlists", json=doc)
        assert made.status_code == 201, made.text
        wid = made.json()["id"]
        assert made.json()["filters"][0]["min_tech"] == 88
        p = await c.patch(f"/v1/watchlists/{wid}", json={"add": ["scroll"], "name": "zk+"})
        assert p.json()["slugs"] == ["scroll"]
        assert p.json()["name"] == "zk+"
        assert (await c.get("/v1/watchlists", params={"bogus": 1})).status_code == 400
        assert (await c.delete(f"/v1/watchlists/{wid}")).status_code == 204
        assert (await c.get(f"/v1/watchlists/{wid}")).status_code == 404
        assert (await c.get("/v1/events", params={"cursor": "garbage"})).status_code == 400
        bad_resume = await c.get("/v1/events/stream", headers={"last-event-id": "x"})
        assert bad_resume.status_code == 400


async def test_a_dispatcher_inside_serve_delivers(loaded: Database, receiver: Receiver) -> None:
    """On the wall clock: the dispatcher signs with the app's clock, the receiver checks it
    against its own."""
    fast = {"webhook_dispatch_in_serve": True, "webhook_poll_seconds": 0.05, **HOOKS}
    async with client_for(loaded, clock=system_clock, **fast) as c:
        h = await c.post("/v1/webhooks", json={"url": receiver.url})
        assert h.status_code == 201, h.text
        ping = await c.post(f"/v1/webhooks/{h.json()['webhook']['id']}/ping")
        for _ in range(200):  # until the dispatcher has settled it
            delivery = (await c.get(ping.headers["location"])).json()
            if delivery["state"] == "delivered":
                break
            await anyio.sleep(0.05)
    assert ping.json()["message_id"] in receiver.accepted(h.json()["secret"])
    assert delivery["attempt_log"][0]["status_code"] == 200


def test_settings_refuse_a_bad_allowlist() -> None:
    from pydantic import ValidationError

    from dropscope.config import Settings

    with pytest.raises(ValidationError, match="webhook_allowed_networks"):
        Settings(webhook_allowed_networks=("10.0.0.0/33",))
    with pytest.raises(ValidationError, match="longer than webhook_timeout"):
        Settings(webhook_timeout=30, webhook_lease_seconds=20)
