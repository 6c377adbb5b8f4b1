"""`dropscope agent`: Claude with the MCP tools from the terminal. Claude's API is a stub
HTTP server on the loopback address (ANTHROPIC_BASE_URL) replaying recorded responses."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dropscope.cli.app import app

DATA = Path(__file__).resolve().parents[2] / "data"

REPLIES: list[dict[str, Any]] = [
    {
        "id": "msg_01Cli1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-5-5",
        "content": [
            {"type": "tool_use", "id": "toolu_01Cli1", "name": "resolve", "input": {"name": "ARB"}}
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 2100, "output_tokens": 40},
    },
    {
        "id": "msg_01Cli2",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-5-5",
        "content": [{"type": "text", "text": "ARB is the token of the Arbitrum airdrop."}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 2300, "output_tokens": 20},
    },
]


@pytest.fixture
def claude_stub() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            received.append(body)
            reply = json.dumps(REPLIES[min(len(received), len(REPLIES)) - 1]).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROPSCOPE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("DROPSCOPE_DATA_DIR", str(DATA))
    monkeypatch.setenv("DROPSCOPE_ASSISTANT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("DROPSCOPE_ANTHROPIC_API_KEY", raising=False)


@pytest.mark.usefixtures("env")
def test_agent_answers_with_the_tools(claude_stub, monkeypatch: pytest.MonkeyPatch) -> None:
    url, received = claude_stub
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", url)
    monkeypatch.setenv("DROPSCOPE_ASSISTANT_MODEL", "claude-test-model")
    r = CliRunner().invoke(app, ["agent", "What is ARB?"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("ARB is the token of the Arbitrum airdrop.")
    assert "Not financial advice" in r.stdout
    assert "tool resolve {'name': 'ARB'} → ok" in r.stderr
    assert len(received) == 2
    assert received[0]["model"] == "claude-test-model"
    result = received[1]["messages"][-1]["content"][0]
    assert json.loads(result["content"])["matches"][0]["slug"] == "arbitrum"


@pytest.mark.usefixtures("env")
def test_agent_without_a_key_says_what_to_set() -> None:
    r = CliRunner().invoke(app, ["agent", "What is ARB?"], catch_exceptions=False)
    assert r.exit_code == 2
    assert r.stderr.strip().endswith(
        "error: set ANTHROPIC_API_KEY to let Claude use dropscope's tools"
    )
