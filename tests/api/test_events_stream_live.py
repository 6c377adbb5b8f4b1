"""The SSE stream over a real socket (uvicorn in a thread): an event written while a client
is connected arrives at once, not when the response ends — no middleware buffers it."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from dropscope.api.app import create_app
from dropscope.services.database import Database
from tests.api.conftest import NOW, make_key, settings_for
from tests.api.test_alerts_api import CLAIM


@pytest.fixture
def server(loaded: Database) -> Iterator[str]:
    app = create_app(
        settings_for(loaded, events_stream_seconds=30, events_stream_poll_seconds=0.05),
        database=loaded,
        clock=lambda: NOW,
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


def test_an_event_arrives_while_the_stream_is_open(loaded: Database, server: str) -> None:
    headers = {"authorization": f"Bearer {make_key(loaded).secret}"}
    with httpx.Client(base_url=server, headers=headers, timeout=10) as c:
        made = c.post("/v1/watchlists", json={"name": "l2", "slugs": ["taiko"]})
        assert made.status_code == 201, made.text
        with c.stream("GET", "/v1/events/stream") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            assert next(lines) == "retry: 2000"
            t0 = time.monotonic()
            with httpx.Client(base_url=server, headers=headers, timeout=10) as writer:
                assert writer.post("/v1/projects/taiko/evidence", json=CLAIM).status_code == 201
            event: dict[str, str] = {}
            for line in lines:
                if not line:
                    if "data" in event:
                        break
                    continue
                key, _, value = line.partition(": ")
                event[key] = value
            elapsed = time.monotonic() - t0
    assert elapsed < 15  # the response lasts 30 s: this came live (with room for a loaded machine)
    assert event["event"] in {
        "project.evidence_added",
        "project.status_changed",
        "claim.opened",
        "claim.closing_7d",
    }
    assert json.loads(event["data"])["project"] == "taiko"
