"""The research tools: thin wrappers over `services.board`, `services.research` and
`services.resolve`, each one read-only unit of work."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from dropscope.domain.status import AirdropStatus
from dropscope.mcp.context import ToolContext
from dropscope.mcp.errors import tool_call
from dropscope.mcp.shapes import (
    Comparison,
    NamedRef,
    PastDrop,
    PastList,
    ProjectBrief,
    ProjectList,
    ProjectProfile,
    Resolved,
    sources_for,
)
from dropscope.services import research
from dropscope.services.board import BoardQuery, board
from dropscope.services.resolve import resolve

Status = Literal[
    "possible", "likely", "confirmed", "snapshot_taken", "claimable", "distributed", "ruled_out"
]
SortField = Literal[
    "-potential", "potential", "-tech", "tech", "-fundamentals", "fundamentals", "-raised",
    "raised", "-valuation", "valuation", "name", "-name", "status", "-status",
]  # fmt: skip
UPCOMING: tuple[AirdropStatus, ...] = tuple(s for s in AirdropStatus if s.upcoming)

AsOf = Annotated[
    date | None,
    Field(description="Answer as things stood on this date (YYYY-MM-DD); default today"),
]
ProjectKey = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="Project slug (e.g. 'starknet'), name or alias; `resolve` finds the slug",
    ),
]
Limit = Annotated[int, Field(ge=1, le=100, description="Most projects to return")]
Statuses = Annotated[
    list[Status] | None,
    Field(max_length=7, description="Keep only these airdrop statuses (any of them)"),
]
Narrative = Annotated[
    str | None,
    Field(max_length=80, description="Narrative slug, e.g. 'zk-rollups', 'modular', 'depin'"),
]
Chain = Annotated[str | None, Field(max_length=80, description="Chain slug, e.g. 'ethereum'")]
Investor = Annotated[
    str | None, Field(max_length=80, description="Investor slug, e.g. 'paradigm' (see resolve)")
]
MinTech = Annotated[float | None, Field(ge=0, le=100, description="Tech score at least this")]
Sort = Annotated[
    list[SortField],
    Field(
        min_length=1,
        max_length=4,
        description="Order by these fields in turn; a leading '-' means descending",
    ),
]

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)


def register(server: MCPServer, ctx: ToolContext) -> None:
    """Add the six research tools to `server`."""

    def _board(query: BoardQuery, as_of: date | None) -> ProjectList:
        at = as_of or ctx.today()
        with ctx.db.unit_of_work(read_only=True) as uow:
            result = board(uow, at, query, ctx.params)
        return ProjectList(
            as_of=at,
            count=len(result.entries),
            projects=[ProjectBrief.of(a) for a in result.entries],
        )

    @server.tool(title="Search researched projects", annotations=READ_ONLY)
    @tool_call
    def search_projects(
        text: Annotated[
            str | None,
            Field(max_length=200, description="Words in the name, alias, summary or narratives"),
        ] = None,
        status: Statuses = None,
        narrative: Narrative = None,
        chain: Chain = None,
        sector: Annotated[
            str | None,
            Field(
                max_length=80,
                description="Sector slug: layer-1, layer-2, modular-infrastructure, "
                "interoperability …",
            ),
        ] = None,
        investor: Investor = None,
        min_tech: MinTech = None,
        min_fundamentals: Annotated[
            float | None, Field(ge=0, le=100, description="Fundamentals score at least this")
        ] = None,
        sort: Sort = ["-potential", "name"],  # noqa: B006 (the SDK validates a copy)
        limit: Limit = 20,
        as_of: AsOf = None,
    ) -> ProjectList:
        """Find researched projects by text and filters: every project dropscope holds,
        including those its inclusion policy leaves off the airdrop board (see `listed` and
        `inclusion_reason`). Use for questions like "which ZK rollups backed by Paradigm
        have a tech score above 85?". Each result has its airdrop status, scores (0–100),
        funding and investors; call `get_project` for the sourced details."""
        query = BoardQuery(
            statuses=tuple(AirdropStatus(s) for s in status or ()),
            narrative=narrative,
            chain=chain,
            sector=sector,
            investor=investor,
            min_tech=min_tech,
            min_fundamentals=min_fundamentals,
            text=text,
            sort=",".join(sort),
            limit=limit,
            include_excluded=True,
        )
        return _board(query, as_of)

    @server.tool(title="The airdrop board", annotations=READ_ONLY)
    @tool_call
    def list_airdrops(
        status: Statuses = None,
        narrative: Narrative = None,
        chain: Chain = None,
        investor: Investor = None,
        min_tech: MinTech = None,
        sort: Sort = ["-potential", "name"],  # noqa: B006 (the SDK validates a copy)
        limit: Limit = 50,
        as_of: AsOf = None,
    ) -> ProjectList:
        """The airdrop board: projects the inclusion policy lists (tech score ≥ 80 or solid
        fundamentals), by default only upcoming airdrops (possible, likely, confirmed,
        snapshot_taken, claimable), most promising first. Ask for status ['distributed'] or
        ['ruled_out'] to see finished ones. Statuses are derived from dated, sourced
        evidence; `status_headline` says what happened and when."""
        query = BoardQuery(
            statuses=tuple(AirdropStatus(s) for s in status) if status else UPCOMING,
            narrative=narrative,
            chain=chain,
            investor=investor,
            min_tech=min_tech,
            sort=",".join(sort),
            limit=limit,
        )
        return _board(query, as_of)

    @server.tool(title="A project's sourced profile", annotations=READ_ONLY)
    @tool_call
    def get_project(project: ProjectKey, as_of: AsOf = None) -> ProjectProfile:
        """Everything about one project: summary, airdrop status with the rule and the dated
        evidence it rests on, status history, tech and fundamentals scores with their
        breakdown, airdrop potential factors, funding rounds with investors, competitors,
        and `sources` (title, publisher, URL) for every source id cited. Not found → the
        error suggests close names."""
        at = as_of or ctx.today()
        with ctx.db.unit_of_work(read_only=True) as uow:
            return ProjectProfile.of_profile(research.profile(uow, project, at, ctx.params))

    @server.tool(title="Compare projects side by side", annotations=READ_ONLY)
    @tool_call
    def compare_projects(
        projects: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=200)]],
            Field(min_length=2, max_length=6, description="2–6 distinct slugs or names"),
        ],
        as_of: AsOf = None,
    ) -> Comparison:
        """Full profiles of two to six projects, in the order given, to compare status,
        scores, funding, valuation and investors."""
        at = as_of or ctx.today()
        with ctx.db.unit_of_work(read_only=True) as uow:
            found = research.compare(uow, projects, at, ctx.params)
        return Comparison(as_of=at, projects=[ProjectProfile.of_profile(p) for p in found])

    @server.tool(title="Past airdrops and their figures", annotations=READ_ONLY)
    @tool_call
    def past_airdrops(
        name: Annotated[
            str | None,
            Field(
                max_length=200,
                description="Only this airdrop or project (slug, name or token symbol)",
            ),
        ] = None,
    ) -> PastList:
        """Past airdrops (Uniswap, Arbitrum, Optimism, Starknet, zkSync, LayerZero, Jupiter
        …): snapshot date, claim window, tokens and share of supply, recipients, value at
        launch, per-recipient figures. Each figure has its source; `derived` marks figures
        dropscope computed by simple division."""
        with ctx.db.unit_of_work(read_only=True) as uow:
            items, known = research.past_airdrops(uow)
            if name is not None:
                hit = resolve(uow, name, ("past_airdrop", "project"))
                slugs = {m.slug for m in hit.matches}
                items = [a for a in items if a.slug in slugs or a.project_slug in slugs]
        cited = {f.citation.source_id for a in items for f in a.figures}
        cited |= {a.citation.source_id for a in items}
        return PastList(
            count=len(items),
            airdrops=[PastDrop.of(a) for a in items],
            sources=sources_for(cited, known),
        )

    @server.tool(name="resolve", title="Name to slug", annotations=READ_ONLY)
    @tool_call
    def resolve_name(
        name: Annotated[
            str,
            Field(
                min_length=1,
                max_length=200,
                description="What someone called it: 'Star Knet', 'zkSync Era', 'ARB', 'a16z'",
            ),
        ],
    ) -> Resolved:
        """Turn a name into the slug other tools take: projects, investors and past
        airdrops, matched by slug, name or alias ignoring case and punctuation. A miss is
        not an error: `found` is false and `suggestions` lists the closest names."""
        with ctx.db.unit_of_work(read_only=True) as uow:
            r = resolve(uow, name)

        def ref(kind: str, slug: str, title: str) -> NamedRef:
            uri = f"project://{slug}" if kind == "project" else None
            return NamedRef(kind=kind, slug=slug, name=title, uri=uri)

        return Resolved(
            query=r.query,
            found=r.found,
            matches=[ref(n.kind, n.slug, n.name) for n in r.matches],
            suggestions=[ref(n.kind, n.slug, n.name) for n in r.suggestions],
        )
