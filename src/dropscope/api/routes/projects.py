"""`/v1/projects` (list, profile, evidence, status history) and `/v1/compare`."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import Field
from starlette.responses import Response

from dropscope.api.deps import Api, cached_json, get_api, next_link
from dropscope.api.json import StrictJsonRoute
from dropscope.api.pagination import DEFAULT_LIMIT, fingerprint, page
from dropscope.api.routes.airdrops import AsOf, BoardPage, Cursor, Limit, board_filters, board_page
from dropscope.api.schemas.common import PROBLEM_RESPONSES, Out
from dropscope.api.schemas.projects import EvidenceOut, ProjectDetail, StatusChangeOut
from dropscope.domain.models import Evidence
from dropscope.errors import InvalidInput
from dropscope.services import research
from dropscope.services.board import BoardQuery
from dropscope.services.database import UnitOfWork
from dropscope.services.research import compare, profile

router = APIRouter(tags=["projects"], responses=PROBLEM_RESPONSES, route_class=StrictJsonRoute)

Slug = Annotated[
    str,
    Path(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=80, examples=["starknet"]),
]


class EvidencePage(Out):
    project: str
    count: int
    next_cursor: str | None
    data: list[EvidenceOut]


class StatusHistory(Out):
    project: str
    as_of: date
    history: list[StatusChangeOut] = Field(description="Replayed from the dated evidence")
    recorded: list[StatusChangeOut] = Field(
        description="Changes as dropscope noticed them, with the time (loads, writes)"
    )


class Comparison(Out):
    as_of: date
    data: list[ProjectDetail]


@router.get("/v1/projects", response_model=BoardPage, summary="All researched projects")
async def list_projects(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    query: Annotated[BoardQuery, Depends(board_filters)],
    as_of: AsOf = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Every researched project, including those the inclusion policy leaves out (see
    `listed` and `inclusion_reason`), with the same filters as the board."""
    at = as_of or api.today()
    build = board_page(request, api, replace(query, include_excluded=True), at, limit, cursor)
    return await cached_json(request, api, build)


@router.get("/v1/projects/{slug}", response_model=ProjectDetail, summary="A project's profile")
async def get_project(
    request: Request, api: Annotated[Api, Depends(get_api)], slug: Slug, as_of: AsOf = None
) -> Response:
    """Scores with their breakdown, the status with its rule and evidence, the status
    history, funding rounds, investors and competitors, each fact with its source."""
    at = as_of or api.today()

    def build(uow: UnitOfWork) -> tuple[ProjectDetail, dict[str, str]]:
        return ProjectDetail.of_profile(profile(uow, slug, at, api.params)), {}

    return await cached_json(request, api, build)


def _evidence_key(e: Evidence) -> list[Any]:
    return [e.known_on.isoformat(), e.id]


@router.get(
    "/v1/projects/{slug}/evidence", response_model=EvidencePage, summary="A project's evidence"
)
async def get_evidence(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    slug: Slug,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Every dated, sourced observation the status is derived from, oldest known first."""
    fp = fingerprint({"path": request.url.path})

    def build(uow: UnitOfWork) -> tuple[EvidencePage, dict[str, str]]:
        p = research.get_project(uow, slug)
        items = sorted(p.evidence, key=_evidence_key)
        chosen, nxt = page(items, _evidence_key, limit, cursor, fp)
        body = EvidencePage(
            project=p.slug,
            count=len(chosen),
            next_cursor=nxt,
            data=[EvidenceOut.of(e) for e in chosen],
        )
        return body, next_link(request, nxt)

    return await cached_json(request, api, build)


@router.get(
    "/v1/projects/{slug}/status-history",
    response_model=StatusHistory,
    summary="How a project's status changed",
)
async def get_status_history(
    request: Request, api: Annotated[Api, Depends(get_api)], slug: Slug, as_of: AsOf = None
) -> Response:
    at = as_of or api.today()

    def build(uow: UnitOfWork) -> tuple[StatusHistory, dict[str, str]]:
        pr = profile(uow, slug, at, api.params)
        body = StatusHistory(
            project=pr.assessment.project.slug,
            as_of=at,
            history=[StatusChangeOut.of(h) for h in pr.history],
            recorded=[StatusChangeOut.of(h) for h in pr.recorded],
        )
        return body, {}

    return await cached_json(request, api, build)


@router.get("/v1/compare", response_model=Comparison, summary="Projects side by side")
async def get_compare(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    slugs: Annotated[
        str,
        Query(
            max_length=500,
            description="Two to ten project slugs, comma-separated",
            examples=["scroll,linea,taiko"],
        ),
    ],
    as_of: AsOf = None,
) -> Response:
    keys = [s.strip() for s in slugs.split(",") if s.strip()]
    if len(keys) > 10:
        raise InvalidInput("compare takes at most ten projects")
    at = as_of or api.today()

    def build(uow: UnitOfWork) -> tuple[Comparison, dict[str, str]]:
        found = compare(uow, keys, at, api.params)
        return Comparison(as_of=at, data=[ProjectDetail.of_profile(p) for p in found]), {}

    return await cached_json(request, api, build)
