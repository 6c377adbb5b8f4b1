"""`dropscope serve` under clients that say too much, too slowly, or not at all, and behind
(or not behind) a reverse proxy: a real server process on a free loopback port, driven with
raw sockets where the client must misbehave, with small limits and timeouts in its settings.

The server's own limits (api/server.py): a connection cap, a deadline for a request's
headers and one for its body, a header size limit; the app's body limit (413); uvicorn's
keep-alive timeout; and X-Forwarded-For believed only from the proxies the operator lists
(`DROPSCOPE_FORWARDED_ALLOW_IPS`, none by default)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from dropscope.services import data as data_service
from tests.api.conftest import DATA, NOW, PEPPER, make_key
from tests.api.test_auth_redis import wait_until_ready
from tests.processes import free_port, stop_group
from tests.services.conftest import fresh_database

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
TIMEOUT = 1.0  # the header and body timeouts, in seconds
MAX_CONNECTIONS = 12
MAX_HEADER_BYTES = 8192
MAX_BODY_BYTES = 10_000
PROXY = "203.0.113.7"  # the address a client claims in X-Forwarded-For

LIMITS = {
    "DROPSCOPE_HTTP_HEADER_TIMEOUT": str(TIMEOUT),
    "DROPSCOPE_HTTP_BODY_TIMEOUT": str(TIMEOUT),
    "DROPSCOPE_HTTP_KEEP_ALIVE_SECONDS": "1",
    "DROPSCOPE_HTTP_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    "DROPSCOPE_HTTP_MAX_HEADER_BYTES": str(MAX_HEADER_BYTES),
    "DROPSCOPE_HTTP_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
}


@dataclass(frozen=True)
class Served:
    port: int
    write_key: str  # read and write scopes, any address
    pinned_key: str  # read scope, only from PROXY

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """(database URL, a read-write key, a read key usable only from PROXY)."""
    folder = tmp_path_factory.mktemp("serve")
    with fresh_database("sqlite", folder) as db:
        data_service.load(db, DATA, NOW)
        write = make_key(db, ("read", "write")).secret
        pinned = make_key(db, ("read",), ip_allowlist=(PROXY,)).secret
        yield db.url, write, pinned


@contextmanager
def serve(keys: tuple[str, str, str], folder: Path, **env: str) -> Iterator[Served]:
    """`dropscope serve` with LIMITS and `env` on a free loopback port, until the block ends."""
    url, write, pinned = keys
    inherited = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DROPSCOPE_FORWARDED_ALLOW_IPS", "FORWARDED_ALLOW_IPS")
    }
    environ = {
        **inherited,
        "DROPSCOPE_DATABASE_URL": url,
        "DROPSCOPE_KEY_PEPPER": PEPPER,
        "DROPSCOPE_ASSISTANT_WARM_ON_START": "false",
        **LIMITS,
        **env,
    }
    port = free_port()
    cmd = [sys.executable, "-m", "dropscope", "serve", "--host", HOST, "--port", str(port)]
    log_path = folder / f"serve-{port}.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            cmd, env=environ, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_until_ready(f"http://{HOST}:{port}", server, log_path)
        yield Served(port, write, pinned)
    finally:
        stop_group(server, timeout=15)


@pytest.fixture(scope="module")
def server(
    keys: tuple[str, str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The server with the default proxy setting: none trusted."""
    with serve(keys, tmp_path_factory.mktemp("log")) as served:
        yield served


def connect(port: int) -> socket.socket:
    return socket.create_connection((HOST, port), timeout=10)


def read_until_closed(sock: socket.socket, within: float) -> tuple[bytes, float]:
    """What the server sends until it closes the connection, and how long that took; fails
    when it is still open after `within` seconds."""
    start, got = time.monotonic(), b""
    sock.settimeout(0.2)
    while time.monotonic() - start < within:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return got, time.monotonic() - start
        if not chunk:
            return got, time.monotonic() - start
        got += chunk
    pytest.fail(f"the connection was still open after {within} s; got {got[:200]!r}")


def healthy(served: Served) -> bool:
    return httpx.get(served.base + "/healthz", timeout=5).status_code == 200


def test_an_oversized_header_is_refused_and_the_server_still_answers(server: Served) -> None:
    with connect(server.port) as sock:
        head = f"GET /healthz HTTP/1.1\r\nHost: {HOST}\r\nX-Big: ".encode()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # closed mid-way
            sock.sendall(head + b"a" * (MAX_HEADER_BYTES * 8) + b"\r\n\r\n")
        got, _ = read_until_closed(sock, within=10)
    assert got == b"" or got.startswith(b"HTTP/1.1 431 "), got[:200]
    if got:
        assert b"content-type: application/problem+json" in got
    assert healthy(server)
    # a header under the limit is fine
    r = httpx.get(server.base + "/healthz", headers={"x-fine": "a" * 4000}, timeout=5)
    assert r.status_code == 200


def test_a_declared_body_over_the_limit_gets_413_before_it_is_sent(server: Served) -> None:
    """Content-Length says 50 MB; not a byte of the body is sent, and the answer comes: the
    server neither waited for the body nor parsed it."""
    with connect(server.port) as sock:
        sock.sendall(
            b"POST /v1/projects HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {server.write_key}\r\n".encode()
            + b"Content-Length: 50000000\r\n\r\n{"
        )
        got, took = read_until_closed(sock, within=10)
    assert got.startswith(b"HTTP/1.1 413 "), got[:200]
    assert b"content-type: application/problem+json" in got
    assert b"connection: close" in got
    assert f"exceeds {MAX_BODY_BYTES} bytes".encode() in got
    assert took < TIMEOUT  # answered, not timed out


def test_a_chunked_body_over_the_limit_gets_413(server: Served) -> None:
    chunk = b"x" * 4000
    with connect(server.port) as sock:
        sock.sendall(
            b"POST /v1/projects HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {server.write_key}\r\n".encode()
            + b"Transfer-Encoding: chunked\r\n\r\n"
            + (b"%x\r\n%s\r\n" % (len(chunk), chunk)) * 3  # 12,000 bytes; never the last chunk
        )
        got, _ = read_until_closed(sock, within=10)
    assert got.startswith(b"HTTP/1.1 413 "), got[:200]
    assert b"content-type: application/problem+json" in got


def test_a_client_that_sends_nothing_is_disconnected_after_the_header_timeout(
    server: Served,
) -> None:
    with connect(server.port) as sock:
        got, took = read_until_closed(sock, within=TIMEOUT + 8)
    assert got.startswith(b"HTTP/1.1 408 "), got[:200]
    assert took >= TIMEOUT * 0.8


def test_a_trickled_header_is_cut_off_at_the_deadline(server: Served) -> None:
    """Slowloris: a byte every 0.25 s would keep an idle timer from ever firing; the header
    deadline runs from the connection, whatever arrives."""
    with connect(server.port) as sock:
        start, got = time.monotonic(), b""
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {HOST}\r\nX-Slow: ".encode())
        sock.settimeout(0.25)
        while time.monotonic() - start < TIMEOUT + 8:
            try:
                sock.sendall(b"x")  # never the end of the line
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
            if not chunk:
                break
            got += chunk
        took = time.monotonic() - start
    assert got == b"" or got.startswith(b"HTTP/1.1 408 "), got[:200]
    assert TIMEOUT * 0.8 <= took < TIMEOUT + 8


def test_a_stalled_body_is_disconnected_after_the_body_timeout(server: Served) -> None:
    with connect(server.port) as sock:
        sock.sendall(
            b"POST /v1/projects HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {server.write_key}\r\n".encode()
            + b'Content-Length: 100\r\n\r\n{"slug":'
        )
        got, took = read_until_closed(sock, within=TIMEOUT + 8)
    assert got == b"", got[:200]  # no answer: the app saw the client leave
    assert took >= TIMEOUT * 0.8


def test_an_idle_keep_alive_connection_is_closed(server: Served) -> None:
    with connect(server.port) as sock:
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
        got, took = read_until_closed(sock, within=3.5)  # uvicorn's default would be 5 s
    assert got.startswith(b"HTTP/1.1 200 ")
    assert took >= 0.8  # kept open for the keep-alive timeout (1 s), then closed


def test_connections_over_the_cap_are_refused_at_once_and_served_again_later(
    server: Served,
) -> None:
    held = [connect(server.port) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.2)  # all accepted
        with connect(server.port) as extra:
            got, took = read_until_closed(extra, within=5)
        assert got.startswith(b"HTTP/1.1 503 "), got[:200]
        assert took < TIMEOUT * 0.8  # refused at once, not left to time out
        for sock in held:  # the silent ones are closed by the header timeout
            read_until_closed(sock, within=TIMEOUT + 8)
    finally:
        for sock in held:
            sock.close()
    assert healthy(server)


def test_a_spoofed_forwarded_for_is_ignored_by_default(server: Served) -> None:
    """The key may be used only from PROXY; a client on 127.0.0.1 claiming that address in
    X-Forwarded-For is still 127.0.0.1."""
    headers = {"authorization": f"Bearer {server.pinned_key}", "x-forwarded-for": PROXY}
    r = httpx.get(server.base + "/v1/airdrops", headers=headers, timeout=10)
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == "application/problem+json"


def test_forwarded_for_is_believed_from_a_listed_proxy(
    keys: tuple[str, str, str], tmp_path: Path
) -> None:
    with serve(keys, tmp_path, DROPSCOPE_FORWARDED_ALLOW_IPS="127.0.0.1") as served:
        headers = {"authorization": f"Bearer {served.pinned_key}"}
        r = httpx.get(served.base + "/v1/airdrops", headers=headers, timeout=10)
        assert r.status_code == 403  # from 127.0.0.1 itself, still refused
        headers["x-forwarded-for"] = PROXY
        r = httpx.get(served.base + "/v1/airdrops", headers=headers, timeout=10)
        assert r.status_code == 200, r.text
