"""`POST /v1/ask`: JSON answers with citations, SSE streaming, keys and problems."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest

from dropscope.assistant.generate import NOT_ADVICE
from dropscope.services.assistant import assistant_for
from dropscope.services.database import Database
from tests.api.conftest import client_for
from tests.assistant.support import embedding_cache

pytestmark = pytest.mark.anyio


@pytest.fixture
async def asker(
    shared_loaded: Database, request: pytest.FixtureRequest
) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(
        shared_loaded,
        scopes=("read",),
        assistant_generator="extractive",
        assistant_cache_dir=embedding_cache(request.config),
    ) as c:
        yield c


def parse_sse(body: str) -> list[tuple[str, dict[str, object]]]:
    out = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


async def test_json_answer_with_citations(asker: httpx.AsyncClient) -> None:
    r = await asker.post(
        "/v1/ask", json={"question": "Which confirmed airdrops have the highest tech score?"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["mode"] == "structured"
    assert body["answer"].endswith(NOT_ADVICE)
    assert [c["id"] for c in body["citations"]] == [
        "project://taiko",
        "project://peaq",
        "project://dymension",
    ]
    assert all("[{}]".format(c["n"]) in body["answer"] for c in body["citations"])


async def test_sse_stream(asker: httpx.AsyncClient) -> None:
    r = await asker.post(
        "/v1/ask",
        json={"question": "How many wallets received the ZK airdrop?"},
        headers={"accept": "text/event-stream"},
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(r.text)
    assert events[0][0] == "citations"
    assert events[-1][0] == "done"
    deltas = "".join(str(d["text"]) for e, d in events if e == "delta")
    done = events[-1][1]
    assert deltas.strip() == done["answer"]
    assert "695,232" in str(done["answer"])
    assert done["citations"]


async def test_keys_and_problems(shared_loaded: Database, asker: httpx.AsyncClient) -> None:
    async with client_for(shared_loaded, scopes=None) as anonymous:
        r = await anonymous.post("/v1/ask", json={"question": "Who invested in Movement?"})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    for bad in ({}, {"question": ""}, {"question": "x" * 1001}, {"question": "q", "extra": 1}):
        r = await asker.post("/v1/ask", json=bad)
        assert r.status_code in (400, 422), bad
        assert r.headers["content-type"].startswith("application/problem+json")
    r = await asker.post(
        "/v1/ask", json={"question": "   "}, headers={"accept": "text/event-stream"}
    )
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_the_index_is_built_in_the_background_when_the_app_starts(
    loaded: Database, tmp_path: Path
) -> None:
    """`assistant_warm_on_start` (set by `dropscope serve`): the first question does not wait
    for the index; without it, nothing is built until a question comes."""
    async with client_for(
        loaded,
        scopes=None,
        assistant_warm_on_start=True,
        assistant_dense=False,
        assistant_cache_dir=tmp_path,
    ):
        built = assistant_for(loaded)
        for _ in range(400):
            if built.last_update is not None:
                break
            await anyio.sleep(0.05)
    assert built.last_update is not None
    assert built.last_update.documents > 0
