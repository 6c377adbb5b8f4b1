"""The Ask page over ASGI on SQLite and PostgreSQL: answers rendered server-side with their
citations linked to real dashboard pages, the streamed events, bad questions, escaping."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from dropscope.assistant.generate import NOT_ADVICE
from dropscope.domain.assess import AssessParams
from dropscope.services.database import Database
from dropscope.web import Site, dashboard_routes
from dropscope.web.ask_view import MAX_QUESTION, citation_href
from tests.api.conftest import NOW, client_for
from tests.assistant.support import embedding_cache

pytestmark = pytest.mark.anyio

TOP_TECH = "Which confirmed airdrops have the highest tech score?"
MOVEMENT = "Who invested in Movement?"


@pytest.fixture
async def web(
    shared_loaded: Database, request: pytest.FixtureRequest
) -> AsyncIterator[httpx.AsyncClient]:
    """No API key: the dashboard is public; the offline (extractive) assistant."""
    async with client_for(
        shared_loaded,
        scopes=None,
        assistant_generator="extractive",
        assistant_cache_dir=embedding_cache(request.config),
    ) as c:
        yield c


def citation_links(body: str) -> list[tuple[int, str]]:
    """(n, href) of each numbered source in the page's citation list."""
    found = re.findall(r'<li id="cite-(\d+)" value="\d+"><a href="([^"]+)">', body)
    return [(int(n), href) for n, href in found]


def answer_text(body: str) -> str:
    m = re.search(r'<div class="answer-text" id="answer-text">(.*?)</div>', body, re.S)
    assert m, body[:2000]
    return m.group(1)


def parse_sse(body: str) -> list[tuple[str, dict[str, object]]]:
    out = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


async def test_the_empty_page_has_a_labelled_box_examples_and_the_nav_entry(
    web: httpx.AsyncClient,
) -> None:
    r = await web.get("/ask")
    assert r.status_code == 200
    body = r.text
    assert '<label for="ask-q">Your question</label>' in body
    assert 'id="ask-q" name="q"' in body
    assert '<a href="/ask" aria-current="page">Ask</a>' in body
    assert 'href="/ask?q=Who%20invested%20in%20Movement%3F"' in body
    assert '<script src="/static/ask.js?v=' in body
    assert "Not financial advice" in body
    assert "connect-src 'self'" in r.headers["content-security-policy"]
    assert "ratelimit" not in r.headers
    assert (await web.get("/")).text.count('href="/ask"') == 1  # in every page's nav


async def test_top_tech_confirmed_airdrops_are_answered_with_linked_citations(
    web: httpx.AsyncClient,
) -> None:
    r = await web.get("/ask", params={"q": TOP_TECH})
    assert r.status_code == 200, r.text[:1000]
    links = citation_links(r.text)
    assert links == [
        (1, "/projects/taiko"),
        (2, "/projects/peaq"),
        (3, "/projects/dymension"),
    ]
    text = answer_text(r.text)
    for n, _ in links:
        assert f'<a class="marker" href="#cite-{n}" aria-label="source {n}">[{n}]</a>' in text
    assert NOT_ADVICE in text
    assert "Answered from the database." in r.text
    assert f'value="{TOP_TECH}"' in r.text  # the question stays in the box
    for _, href in links:  # each link is a real page
        assert (await web.get(href)).status_code == 200


async def test_who_invested_in_movement_is_answered_from_its_project(
    web: httpx.AsyncClient,
) -> None:
    r = await web.get("/ask", params={"q": MOVEMENT})
    assert r.status_code == 200, r.text[:1000]
    assert citation_links(r.text) == [(1, "/projects/movement")]
    text = answer_text(r.text)
    assert "Borderless Capital" in text
    assert '<a class="marker" href="#cite-1" aria-label="source 1">[1]</a>' in text
    assert (await web.get("/projects/movement")).status_code == 200


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Which projects did Paradigm back?", "/investors/paradigm"),
        ("How many recipients did the Arbitrum airdrop have?", "/history#airdrop-arbitrum"),
        ("What is Taiko?", "/projects/taiko"),
    ],
)
async def test_investor_airdrop_and_note_citations_link_their_pages(
    web: httpx.AsyncClient, question: str, expected: str
) -> None:
    r = await web.get("/ask", params={"q": question})
    assert r.status_code == 200
    hrefs = [h for _, h in citation_links(r.text)]
    assert expected in hrefs
    for href in hrefs:
        page = await web.get(href)
        assert page.status_code == 200, href
        if "#" in href:  # a past airdrop: its row on /history carries the anchor
            assert f'id="{href.split("#", 1)[1]}"' in page.text


@pytest.mark.parametrize(
    ("doc_id", "href"),
    [
        ("project://starknet", "/projects/starknet"),
        ("investor://paradigm", "/investors/paradigm"),
        ("airdrop://arbitrum", "/history#airdrop-arbitrum"),
        ("note://starknet", "/projects/starknet"),
        ("note://starknet#2", "/projects/starknet"),
        ("https://example.com/", None),
        ("project://<b>", None),
        ("javascript://alert(1)", None),
        ("plain", None),
    ],
)
def test_citation_hrefs(doc_id: str, href: str | None) -> None:
    assert citation_href(doc_id) == href


@pytest.mark.parametrize("q", ["", "   ", "x" * (MAX_QUESTION + 1)])
async def test_an_empty_or_too_long_question_is_a_friendly_400(
    web: httpx.AsyncClient, q: str
) -> None:
    r = await web.get("/ask", params={"q": q})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in r.text
    assert ("type a question first" in r.text) or (f"at most {MAX_QUESTION}" in r.text)
    assert '<label for="ask-q">Your question</label>' in r.text  # the form, to try again
    stream = await web.get("/ask/stream", params={"q": q})
    assert stream.status_code == 400
    assert stream.headers["content-type"].startswith("text/event-stream")
    [(event, data)] = parse_sse(stream.text)
    assert event == "error"
    assert data["message"]


async def test_html_in_the_question_is_escaped(web: httpx.AsyncClient) -> None:
    attack = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)> Who invested in Movement?"
    r = await web.get("/ask", params={"q": attack})
    assert r.status_code == 200
    assert "<script>alert(1)" not in r.text
    assert "<img src=x" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    too_long = await web.get("/ask", params={"q": attack + "x" * MAX_QUESTION})
    assert too_long.status_code == 400
    assert "<script>alert(1)" not in too_long.text


async def test_the_stream_yields_citations_deltas_and_done(web: httpx.AsyncClient) -> None:
    r = await web.get("/ask/stream", params={"q": TOP_TECH})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["cache-control"] == "no-store"
    events = parse_sse(r.text)
    names = [e for e, _ in events]
    assert names[0] == "citations"
    assert "delta" in names
    assert names[-1] == "done"
    first = events[0][1]["citations"]
    assert isinstance(first, list)
    hrefs = [c["href"] for c in first]
    assert hrefs == ["/projects/taiko", "/projects/peaq", "/projects/dymension"]
    done = events[-1][1]
    text = "".join(str(d["text"]) for e, d in events if e == "delta")
    assert done["answer"] == text.strip()
    assert str(done["answer"]).endswith(NOT_ADVICE)
    assert done["mode"] == "structured"
    retrieval = parse_sse((await web.get("/ask/stream", params={"q": "What is Taiko?"})).text)
    names = [e for e, _ in retrieval]
    assert names[0] == "citations"
    assert names[-1] == "done"


async def test_ask_js_is_served(web: httpx.AsyncClient) -> None:
    r = await web.get("/static/ask.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert "innerHTML" not in r.text  # the answer goes in as text nodes


async def test_without_an_assistant_the_page_and_the_stream_say_so(
    shared_loaded: Database,
) -> None:
    async def version() -> int:
        return 1

    site = Site(
        db=shared_loaded,
        params=AssessParams(),
        clock=lambda: NOW,
        data_version=version,
        assistant=None,
    )
    app = Starlette(routes=dashboard_routes(site))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        empty = await c.get("/ask")
        assert empty.status_code == 200  # the form and examples need no assistant
        page = await c.get("/ask", params={"q": MOVEMENT})
        assert page.status_code == 503
        assert "not available" in page.text
        stream = await c.get("/ask/stream", params={"q": MOVEMENT})
        assert stream.status_code == 503
        assert parse_sse(stream.text)[0][0] == "error"


async def test_a_question_the_data_cannot_answer_says_so_and_cites_nothing(
    web: httpx.AsyncClient,
) -> None:
    r = await web.get("/ask", params={"q": "What will the weather be in Lisbon tomorrow?"})
    assert r.status_code == 200
    assert "I don&#39;t know from the data" in answer_text(r.text)
    assert citation_links(r.text) == []
    assert '<li class="none">No source is cited.</li>' in r.text
    assert "Nothing in the data answers this." in r.text
