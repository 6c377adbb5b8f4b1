"""`/v1/airdrops`: the board (filters, sort, as-of), and `/v1/airdrops/past`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field, StringConstraints
from starlette.responses import Response

from dropscope.api.deps import Api, IsoDate, cached_json, get_api, next_link
from dropscope.api.json import StrictJsonRoute
from dropscope.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, fingerprint, page
from dropscope.api.schemas.common import PROBLEM_RESPONSES, Out, SourceOut
from dropscope.api.schemas.projects import ProjectSummary
from dropscope.api.schemas.research import PastAirdropOut
from dropscope.domain.models import PastAirdrop
from dropscope.domain.status import AirdropStatus
from dropscope.errors import InvalidInput
from dropscope.services.board import BoardQuery, board, parse_sort, sort_key
from dropscope.services.database import UnitOfWork
from dropscope.services.research import past_airdrops

router = APIRouter(tags=["airdrops"], responses=PROBLEM_RESPONSES, route_class=StrictJsonRoute)

UPCOMING = tuple(s for s in AirdropStatus if s.upcoming)


class BoardPage(Out):
    as_of: date = Field(description="The date the board describes")
    sort: str = Field(examples=["-potential,name"])
    count: int = Field(description="Items in this page")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")
    data: list[ProjectSummary]


class PastPage(Out):
    count: int
    next_cursor: str | None
    data: list[PastAirdropOut]
    sources: dict[str, SourceOut] = Field(description="Every source the figures cite, by id")


def parse_statuses(values: list[str]) -> tuple[AirdropStatus, ...]:
    out = []
    for raw in (v.strip() for value in values for v in value.split(",")):
        if not raw:
            continue
        try:
            out.append(AirdropStatus(raw))
        except ValueError:
            choices = ", ".join(s.value for s in AirdropStatus)
            raise InvalidInput(f"unknown status {raw!r}; choose from {choices}") from None
    return tuple(dict.fromkeys(out))


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (max 100)")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=2000,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Opaque cursor from `next_cursor`",
    ),
]
AsOf = Annotated[
    IsoDate | None,
    Query(
        description="The board as it stood on this date (YYYY-MM-DD), from the evidence "
        "public by then"
    ),
]


_STATUS = "|".join(s.value for s in AirdropStatus)
_SORT = "[-+]?(?:potential|name|tech|fundamentals|raised|valuation|status)"
StatusList = Annotated[str, StringConstraints(pattern=rf"^(?:{_STATUS})(?:,(?:{_STATUS}))*$")]


def board_filters(
    status: Annotated[
        list[StatusList],
        Query(
            description="Statuses, repeatable or comma-separated (default: upcoming ones)",
            examples=[["likely", "confirmed"]],
        ),
    ] = [],  # noqa: B006 (FastAPI copies defaults)
    narrative: Annotated[str | None, Query(max_length=80, examples=["zk-rollups"])] = None,
    chain: Annotated[str | None, Query(max_length=80, examples=["ethereum"])] = None,
    sector: Annotated[str | None, Query(max_length=80, examples=["layer-2"])] = None,
    investor: Annotated[str | None, Query(max_length=80, examples=["paradigm"])] = None,
    min_tech: Annotated[float | None, Query(ge=0, le=100)] = None,
    min_fundamentals: Annotated[float | None, Query(ge=0, le=100)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text search")] = None,
    sort: Annotated[
        str,
        Query(
            max_length=200,
            description="Fields, '-' for descending: potential, name, "
            "tech, fundamentals, raised, valuation, status",
        ),
    ] = "-potential,name",
) -> BoardQuery:
    return BoardQuery(
        statuses=parse_statuses(status),
        narrative=narrative,
        chain=chain,
        sector=sector,
        investor=investor,
        min_tech=min_tech,
        min_fundamentals=min_fundamentals,
        text=q,
        sort=sort,
    )


def board_page(
    request: Request, api: Api, query: BoardQuery, at: date, limit: int, cursor: str | None
) -> Callable[[UnitOfWork], tuple[BoardPage, dict[str, str]]]:
    """A builder for one page of the board for `query` on `at`."""
    spec = parse_sort(query.sort)
    fp = fingerprint({"path": request.url.path, "q": repr(query), "at": at.isoformat()})

    def build(uow: UnitOfWork) -> tuple[BoardPage, dict[str, str]]:
        result = board(uow, at, query, api.params)
        items, nxt = page(result.entries, lambda a: sort_key(a, spec), limit, cursor, fp)
        body = BoardPage(
            as_of=at,
            sort=query.sort,
            count=len(items),
            next_cursor=nxt,
            data=[ProjectSummary.of(a) for a in items],
        )
        return body, next_link(request, nxt)

    return build


@router.get("/v1/airdrops", response_model=BoardPage, summary="The airdrop board")
async def airdrops(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    query: Annotated[BoardQuery, Depends(board_filters)],
    as_of: AsOf = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Listed projects by airdrop status, most promising first. By default only upcoming
    statuses (possible, likely, confirmed, snapshot taken, claimable); ask for
    `status=distributed` or `status=ruled_out` explicitly."""
    if not query.statuses:
        query = replace(query, statuses=UPCOMING)
    at = as_of or api.today()
    build = board_page(request, api, query, at, limit, cursor)
    return await cached_json(request, api, build)


def _past_key(a: PastAirdrop) -> list[Any]:
    """The repository's order: snapshot date (undated last), then slug."""
    return [a.snapshot_on is None, (a.snapshot_on or date.max).isoformat(), a.slug]


@router.get("/v1/airdrops/past", response_model=PastPage, summary="Past airdrops")
async def past(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Past distributions, oldest snapshot first, each figure with its source; derived
    figures (simple divisions) are marked."""
    fp = fingerprint({"path": request.url.path})

    def build(uow: UnitOfWork) -> tuple[PastPage, dict[str, str]]:
        items, sources = past_airdrops(uow)
        chosen, nxt = page(items, _past_key, limit, cursor, fp)
        cited = {f.citation.source_id for a in chosen for f in a.figures}
        cited |= {a.citation.source_id for a in chosen}
        body = PastPage(
            count=len(chosen),
            next_cursor=nxt,
            data=[PastAirdropOut.of(a) for a in chosen],
            sources={s: SourceOut.of(sources[s]) for s in sorted(cited) if s in sources},
        )
        return body, next_link(request, nxt)

    return await cached_json(request, api, build)
