"""Recorded source responses, served to the adapters without any network.

`FixtureRouter` maps a request URL to `tests/fixtures/<source>/<fixture_name(path)>` (the
layout `dropscope ingest --record DIR` writes), with the headers of an optional
`<name>.headers.json` sidecar. It answers 304 when `If-None-Match` / `If-Modified-Since`
match those headers, 404 when there is no fixture, and lets a test `override` any fixture
with other answers (a status, a body, a delay, a sequence for successive requests). It is
the handler of an `httpx.MockTransport`, and of `FixtureServer`, a real HTTP server on
127.0.0.1 for tests that run `dropscope` as a subprocess.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx

from dropscope.ingest.sources import fixture_name

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

REAL_BASES: dict[str, tuple[str, ...]] = {
    "https://api.llama.fi": ("defillama-protocols", "defillama-raises"),
    "https://airdrops.llama.fi": ("defillama-airdrops",),
    "https://api.coingecko.com/api/v3": ("coingecko",),
    "https://api.github.com": ("github",),
}


@dataclass
class Answer:
    status: int = 200
    body: bytes | str | Any = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    raise_error: type[Exception] | None = None

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


Override = Answer | Sequence[Answer] | Callable[[str], Answer]


class FixtureRouter:
    def __init__(
        self, bases: Mapping[str, tuple[str, ...]] = REAL_BASES, root: Path = FIXTURES
    ) -> None:
        self.bases = dict(bases)
        self.root = root
        self.overrides: dict[str, Override] = {}
        self.calls: dict[str, int] = {}
        self.log: list[tuple[str, dict[str, str]]] = []

    def override(self, fixture: str, answer: Override) -> None:
        """Replace fixture `fixture` ("coingecko/coins_markets.json") with `answer`."""
        self.overrides[fixture] = answer

    def fixture_for(self, url: str) -> str | None:
        """The fixture ("<source>/<name>") a URL maps to, whether or not it exists."""
        for base, dirs in self.bases.items():
            if url.startswith(base):
                name = fixture_name(url, base)
                for d in dirs:
                    if (self.root / d / name).exists() or f"{d}/{name}" in self.overrides:
                        return f"{d}/{name}"
                return f"{dirs[0]}/{name}"
        return None

    def answer(self, url: str, headers: Mapping[str, str]) -> Answer:
        self.log.append((url, dict(headers)))
        fixture = self.fixture_for(url)
        if fixture is None:
            return Answer(404, {"message": "Not Found"})
        n = self.calls[fixture] = self.calls.get(fixture, 0) + 1
        override = self.overrides.get(fixture)
        if override is not None:
            if callable(override):
                return override(url)
            if isinstance(override, Answer):
                return override
            return override[min(n, len(override)) - 1]
        path = self.root / fixture
        if not path.exists():
            return Answer(404, {"message": "Not Found"})
        sidecar = path.with_name(path.name.removesuffix(".json") + ".headers.json")
        extra = json.loads(sidecar.read_text()) if sidecar.exists() else {}
        lowered = {k.lower(): v for k, v in headers.items()}
        etag, modified = extra.get("ETag"), extra.get("Last-Modified")
        if (etag and lowered.get("if-none-match") == etag) or (
            modified and lowered.get("if-modified-since") == modified
        ):
            return Answer(304, b"", {k: v for k, v in extra.items() if k != "Content-Type"})
        return Answer(200, path.read_bytes(), {"Content-Type": "application/json", **extra})

    # httpx.MockTransport handler
    def __call__(self, request: httpx.Request) -> httpx.Response:
        a = self.answer(str(request.url), request.headers)
        if a.raise_error is not None:
            raise a.raise_error("simulated", request=request)  # type: ignore[call-arg]
        return httpx.Response(a.status, content=a.payload(), headers=dict(a.headers))


def mock_client(router: FixtureRouter) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(router))


class FixtureServer:
    """`router` behind a real HTTP server on 127.0.0.1 (a thread per request). Source
    prefixes: /llama, /airdrops, /coingecko, /github."""

    PREFIXES: ClassVar[dict[str, tuple[str, ...]]] = {
        "/llama": ("defillama-protocols", "defillama-raises"),
        "/airdrops": ("defillama-airdrops",),
        "/coingecko": ("coingecko",),
        "/github": ("github",),
    }

    def __init__(self, root: Path = FIXTURES) -> None:
        router_holder: dict[str, FixtureRouter] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host = f"http://127.0.0.1:{self.server.server_address[1]}"
                a = router_holder["r"].answer(host + self.path, dict(self.headers.items()))
                if a.delay:
                    time.sleep(a.delay)
                body = a.payload()
                try:
                    self.send_response(a.status)
                    for k, v in a.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        base = f"http://127.0.0.1:{self.port}"
        self.router = FixtureRouter({base + p: d for p, d in self.PREFIXES.items()}, root)
        router_holder["r"] = self.router
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def env(self) -> dict[str, str]:
        """DROPSCOPE_* variables pointing every source at this server."""
        base = f"http://127.0.0.1:{self.port}"
        return {
            "DROPSCOPE_DEFILLAMA_URL": base + "/llama",
            "DROPSCOPE_DEFILLAMA_AIRDROPS_URL": base + "/airdrops",
            "DROPSCOPE_COINGECKO_URL": base + "/coingecko",
            "DROPSCOPE_GITHUB_URL": base + "/github",
        }

    @contextmanager
    def running(self) -> Iterator[FixtureServer]:
        self.thread.start()
        try:
            yield self
        finally:
            self.httpd.shutdown()
            self.httpd.server_close()
