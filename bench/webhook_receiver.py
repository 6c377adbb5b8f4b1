"""The receiver for bench/webhooks.py: a pure ASGI app answering every POST with 204 and
appending `<webhook-id> <unix time>` to the file named by BENCH_RECEIVER_LOG.

Run by bench/webhooks.py as `uvicorn webhook_receiver:app --app-dir bench ...`.
"""

import os
import time

_LOG = open(os.environ["BENCH_RECEIVER_LOG"], "a", buffering=1, encoding="utf-8")  # noqa: SIM115


async def app(scope, receive, send):
    if scope["type"] != "http":  # lifespan
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    msg_id = dict(scope["headers"]).get(b"webhook-id", b"-").decode()
    _LOG.write(f"{msg_id} {time.time():.6f}\n")
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})
