"""`/v1/investors` and `/v1/narratives`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import Field
from starlette.responses import Response

from dropscope.api.deps import Api, cached_json, get_api, next_link
from dropscope.api.json import StrictJsonRoute
from dropscope.api.pagination import DEFAULT_LIMIT, fingerprint, page
from dropscope.api.routes.airdrops import AsOf, Cursor, Limit
from dropscope.api.schemas.common import PROBLEM_RESPONSES, Out
from dropscope.api.schemas.research import InvestorOut, NarrativeOut
from dropscope.services.database import UnitOfWork
from dropscope.services.research import InvestorView, investors, narratives

router = APIRouter(tags=["investors"], responses=PROBLEM_RESPONSES, route_class=StrictJsonRoute)


class InvestorPage(Out):
    count: int
    next_cursor: str | None
    data: list[InvestorOut]


class NarrativeList(Out):
    count: int
    data: list[NarrativeOut] = Field(description="Most shared narrative first")


def _key(v: InvestorView) -> list[object]:
    return [-len(v.portfolio), v.investor.name.lower(), v.investor.slug]


@router.get("/v1/investors", response_model=InvestorPage, summary="Investors and portfolios")
async def list_investors(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    as_of: AsOf = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Every investor with its researched portfolio, most projects first, and how many of
    those reached an airdrop status of confirmed or later."""
    at = as_of or api.today()
    fp = fingerprint({"path": request.url.path, "at": at.isoformat()})

    def build(uow: UnitOfWork) -> tuple[InvestorPage, dict[str, str]]:
        views = sorted(investors(uow, at, None, api.params), key=_key)
        chosen, nxt = page(views, _key, limit, cursor, fp)
        body = InvestorPage(
            count=len(chosen), next_cursor=nxt, data=[InvestorOut.of(v) for v in chosen]
        )
        return body, next_link(request, nxt)

    return await cached_json(request, api, build)


@router.get("/v1/investors/{slug}", response_model=InvestorOut, summary="One investor")
async def get_investor(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    slug: Annotated[str, Path(max_length=80, examples=["paradigm"])],
    as_of: AsOf = None,
) -> Response:
    """An investor (by slug, name or alias) with its rounds, portfolio, and how many of its
    projects went on to an airdrop."""
    at = as_of or api.today()

    def build(uow: UnitOfWork) -> tuple[InvestorOut, dict[str, str]]:
        (view,) = investors(uow, at, slug, api.params)[:1]
        return InvestorOut.of(view), {}

    return await cached_json(request, api, build)


@router.get("/v1/narratives", response_model=NarrativeList, summary="Narratives")
async def list_narratives(
    request: Request, api: Annotated[Api, Depends(get_api)], as_of: AsOf = None
) -> Response:
    """Each narrative with its projects and their statuses; `heat` is its share of
    projects relative to the most shared narrative (an input of the potential score)."""
    at = as_of or api.today()

    def build(uow: UnitOfWork) -> tuple[NarrativeList, dict[str, str]]:
        views = narratives(uow, at, api.params)
        data = [
            NarrativeOut(
                slug=v.slug,
                project_count=len(v.projects),
                heat=v.heat,
                projects=list(v.projects),
                statuses=v.statuses,
            )
            for v in views
        ]
        return NarrativeList(count=len(data), data=data), {}

    return await cached_json(request, api, build)
