"""The receiver printed in docs/webhooks.md works: run as written (secret and port filled
in), it accepts the dispatcher's messages, prints each type once, and refuses a forgery."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from dropscope.services import webhooks as hooks
from dropscope.services.database import Database
from dropscope.services.keys import operator_account
from tests.services.webhook_helpers import drain, fast_settings, run

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_documented_receiver(database: Database, tmp_path: Path) -> None:
    (code,) = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    settings = fast_settings(database)
    now = datetime.now(UTC)
    with database.unit_of_work() as uow:
        me = operator_account(uow, now).id
        port = _free_port()
        made = hooks.create(uow, settings, me, f"http://127.0.0.1:{port}/hook", now)
        ping = hooks.ping(uow, me, made.endpoint.id, now)
    script = tmp_path / "receiver.py"
    script.write_text(code.replace("whsec_…", made.secret).replace("8080", str(port)))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE)
    try:
        for _ in range(200):
            try:
                forged = httpx.post(
                    f"http://127.0.0.1:{port}/hook",
                    content=b"{}",
                    headers={
                        "webhook-id": "x",
                        "webhook-timestamp": str(int(time.time())),
                        "webhook-signature": "v1,AAAA",
                    },
                )
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        assert forged.status_code == 401
        run(drain(database, settings))
        with database.unit_of_work() as uow:  # replayed: accepted again, printed once
            hooks.replay(uow, me, ping.id, datetime.now(UTC))
        run(drain(database, settings))
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=5)
    assert out.decode().split() == ["webhook.ping"]
    with database.unit_of_work(read_only=True) as uow:
        (d,) = uow.webhooks.deliveries(me, made.endpoint.id)
    assert (d.state.value, d.attempts, d.last_status) == ("delivered", 2, 204)
