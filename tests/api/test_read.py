"""The read API: resources, pagination, errors, conditional GET, request ids."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio

ARTICLE = {
    "confirmed": {"starknet", "peaq", "dymension", "movement", "layerzero"},
    "likely": {"scroll", "linea", "ten", "avail", "parcl"},
    "possible": {"eclipse", "taiko", "aztec", "zksync", "zetachain", "astria"},
}
PROBLEM = "application/problem+json"


def by_status(items: list[dict]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for item in items:
        out.setdefault(item["status"]["status"], set()).add(item["slug"])
    return out


async def test_board_as_of_the_article(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/airdrops", params={"as_of": "2024-01-05", "limit": 100})
    assert r.status_code == 200
    doc = r.json()
    assert doc["as_of"] == "2024-01-05"
    assert by_status(doc["data"]) == ARTICLE
    pots = [p["scores"]["potential"] for p in doc["data"]]
    assert pots == sorted(pots, reverse=True)


async def test_board_today_is_upcoming_only_unless_asked(client: httpx.AsyncClient) -> None:
    today = (await client.get("/v1/airdrops", params={"limit": 100})).json()
    assert all(p["status"]["status"] not in ("distributed", "ruled_out") for p in today["data"])
    gone = await client.get("/v1/airdrops", params={"status": "distributed,ruled_out"})
    assert {"starknet", "zksync", "layerzero"} <= {p["slug"] for p in gone.json()["data"]}
    rep = await client.get("/v1/airdrops?status=distributed&status=ruled_out")
    assert rep.json()["data"] == gone.json()["data"]


async def test_board_filters(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/v1/airdrops",
        params={"as_of": "2024-01-05", "status": "likely", "sort": "-potential"},
    )
    assert {p["slug"] for p in r.json()["data"]} == ARTICLE["likely"]
    r = await client.get(
        "/v1/airdrops", params={"as_of": "2024-01-05", "min_tech": 90, "narrative": "zk-rollups"}
    )
    assert {p["slug"] for p in r.json()["data"]} == {"starknet", "linea", "taiko"}
    r = await client.get("/v1/airdrops", params={"as_of": "2024-01-05", "q": "obscuro"})
    assert [p["slug"] for p in r.json()["data"]] == ["ten"]
    r = await client.get("/v1/airdrops", params={"as_of": "2024-01-05", "investor": "gsr"})
    assert {p["slug"] for p in r.json()["data"]} >= {"taiko", "zetachain"}


async def test_pagination_walks_every_item_once(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    url: str | None = "/v1/projects?limit=5&sort=name"
    pages = 0
    while url:
        r = await client.get(url)
        assert r.status_code == 200
        doc = r.json()
        seen += [p["slug"] for p in doc["data"]]
        link = r.headers.get("link")
        if doc["next_cursor"]:
            assert link is not None
            assert 'rel="next"' in link
            url = link[1 : link.index(">")]
        else:
            assert link is None
            url = None
        pages += 1
    assert pages == 4
    whole = (await client.get("/v1/projects?limit=100&sort=name")).json()
    assert seen == [p["slug"] for p in whole["data"]]
    assert len(set(seen)) == 16


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("/v1/airdrops?colour=red", "unknown query parameter(s): colour"),
        ("/v1/airdrops?as_of=2024-13-01", "as_of"),
        ("/v1/airdrops?status=maybe", "status"),
        ("/v1/airdrops?limit=0", "limit"),
        ("/v1/airdrops?limit=101", "limit"),
        ("/v1/airdrops?sort=height", "cannot sort by 'height'"),
        ("/v1/airdrops?cursor=garbage", "cursor is not valid"),
        ("/v1/airdrops?min_tech=abc", "min_tech"),
        ("/v1/compare?slugs=scroll", "at least two"),
        ("/v1/projects/Bad_Slug", "slug"),
    ],
)
async def test_bad_input_is_a_400_problem(
    client: httpx.AsyncClient, url: str, fragment: str
) -> None:
    r = await client.get(url)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["status"] == 400
    assert fragment in body["detail"] or fragment in str(body.get("errors"))
    assert body["request_id"] == r.headers["x-request-id"]


async def test_cursor_from_another_query_is_rejected(client: httpx.AsyncClient) -> None:
    first = (await client.get("/v1/projects", params={"limit": 3})).json()
    r = await client.get("/v1/airdrops", params={"cursor": first["next_cursor"]})
    assert r.status_code == 400
    assert "different query" in r.json()["detail"]


async def test_unknown_things_are_404_problems(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/projects/starknt")
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["suggestions"] == ["starknet"]
    assert (await client.get("/v1/investors/nobody")).status_code == 404
    r = await client.get("/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    r = await client.delete("/v1/airdrops")
    assert r.status_code == 405
    assert r.headers["content-type"] == PROBLEM


async def test_project_profile(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/projects/starknet")
    doc = r.json()
    assert doc["status"]["status"] == "distributed"
    assert doc["status"]["rule"] == "claim_ended"
    assert doc["score_details"][0]["citation"]["source"] == "tm-upcoming-airdrops"
    assert {f["factor"] for f in doc["potential_breakdown"]} >= {"tech", "status", "investors"}
    assert [h["new"] for h in doc["status_history"]][:2] == ["confirmed", "snapshot_taken"]
    assert {c["slug"] for c in doc["competitors"]} >= {"scroll", "polygon-zkevm"}
    assert "tm-upcoming-airdrops" in doc["sources"]
    then = (await client.get("/v1/projects/starknet", params={"as_of": "2024-01-05"})).json()
    assert then["status"]["status"] == "confirmed"


async def test_evidence_history_compare_investors_narratives_past(
    client: httpx.AsyncClient,
) -> None:
    ev = (await client.get("/v1/projects/zksync/evidence")).json()
    assert {e["kind"] for e in ev["data"]} >= {"rumour", "snapshot", "claim_open"}
    hist = (await client.get("/v1/projects/zksync/status-history")).json()
    assert hist["history"][-1]["new"] == "distributed"
    assert hist["recorded"]
    cmp = (await client.get("/v1/compare", params={"slugs": "scroll,linea,taiko"})).json()
    assert [p["slug"] for p in cmp["data"]] == ["scroll", "linea", "taiko"]
    inv = (await client.get("/v1/investors")).json()
    assert inv["data"][0]["project_count"] >= inv["data"][-1]["project_count"]
    gsr = (await client.get("/v1/investors/gsr")).json()
    assert {b["project"] for b in gsr["portfolio"]} >= {"taiko", "zetachain"}
    narr = (await client.get("/v1/narratives")).json()
    assert narr["data"][0]["heat"] == 100.0
    zk = next(n for n in narr["data"] if n["slug"] == "zk-rollups")
    assert zk["project_count"] == 6
    assert sum(zk["statuses"].values()) == 6
    past = (await client.get("/v1/airdrops/past")).json()
    assert {a["slug"] for a in past["data"]} >= {"uniswap", "arbitrum", "layerzero"}
    for a in past["data"]:
        for f in a["figures"]:
            assert f["citation"]["source"] in past["sources"]


async def test_conditional_get(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/projects/scroll")
    etag = r.headers["etag"]
    assert r.headers["cache-control"] == "no-cache"
    again = await client.get("/v1/projects/scroll", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "no-cache"
    weak = await client.get("/v1/projects/scroll", headers={"if-none-match": f'"x", W/{etag}'})
    assert weak.status_code == 304
    other = await client.get("/v1/projects/scroll", headers={"if-none-match": '"nope"'})
    assert other.status_code == 200


async def test_request_ids(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz", headers={"x-request-id": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    bad = await client.get("/healthz", headers={"x-request-id": "bad id\twith spaces"})
    assert bad.headers["x-request-id"] != "bad id\twith spaces"
    assert len(bad.headers["x-request-id"]) == 32


async def test_health_openapi_docs(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}
    spec = (await client.get("/v1/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    assert "/v1/airdrops" in spec["paths"]
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
