"""The ceiling for bench/api.py: a pure ASGI callable (no framework) that answers each known
URL with precomputed bytes. The responses come from the JSON file named by
BENCH_BARE_RESPONSES: {"/path?query": {"content_type": "...", "body": "..."}}.

Run by bench/api.py as `uvicorn bare_asgi:app --app-dir bench --workers 2 ...`.
"""

import json
import os

with open(os.environ["BENCH_BARE_RESPONSES"], encoding="utf-8") as f:
    _ROUTES = {
        url.encode(): (r["body"].encode(), r["content_type"].encode())
        for url, r in json.load(f).items()
    }


async def app(scope, receive, send):
    if scope["type"] != "http":  # lifespan: accept startup and shutdown
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    qs = scope["query_string"]
    key = scope["raw_path"] + (b"?" + qs if qs else b"")
    body, ctype = _ROUTES.get(key, (b'{"detail":"not found"}', b"application/json"))
    status = 200 if key in _ROUTES else 404
    headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
