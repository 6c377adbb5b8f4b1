"""The buffered access-log handler: lines arrive whole, in order, in batches."""

from __future__ import annotations

import io
import logging

from dropscope.api.accesslog import BufferedLineHandler


def test_lines_are_buffered_then_written_in_order() -> None:
    handler = BufferedLineHandler(interval=3600, batch=3)
    handler.stream = io.StringIO()
    log = logging.getLogger("test.buffered")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    try:
        log.info("one")
        log.info("two")
        assert handler.stream.getvalue() == ""  # still buffered
        log.info("three")  # the batch is full: written
        assert handler.stream.getvalue() == "one\ntwo\nthree\n"
        log.info("four")
        handler.flush()
        assert handler.stream.getvalue().splitlines() == ["one", "two", "three", "four"]
        handler.write_line('{"direct": true}')
        handler.flush()
        assert handler.stream.getvalue().endswith('{"direct": true}\n')
    finally:
        log.removeHandler(handler)
        handler.close()


def test_request_context_writes_one_json_line_without_query_or_headers() -> None:
    import asyncio
    import json

    from dropscope.api.middleware import RequestContext

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    handler = BufferedLineHandler(interval=3600, batch=1000)
    handler.stream = io.StringIO()
    log = logging.getLogger("dropscope.access")
    old = (log.level, log.handlers[:], log.propagate)
    log.handlers, log.propagate = [handler], False
    log.setLevel(logging.INFO)
    sent: list[dict] = []

    async def send(message) -> None:  # type: ignore[no-untyped-def]
        sent.append(message)

    async def receive() -> dict:
        return {"type": "http.request", "body": b""}

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/v1/projects/scroll",
        "query_string": b"token=secret",
        "headers": [(b"authorization", b"Bearer dsk_secret"), (b"x-request-id", b"rid-1")],
        "client": ("127.0.0.1", 5000),
    }
    try:
        asyncio.run(RequestContext(app)(scope, receive, send))
        handler.flush()
    finally:
        log.setLevel(old[0])
        log.handlers, log.propagate = old[1], old[2]
        handler.close()
    line = handler.stream.getvalue().strip()
    doc = json.loads(line)
    assert doc["request_id"] == "rid-1"
    assert doc["path"] == "/v1/projects/scroll"
    assert doc["status"] == 204
    assert "secret" not in line
    assert (b"x-request-id", b"rid-1") in sent[0]["headers"]
