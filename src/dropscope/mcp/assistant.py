"""The assistant tools: `search` and `fetch` (the id/title/text/url shape that agent platforms
expect for citable retrieval) and `ask`, thin wrappers over `services.assistant`."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from dropscope.mcp.context import ToolContext
from dropscope.mcp.errors import tool_call
from dropscope.services import assistant as service

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)


class _Shape(BaseModel):
    model_config = ConfigDict(frozen=True)


class SearchResult(_Shape):
    id: str = Field(description="Pass to `fetch` for the whole document; cite it")
    title: str
    text: str = Field(description="The matching passage")
    url: str = Field(description="Where the passage lives (a dropscope URI)")


class SearchResults(_Shape):
    results: list[SearchResult] = Field(description="Best first")


class FetchedDocument(_Shape):
    id: str
    title: str
    text: str
    url: str
    metadata: dict[str, str] = Field(description="kind, slug, sources, as-of date …")


class AnswerCitation(_Shape):
    n: int = Field(description="The number used as [n] in the answer")
    id: str
    title: str
    url: str
    quote: str


class AskAnswer(_Shape):
    answer: str = Field(description="Text with [n] markers; ends with a not-advice line")
    citations: list[AnswerCitation]
    mode: str = Field(description="structured (database), retrieval (passages) or unknown")
    generator: str = Field(description="extractive (offline), claude, or database")


def register(server: MCPServer, ctx: ToolContext) -> None:
    """Add `search`, `fetch` and `ask` to `server`."""

    @server.tool(title="Search dropscope's research", annotations=READ_ONLY)
    @tool_call
    def search(
        query: Annotated[
            str,
            Field(
                min_length=1,
                max_length=1000,
                description="Keywords or a question, e.g. 'Movement investors' or "
                "'Starknet airdrop snapshot'",
            ),
        ],
        limit: Annotated[int, Field(ge=1, le=50, description="Most results")] = 10,
    ) -> SearchResults:
        """Full-text and semantic search over dropscope's research notes and its cards for
        every project, investor and past airdrop. Returns passages with an `id`, `title`,
        `text` and `url`; quote them and cite the id or url. Call `fetch` with an id for
        the whole document."""
        hits = service.search(ctx.assistant(), query, limit)
        return SearchResults(
            results=[SearchResult(id=h.id, title=h.title, text=h.text, url=h.url) for h in hits]
        )

    @server.tool(title="Fetch a document by id", annotations=READ_ONLY)
    @tool_call
    def fetch(
        id: Annotated[
            str,
            Field(
                min_length=1,
                max_length=300,
                description="An id from `search`: project://starknet, note://starknet, "
                "note://starknet#2 (one passage), investor://paradigm, airdrop://arbitrum",
            ),
        ],
    ) -> FetchedDocument:
        """The whole text of one document (or passage) from `search`, with its metadata
        (sources, as-of date). Unknown id → an error listing similar ids."""
        doc = service.fetch(ctx.assistant(), id)
        return FetchedDocument(
            id=doc.id,
            title=doc.title,
            text=doc.text,
            url=doc.url,
            metadata={str(k): str(v) for k, v in doc.metadata.items()},
        )

    @server.tool(title="Ask dropscope a question", annotations=READ_ONLY)
    @tool_call
    def ask(
        question: Annotated[
            str,
            Field(
                min_length=1,
                max_length=1000,
                description="A question about projects, airdrops, scores, funding or "
                "investors, e.g. 'Which confirmed airdrops have the highest tech score?'",
            ),
        ],
    ) -> AskAnswer:
        """dropscope's own answer, from its database and research notes only, with numbered
        [n] citations (id, title, url, quote). Says so when the data does not answer.
        Prefer the structured tools when you need exact figures to compute with."""
        a = service.ask(ctx.assistant(), question)
        return AskAnswer(
            answer=a.text,
            citations=[
                AnswerCitation(n=c.n, id=c.id, title=c.title, url=c.url, quote=c.quote)
                for c in a.citations
            ],
            mode=a.mode,
            generator=a.generator,
        )
