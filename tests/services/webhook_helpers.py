"""What the webhook tests share: a receiver process on loopback, settings that allow it
with short timeouts and backoff, and a dispatcher loop that runs until the outbox settles."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dropscope.config import Settings
from dropscope.domain.webhooks import verify
from dropscope.services.database import Database
from dropscope.services.webhook_dispatch import DispatchConfig, Dispatcher

RECEIVER = Path(__file__).with_name("webhook_receiver.py")


def fast_settings(db: Database, **overrides: Any) -> Settings:
    """Settings for delivering to 127.0.0.1 quickly: 0.5 s timeout, 50 ms backoff."""
    values: dict[str, Any] = {
        "database_url": db.url,
        "webhook_allow_http": True,
        "webhook_allowed_networks": ("127.0.0.0/8",),
        "webhook_timeout": 0.5,
        "webhook_lease_seconds": 1.5,
        "webhook_retry_base_seconds": 0.05,
        "webhook_retry_factor": 2.0,
        "webhook_retry_cap_seconds": 0.3,
        "webhook_poll_seconds": 0.05,
        "webhook_scan_seconds": 0,
        "key_pepper": "test-pepper-0123456789abcdef",
        **overrides,
    }
    return Settings(**values)


@dataclass
class Receiver:
    folder: Path
    process: subprocess.Popen[bytes] | None = None
    port: int = 0
    log: Path = field(init=False)
    control: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.folder / "received.jsonl"
        self.control = self.folder / "control.json"
        self.set("ok")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def set(self, mode: str, **extra: object) -> None:
        tmp = self.control.with_suffix(".tmp")
        tmp.write_text(json.dumps({"mode": mode, **extra}))
        tmp.replace(self.control)

    def start(self) -> None:
        port_file = self.folder / f"port-{time.monotonic_ns()}"
        args = [sys.executable, str(RECEIVER), str(self.log), str(self.control), str(port_file)]
        if self.port:  # a restart listens where the endpoint points
            args.append(str(self.port))
        self.process = subprocess.Popen(args)
        deadline = time.monotonic() + 10
        while not port_file.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the receiver did not start")
            time.sleep(0.01)
        self.port = int(port_file.read_text())

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(5)
            self.process = None

    def requests(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def accepted(self, secret: str) -> dict[str, dict[str, Any]]:
        """Messages answered 2xx, de-duplicated by webhook-id, each signature verified
        (asserts it) against `secret` at the time it was received."""
        out: dict[str, dict[str, Any]] = {}
        for r in self.requests():
            msg_id = verify(
                secret,
                r["headers"],
                r["body"].encode(),
                datetime.fromtimestamp(r["at"], UTC),
            )
            if 200 <= r["status"] < 300:
                out.setdefault(msg_id, json.loads(r["body"]))
        return out


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    r = Receiver(tmp_path)
    r.start()
    try:
        yield r
    finally:
        r.stop()


def pending(db: Database) -> int:
    with db.unit_of_work(read_only=True) as uow:
        return uow.webhooks.counts().get("pending", 0)


async def drain(db: Database, settings: Settings, *, within: float = 20.0) -> Dispatcher:
    """Run a dispatcher until no delivery is pending (fails after `within` seconds)."""
    async with Dispatcher(db, DispatchConfig.of(settings)) as d:
        deadline = time.monotonic() + within
        while pending(db):
            if time.monotonic() > deadline:
                raise AssertionError(f"{pending(db)} deliveries still pending")
            if not await d.run_once():
                await asyncio.sleep(0.02)
        return d


def run(coro: Any) -> Any:
    return asyncio.run(coro)
