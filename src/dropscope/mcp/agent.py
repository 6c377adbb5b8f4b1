"""`agent_answer`: Claude answers a question by calling dropscope's MCP tools in process
(`services.agent.run_agent` over `toolbox.local_toolbox`)."""

from __future__ import annotations

from typing import Any

from dropscope.errors import DropscopeError, InvalidInput
from dropscope.mcp.context import ToolContext
from dropscope.mcp.toolbox import local_toolbox
from dropscope.services.agent import AgentAnswer, run_agent


def anthropic_client(ctx: ToolContext) -> Any:
    """An ``anthropic.AsyncAnthropic`` from the settings' key; InvalidInput without one."""
    key = ctx.settings.anthropic_api_key
    if key is None:
        raise InvalidInput("set ANTHROPIC_API_KEY to let Claude use dropscope's tools")
    import anthropic

    return anthropic.AsyncAnthropic(api_key=key.get_secret_value(), timeout=60.0, max_retries=2)


async def agent_answer(ctx: ToolContext, question: str, client: Any | None = None) -> AgentAnswer:
    """Claude's answer to `question` from dropscope's tools; `client` defaults to one built
    from ANTHROPIC_API_KEY, the model is `assistant_model`."""
    claude = client if client is not None else anthropic_client(ctx)
    async with local_toolbox(ctx) as toolbox:
        try:
            return await run_agent(claude, ctx.settings.assistant_model, question, toolbox)
        except DropscopeError as exc:  # raised outside the session's task group, not in it
            failure = exc
    raise failure
