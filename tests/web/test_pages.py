"""The dashboard's pages over ASGI on SQLite and PostgreSQL: status codes, sections, caching
headers, escaping, and the friendly 404 and 400 pages."""

from __future__ import annotations

import re

import httpx
import pytest

from dropscope.domain.status import AirdropStatus
from dropscope.services.database import Database
from tests.api.conftest import client_for, make_key
from tests.services.test_data_and_board import ARTICLE

pytestmark = pytest.mark.anyio

PAGES = [
    "/",
    "/?as_of=2024-01-05",
    "/projects/starknet",
    "/compare",
    "/compare?slugs=scroll,linea",
    "/compare?slugs=scroll&slugs=taiko&slugs=aztec",
    "/history",
    "/investors",
    "/investors/paradigm",
]


def sections(body: str) -> dict[str, set[str]]:
    """Section id → the slugs of its cards."""
    out = {}
    for m in re.finditer(
        r'<section class="section [^"]*" id="([a-z_]+)"(.*?)</section>', body, re.S
    ):
        out[m.group(1)] = set(re.findall(r'id="card-([a-z0-9-]+)"', m.group(2)))
    return out


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_is_public_html_with_caching_headers(
    web: httpx.AsyncClient, path: str
) -> None:
    r = await web.get(path)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["etag"].startswith('W/"')
    assert r.headers["cache-control"] == "no-cache"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert '<a class="skip-link" href="#main">' in r.text
    assert "ratelimit" not in r.headers
    again = await web.get(path, headers={"if-none-match": r.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["etag"] == r.headers["etag"]


async def test_the_board_as_of_the_article_has_its_sections(web: httpx.AsyncClient) -> None:
    found = sections((await web.get("/?as_of=2024-01-05")).text)
    for status, slugs in ARTICLE.items():
        assert found[status.value] == slugs, status
    assert sum(len(s) for s in found.values()) == 16


async def test_the_board_today_moves_distributed_projects_down(web: httpx.AsyncClient) -> None:
    found = sections((await web.get("/")).text)
    assert {"starknet", "zksync", "layerzero"} <= found[AirdropStatus.DISTRIBUTED.value]
    assert set().union(*found.values()) == set().union(*ARTICLE.values())
    assert list(found)[:3] == ["confirmed", "likely", "possible"]


async def test_filters_narrow_the_board_and_stay_in_the_form(web: httpx.AsyncClient) -> None:
    r = await web.get("/?as_of=2024-01-05&narrative=zk-rollups&sort=name")
    shown = set().union(*sections(r.text).values())
    assert {"starknet", "scroll", "taiko", "zksync"} <= shown
    assert "peaq" not in shown
    assert '<option value="zk-rollups" selected>' in r.text
    assert '<option value="name" selected>' in r.text
    high = set().union(*sections((await web.get("/?as_of=2024-01-05&min_tech=90")).text).values())
    assert high == {"starknet", "linea", "eclipse", "taiko"}
    none = sections((await web.get("/?q=no-such-thing-at-all")).text)
    assert not set().union(*none.values())
    # an empty form field is no filter
    r = await web.get("/?narrative=&chain=&investor=&min_tech=&q=&sort=-potential%2Cname")
    assert len(set().union(*sections(r.text).values())) == 16


async def test_the_project_page_shows_evidence_funding_and_only_official_links(
    web: httpx.AsyncClient,
) -> None:
    body = (await web.get("/projects/starknet")).text
    assert '<ol class="timeline"' in body
    assert body.count('<li class="event') >= 5
    assert "status rests on this" in body
    assert "<caption>Funding rounds</caption>" in body
    assert '<svg class="chart' in body
    assert 'href="https://www.starknet.io"' in body
    assert 'href="/investors/paradigm"' in body


async def test_a_project_by_name_redirects_to_its_slug(web: httpx.AsyncClient) -> None:
    r = await web.get("/projects/StarkNet")
    assert r.status_code == 301
    assert r.headers["location"] == "/projects/starknet"


async def test_compare_marks_the_best_and_the_differences(web: httpx.AsyncClient) -> None:
    body = (await web.get("/compare?slugs=scroll,linea")).text
    assert '<th scope="col"><a href="/projects/scroll">Scroll</a></th>' in body
    assert '<th scope="col"><a href="/projects/linea">Linea</a></th>' in body
    assert 'class="num best"' in body
    assert '<tr class="differs">' in body


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/projects/no-such-project", "no project"),
        ("/projects/%3Cscript%3E", "no project"),
        ("/investors/nobody-at-all", "no investor"),
        ("/compare?slugs=scroll,no-such-project", "no project"),
    ],
)
async def test_unknown_things_get_a_friendly_404_page(
    web: httpx.AsyncClient, path: str, message: str
) -> None:
    r = await web.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert '<h1 id="error-title">Not found</h1>' in r.text
    assert message in r.text
    assert 'href="/">Back to the board</a>' in r.text
    assert "<script>" not in r.text.replace('<script src="/static/dashboard.js', "")


@pytest.mark.parametrize(
    "query",
    [
        "min_tech=abc",
        "min_tech=101",
        "min_tech=nan",
        "sort=height",
        "as_of=2024-13-01",
        "q=" + "x" * 201,
    ],
)
async def test_bad_filters_get_a_400_page(web: httpx.AsyncClient, query: str) -> None:
    r = await web.get(f"/?{query}")
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/html")
    assert "That request did not make sense" in r.text


async def test_compare_with_a_malformed_slug_is_a_400_page(web: httpx.AsyncClient) -> None:
    r = await web.get("/compare?slugs=scroll,%3Cb%3E")
    assert r.status_code == 400
    assert "&lt;b&gt;" in r.text


async def test_a_malicious_query_string_is_escaped(web: httpx.AsyncClient) -> None:
    attack = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>"
    for params in ({"q": attack}, {"narrative": attack}, {"investor": attack}):
        r = await web.get("/", params=params)
        assert r.status_code == 200
        assert "<script>alert(1)" not in r.text
        assert "<img src=x" not in r.text
    r = await web.get("/", params={"q": attack})
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    r = await web.get("/", params={"sort": attack})
    assert r.status_code == 400
    assert "<script>alert(1)" not in r.text


async def test_pages_need_no_key_and_are_not_rate_limited(shared_loaded: Database) -> None:
    key = make_key(shared_loaded, ("read",), plan="free")
    async with client_for(shared_loaded, scopes=None) as c:
        assert (await c.get("/v1/airdrops")).status_code == 401  # the API still needs a key
        for _ in range(3):
            r = await c.get("/", headers={"authorization": f"Bearer {key.secret}"})
            assert r.status_code == 200
            assert "ratelimit" not in r.headers
        assert (await c.get("/static/style.css")).headers["cache-control"].startswith("public")
        assert (await c.get("/static/nothing.js")).status_code == 404


async def test_a_data_change_gives_new_pages_not_cached_old_ones(loaded: Database) -> None:
    async with client_for(loaded, scopes=None, api_cache_recheck_seconds=0) as c:
        before = await c.get("/")
        assert "card-peaq" in before.text
        assert (await c.get("/")).headers["etag"] == before.headers["etag"]  # from the cache
        with loaded.unit_of_work() as uow:
            uow.projects.delete("peaq")
            uow.meta.bump_data_version()
        after = await c.get("/")
        assert after.headers["etag"] != before.headers["etag"]
        assert "card-peaq" not in after.text
        stale = await c.get("/", headers={"if-none-match": before.headers["etag"]})
        assert stale.status_code == 200


async def test_the_as_of_date_is_in_the_form_and_carried_to_projects(
    web: httpx.AsyncClient,
) -> None:
    body = (await web.get("/?as_of=2024-01-05")).text
    assert 'name="as_of" type="date" value="2024-01-05"' in body
    assert 'href="/projects/scroll?as_of=2024-01-05"' in body
    project = (await web.get("/projects/starknet?as_of=2024-01-05")).text
    assert "Status: confirmed" in project  # as the article had it
    compared = (await web.get("/compare?slugs=scroll,linea&as_of=2024-01-05")).text
    assert 'href="/projects/scroll?as_of=2024-01-05"' in compared
    picker = (await web.get("/compare?slugs=scroll&as_of=2024-01-05")).text
    assert 'name="slugs" value="scroll" checked' in picker
    assert '<input type="hidden" name="as_of" value="2024-01-05">' in picker


async def test_head_and_the_bare_projects_path(web: httpx.AsyncClient) -> None:
    head = await web.head("/history")
    assert head.status_code == 200
    assert head.content == b""
    bare = await web.get("/projects")
    assert bare.status_code == 301
    assert bare.headers["location"] == "/"
