"""`build_server`: the dropscope MCP server, its tools, and the `project://{slug}` resources."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.types import (
    Completion,
    CompletionArgument,
    CompletionContext,
    PromptReference,
    Resource,
    ResourceTemplateReference,
)

from dropscope import __version__
from dropscope.mcp import assistant, research
from dropscope.mcp.context import ToolContext
from dropscope.mcp.errors import resource_errors
from dropscope.mcp.shapes import ProjectProfile
from dropscope.services import research as research_service

INSTRUCTIONS = """\
dropscope: open crypto airdrop research. Every fact carries a source id and an as-of date;
airdrop statuses are derived from dated evidence; scores are 0-100. All tools are read-only.

- Names to slugs: `resolve` (a miss returns suggestions, not an error).
- Structured questions (statuses, scores, investors, funding): `list_airdrops` (the board of
  upcoming airdrops), `search_projects` (every project, with filters), `get_project`,
  `compare_projects`, `past_airdrops`.
- Free-text questions: `ask` answers from dropscope's own notes and data with numbered
  citations; `search` finds passages (id, title, text, url) and `fetch` returns one whole
  document by id, for you to quote and cite.
- Resources: project://<slug> is a project's full sourced profile (JSON).
Cite the `sources` (title, URL) you rely on. This is research, not financial advice.
"""


class DropscopeServer(MCPServer):
    """An MCP server that also lists one `project://<slug>` resource per project in the
    database (read when listed, so projects added since the start show up)."""

    def __init__(self, ctx: ToolContext, **options: Any) -> None:
        super().__init__("dropscope", **options)
        self._ctx = ctx

    async def list_resources(self) -> list[Resource]:
        return [
            *await super().list_resources(),
            *await anyio.to_thread.run_sync(self.project_resources),
        ]

    def project_resources(self) -> list[Resource]:
        with self._ctx.db.unit_of_work(read_only=True) as uow:
            projects = uow.projects.list_all()
        return [
            Resource(
                uri=f"project://{p.slug}",
                name=p.slug,
                title=p.name,
                description=p.summary,
                mime_type="application/json",
            )
            for p in sorted(projects, key=lambda p: p.slug)
        ]


def build_server(ctx: ToolContext) -> DropscopeServer:
    """The server over `ctx`'s database; each tool call is one read-only unit of work."""
    server = DropscopeServer(
        ctx,
        title="dropscope airdrop research",
        description="Crypto airdrop research with sources: projects, statuses, scores, "
        "funding, investors and past airdrops.",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level="WARNING",
    )
    research.register(server, ctx)
    assistant.register(server, ctx)

    @server.resource(
        "project://{slug}",
        name="project",
        title="A project's sourced profile",
        description="The same profile as the get_project tool, as JSON: status with its "
        "evidence, scores, funding, investors, competitors and sources.",
        mime_type="application/json",
    )
    @resource_errors
    def project_resource(slug: str) -> str:
        with ctx.db.unit_of_work(read_only=True) as uow:
            found = research_service.profile(uow, slug, ctx.today(), ctx.params)
        return ProjectProfile.of_profile(found).model_dump_json(indent=1)

    @server.completion()  # type: ignore[untyped-decorator,no-untyped-call]  # SDK untyped
    async def complete(
        ref: ResourceTemplateReference | PromptReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion | None:
        """Slugs for project://{slug}, those starting with what was typed first."""
        if not isinstance(ref, ResourceTemplateReference) or argument.name != "slug":
            return None
        typed = argument.value.strip().lower()
        slugs = [str(r.name) for r in await anyio.to_thread.run_sync(server.project_resources)]
        ranked = [s for s in slugs if s.startswith(typed)] + [
            s for s in slugs if typed in s and not s.startswith(typed)
        ]
        return Completion(values=ranked[:100], total=len(ranked), has_more=len(ranked) > 100)

    return server
