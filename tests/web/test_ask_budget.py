"""The public Ask page's budget for paid answers, with a fake paid generator at the process
edge (a stand-in for Claude): per address per hour, in all per UTC day, then answered
offline (and saying so) instead of failing; structured answers cost nothing; POST /v1/ask
(counted by the key's plan) is not limited by it. Time is the app's clock."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import httpx
import pytest

from dropscope.api.app import create_app
from dropscope.assistant.generate import Source
from dropscope.services.assistant import Assistant
from dropscope.services.database import Database
from dropscope.services.public_ask import BUDGET_SPENT, PER_ADDRESS_SPENT
from tests.api.conftest import NOW, make_key, settings_for
from tests.assistant.support import DATA_DIR

pytestmark = pytest.mark.anyio

QUESTION = "What is Taiko?"  # answered by retrieval and the generator
STRUCTURED = "Who invested in Movement?"  # answered from the database: no generator


class PaidGenerator:
    """Writes every answer it is asked for, and counts them (each would be a paid call)."""

    name = "paid-fake"

    def __init__(self) -> None:
        self.calls = 0

    def stream(self, question: str, sources: Sequence[Source]) -> Iterator[str]:
        self.calls += 1
        yield f"From the paid model [{sources[0].n}]."


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@asynccontextmanager
async def site(
    db: Database, clock: Clock, **settings: object
) -> AsyncIterator[tuple[PaidGenerator, dict[str, httpx.AsyncClient]]]:
    """The app with an assistant whose generator is the fake paid one; a client per
    address ("a", "b", "c" and an IPv6 "v6a" / "v6b" in one /64), none with a key but
    "key", which carries a read key."""
    paid = PaidGenerator()
    helper = Assistant(db, data_dir=DATA_DIR, generator=paid, dense=False, clock=clock)
    app = create_app(settings_for(db, **settings), database=db, clock=clock, assistant=helper)
    addresses = {
        "a": "198.51.100.1",
        "b": "198.51.100.2",
        "c": "203.0.113.9",
        "v6a": "2001:db8:1:2::1",
        "v6b": "2001:db8:1:2:ffff::9",
        "key": "192.0.2.50",
    }
    clients = {}
    for name, ip in addresses.items():
        headers = {}
        if name == "key":
            headers["authorization"] = f"Bearer {make_key(db, ('read',)).secret}"
        transport = httpx.ASGITransport(app=app, client=(ip, 40000))
        clients[name] = httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=headers
        )
    async with app.router.lifespan_context(app):
        try:
            yield paid, clients
        finally:
            for c in clients.values():
                await c.aclose()


async def answer_how(client: httpx.AsyncClient, question: str = QUESTION) -> str:
    r = await client.get("/ask", params={"q": question})
    assert r.status_code == 200, r.text[:500]
    start = r.text.index('id="answer-how">') + len('id="answer-how">')
    return r.text[start : r.text.index("</p>", start)]


def done_event(body: str) -> dict[str, object]:
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        if lines["event"] == "done":
            return dict(json.loads(lines["data"]))
    raise AssertionError(body)


PAID = "Written by the paid-fake generator from the passages cited."
OFFLINE = "Written by the extractive generator from the passages cited."


async def test_past_the_per_address_limit_answers_are_written_offline_and_say_so(
    shared_loaded: Database,
) -> None:
    clock = Clock(NOW)
    async with site(shared_loaded, clock, public_ask_per_address_per_hour=2) as (paid, c):
        assert await answer_how(c["a"]) == PAID
        assert await answer_how(c["a"], STRUCTURED) == "Answered from the database."  # free
        stream = await c["a"].get("/ask/stream", params={"q": QUESTION})
        assert done_event(stream.text)["generator"] == "paid-fake"
        assert done_event(stream.text)["offline"] is None
        assert paid.calls == 2
        # the third paid answer this hour from this address: offline, and the page says so
        assert await answer_how(c["a"]) == f"{OFFLINE} ({PER_ADDRESS_SPENT})"
        done = done_event((await c["a"].get("/ask/stream", params={"q": QUESTION})).text)
        assert (done["generator"], done["offline"]) == ("extractive", PER_ADDRESS_SPENT)
        assert str(done["answer"]).strip()
        assert paid.calls == 2
        assert await answer_how(c["b"]) == PAID  # another address has its own
        # IPv6: one /64 is one client
        assert await answer_how(c["v6a"]) == PAID
        assert await answer_how(c["v6b"]) == PAID
        assert await answer_how(c["v6b"]) == f"{OFFLINE} ({PER_ADDRESS_SPENT})"
        clock.now = NOW.replace(minute=0) + timedelta(hours=1)  # the next clock hour
        assert await answer_how(c["a"]) == PAID


async def test_a_daily_budget_of_two_gives_two_paid_answers_then_offline_ones(
    shared_loaded: Database,
) -> None:
    clock = Clock(NOW)
    async with site(shared_loaded, clock, public_ask_llm_budget_per_day=2) as (paid, c):
        assert await answer_how(c["a"], STRUCTURED) == "Answered from the database."
        assert await answer_how(c["a"]) == PAID
        assert await answer_how(c["b"]) == PAID
        for name in ("a", "b", "c"):
            assert await answer_how(c[name]) == f"{OFFLINE} ({BUDGET_SPENT})"
        done = done_event((await c["c"].get("/ask/stream", params={"q": QUESTION})).text)
        assert (done["generator"], done["offline"]) == ("extractive", BUDGET_SPENT)
        assert paid.calls == 2
        # the key's API is not the public page: POST /v1/ask still gets the paid answer
        r = await c["key"].post("/v1/ask", json={"question": QUESTION})
        assert r.status_code == 200, r.text
        assert r.json()["generator"] == "paid-fake"
        assert paid.calls == 3
        clock.now = (NOW + timedelta(days=1)).replace(hour=0, minute=0)  # a new UTC day
        assert await answer_how(c["c"]) == PAID


async def test_post_v1_ask_is_not_limited_by_the_public_budget(shared_loaded: Database) -> None:
    clock = Clock(NOW)
    settings = {"public_ask_llm_budget_per_day": 0, "public_ask_per_address_per_hour": 0}
    async with site(shared_loaded, clock, **settings) as (paid, c):
        assert await answer_how(c["key"]) == f"{OFFLINE} ({PER_ADDRESS_SPENT})"
        for _ in range(3):
            r = await c["key"].post("/v1/ask", json={"question": QUESTION})
            assert r.status_code == 200, r.text
            assert r.json()["generator"] == "paid-fake"
            assert "offline" not in r.json()
        assert paid.calls == 3
        assert "ratelimit" in {k.lower() for k in r.headers}  # counted by the key's plan
