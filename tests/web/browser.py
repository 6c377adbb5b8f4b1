"""A live `dropscope serve` on a free loopback port and Debian's Chromium under Playwright,
for the browser tests. Nothing here is faked: the server is the real command on a fresh
SQLite database that it seeds from the curated data."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]


def browser_env() -> dict[str, str]:
    """The browser's environment: ours, without libfaketime. Under `make test-clock` the
    tests and `dropscope serve` run on a shifted wall clock, but Chromium does not load a
    page under libfaketime (its timers stall), and a visitor's browser keeps real time."""
    return {
        k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("FAKETIME")
    }


def skip_reason() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium; make test does it)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(folder: Path, assistant_cache: Path | None = None) -> Iterator[tuple[str, Path]]:
    """`dropscope serve` on a fresh SQLite file in `folder`: (base URL, database file). The
    assistant (/ask) writes offline, extractively, never calling out even if the environment
    has an Anthropic key; its embeddings are kept in `assistant_cache` when given."""
    port = free_port()
    db_file = folder / "dropscope.db"
    env = {
        **os.environ,
        "DROPSCOPE_DATABASE_URL": f"sqlite:///{db_file}",
        "DROPSCOPE_DATA_DIR": str(REPO / "data"),
        "DROPSCOPE_KEY_PEPPER_FILE": str(folder / "pepper"),
        "DROPSCOPE_ASSISTANT_GENERATOR": "extractive",
        "DROPSCOPE_ASSISTANT_CACHE_DIR": str(assistant_cache or folder / "assistant-cache"),
    }
    for name in ("DROPSCOPE_REDIS_URL", "ANTHROPIC_API_KEY", "DROPSCOPE_ANTHROPIC_API_KEY"):
        env.pop(name, None)
    exe = shutil.which("dropscope", path=str(Path(sys.executable).parent)) or "dropscope"
    log = (folder / "serve.log").open("wb")
    proc = subprocess.Popen(
        [exe, "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.flush()
                pytest.fail(f"dropscope serve exited: {(folder / 'serve.log').read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("dropscope serve did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield base, db_file
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
