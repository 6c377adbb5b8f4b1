"""Claude's tool-use round trip through dropscope's MCP tools, offline: the `anthropic` SDK
talks to an httpx2 transport that replays responses of the Messages API's recorded shape
(first a `tool_use` block, then a final text answer); the tools run for real, through an MCP
client session, and their results go back as `tool_result` blocks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import httpx2
import pytest

from dropscope.assistant.generate import NOT_ADVICE
from dropscope.errors import InvalidInput, SourceUnavailable
from dropscope.mcp.agent import agent_answer, anthropic_client
from dropscope.mcp.context import ToolContext
from dropscope.services.agent import SYSTEM
from dropscope.services.database import Database
from tests.mcp.conftest import NOW, settings_for

pytestmark = pytest.mark.anyio

MODEL = "claude-test-model"


def message(content: list[dict[str, Any]], stop_reason: str, n: int) -> dict[str, Any]:
    """A Messages API response body, as the API returns it."""
    return {
        "id": f"msg_01Test{n:04d}",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 1850 + 400 * n, "output_tokens": 120},
    }


def tool_use(n: int, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return message(
        [
            {"type": "text", "text": "Let me look that up in dropscope."},
            {"type": "tool_use", "id": f"toolu_01Test{n}", "name": name, "input": arguments},
        ],
        "tool_use",
        n,
    )


def final(n: int, text: str) -> dict[str, Any]:
    return message([{"type": "text", "text": text}], "end_turn", n)


class Recorded:
    """Replays `responses` in order and keeps every request body it was sent."""

    def __init__(self, responses: list[dict[str, Any]] | Callable[[int], dict[str, Any]]):
        self.responses = responses
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        assert request.url.path == "/v1/messages"
        self.requests.append(json.loads(request.content))
        n = len(self.requests) - 1
        body = self.responses(n) if callable(self.responses) else self.responses[n]
        return httpx2.Response(200, json=body, headers={"request-id": f"req_{n}"})

    def client(self) -> anthropic.AsyncAnthropic:
        http = httpx2.AsyncClient(transport=httpx2.MockTransport(self))
        return anthropic.AsyncAnthropic(api_key="sk-ant-test", http_client=http, max_retries=0)


@pytest.fixture
def ctx(loaded_db: Database, tmp_path_factory: pytest.TempPathFactory) -> ToolContext:
    settings = settings_for(
        loaded_db,
        tmp_path_factory.getbasetemp(),
        assistant_model=MODEL,
    )
    return ToolContext(settings, loaded_db, lambda: NOW)


async def test_a_tool_use_round_trip_through_the_mcp_tools(ctx: ToolContext):
    replay = Recorded(
        [
            tool_use(1, "list_airdrops", {"status": ["confirmed"], "sort": ["-tech", "name"]}),
            final(2, "Among confirmed airdrops, Taiko has the highest tech score (90)."),
        ]
    )
    answer = await agent_answer(ctx, "Which confirmed airdrop has the best tech?", replay.client())

    assert answer.text == (
        f"Among confirmed airdrops, Taiko has the highest tech score (90).\n\n{NOT_ADVICE}"
    )
    assert [(c.name, c.is_error) for c in answer.tool_calls] == [("list_airdrops", False)]
    assert answer.rounds == 1
    first, second = replay.requests
    assert first["model"] == MODEL
    assert first["messages"] == [
        {"role": "user", "content": "Which confirmed airdrop has the best tech?"}
    ]
    tools = {t["name"]: t for t in first["tools"]}
    assert len(tools) == 9
    assert tools["list_airdrops"]["input_schema"]["properties"]["status"]
    assert first["system"] == SYSTEM
    # the assistant turn goes back as it came, then the tool's result for its id
    assert second["messages"][1]["role"] == "assistant"
    assert second["messages"][1]["content"][1]["id"] == "toolu_01Test1"
    (result,) = second["messages"][2]["content"]
    assert result["type"] == "tool_result"
    assert result["tool_use_id"] == "toolu_01Test1"
    assert result["is_error"] is False
    board = json.loads(result["content"])
    assert board["projects"][0]["slug"] == "taiko"
    assert board["projects"][0]["tech_score"] == 90


async def test_a_tool_error_goes_back_to_claude_which_corrects_itself(ctx: ToolContext):
    replay = Recorded(
        [
            tool_use(1, "get_project", {"project": "starknt"}),
            tool_use(2, "get_project", {"project": "starknet"}),
            final(3, "Starknet's airdrop is distributed."),
        ]
    )
    answer = await agent_answer(ctx, "What about Starknet's airdrop?", replay.client())
    assert [(c.arguments["project"], c.is_error) for c in answer.tool_calls] == [
        ("starknt", True),
        ("starknet", False),
    ]
    error = replay.requests[1]["messages"][-1]["content"][0]
    assert error["is_error"] is True
    assert "not found: no project 'starknt'" in error["content"]
    assert "did you mean starknet" in error["content"]
    assert "Traceback" not in error["content"]
    profile = json.loads(replay.requests[2]["messages"][-1]["content"][0]["content"])
    assert profile["slug"] == "starknet"
    assert profile["sources"]


async def test_a_model_that_never_stops_calling_tools_is_cut_off(ctx: ToolContext):
    replay = Recorded(lambda n: tool_use(n, "resolve", {"name": "Scroll"}))
    with pytest.raises(SourceUnavailable, match="after 6 rounds"):
        await agent_answer(ctx, "Loop forever", replay.client())
    assert len(replay.requests) == 7


async def test_without_a_key_the_agent_says_what_to_set(ctx: ToolContext):
    keyless = ToolContext(ctx.settings.model_copy(update={"anthropic_api_key": None}), ctx.db)
    with pytest.raises(InvalidInput, match="ANTHROPIC_API_KEY"):
        anthropic_client(keyless)
    with pytest.raises(InvalidInput, match="question"):
        await agent_answer(ctx, "   ", Recorded([]).client())


async def test_an_api_failure_is_source_unavailable(ctx: ToolContext):
    def overloaded(request: httpx2.Request) -> httpx2.Response:
        error = {"type": "overloaded_error", "message": "Overloaded"}
        return httpx2.Response(529, json={"type": "error", "error": error})

    http = httpx2.AsyncClient(transport=httpx2.MockTransport(overloaded))
    client = anthropic.AsyncAnthropic(api_key="sk-ant-test", http_client=http, max_retries=0)
    with pytest.raises(SourceUnavailable, match="Claude's API failed"):
        await agent_answer(ctx, "Anything?", client)
