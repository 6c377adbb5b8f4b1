"""Watchlists of the caller's account: `GET/POST /v1/watchlists`,
`GET/PATCH/DELETE /v1/watchlists/{id}`. Scope `read` (any key of the account); another
account's watchlist answers 404. Answers are per account: `Cache-Control: no-store`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from dropscope.api.auth import requires
from dropscope.api.deps import Api, get_api
from dropscope.api.json import StrictJsonRoute
from dropscope.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, fingerprint, page
from dropscope.api.routes.keys import AUTH_RESPONSES, json_response
from dropscope.api.schemas.alerts import (
    WatchlistCreate,
    WatchlistOut,
    WatchlistPage,
    WatchlistPatch,
)
from dropscope.api.schemas.common import PROBLEM_RESPONSES
from dropscope.domain.access import Caller, Scope
from dropscope.domain.watchlists import Watchlist
from dropscope.services import watchlists as service
from dropscope.services.database import UnitOfWork

T = TypeVar("T")
router = APIRouter(
    tags=["watchlists"],
    responses={**PROBLEM_RESPONSES, **AUTH_RESPONSES},
    route_class=StrictJsonRoute,
)
Reader = Annotated[Caller, Depends(requires(Scope.READ))]
WatchlistId = Annotated[str, Path(min_length=1, max_length=40, examples=["wl_4mZt0bW7kLm2Xc8R"])]


async def in_uow(api: Api, work: Callable[[UnitOfWork], T], *, read_only: bool = False) -> T:
    """`work` in one unit of work, in a worker thread."""

    def run() -> T:
        with api.db.unit_of_work(read_only=read_only) as uow:
            return work(uow)

    return await run_in_threadpool(run)


@router.get("/v1/watchlists", response_model=WatchlistPage, summary="List your watchlists")
async def list_watchlists(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    caller: Reader,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """Oldest first."""
    found = await in_uow(
        api, lambda uow: uow.watchlists.for_account(caller.account_id), read_only=True
    )
    fp = fingerprint({"path": request.url.path, "as": caller.account_id})

    def key(w: Watchlist) -> list[str]:
        return [w.created_at.isoformat(), w.id]

    chosen, nxt = page(found, key, limit, cursor, fp)
    return json_response(
        WatchlistPage(count=len(chosen), next_cursor=nxt, data=[WatchlistOut.of(w) for w in chosen])
    )


@router.post(
    "/v1/watchlists", status_code=201, response_model=WatchlistOut, summary="Create a watchlist"
)
async def create_watchlist(
    api: Annotated[Api, Depends(get_api)], caller: Reader, body: Annotated[WatchlistCreate, Body()]
) -> Response:
    """Watch projects by slug (they need not exist yet) and/or save board filters; a project
    that starts matching a filter later is announced by a `watchlist.filter_matched` event.
    What is already known when you save it is the baseline: it raises no events."""
    now = api.clock()
    filters = service.parse_filters([f.model_dump(mode="json") for f in body.filters])
    w = await in_uow(
        api, lambda uow: service.create(uow, caller.account_id, body.name, body.slugs, filters, now)
    )
    response = json_response(WatchlistOut.of(w), 201)
    response.headers["location"] = f"/v1/watchlists/{w.id}"
    return response


@router.get("/v1/watchlists/{watchlist_id}", response_model=WatchlistOut, summary="One watchlist")
async def get_watchlist(
    api: Annotated[Api, Depends(get_api)], caller: Reader, watchlist_id: WatchlistId
) -> Response:
    w = await in_uow(
        api, lambda uow: service.get(uow, caller.account_id, watchlist_id), read_only=True
    )
    return json_response(WatchlistOut.of(w))


@router.patch(
    "/v1/watchlists/{watchlist_id}", response_model=WatchlistOut, summary="Change a watchlist"
)
async def patch_watchlist(
    api: Annotated[Api, Depends(get_api)],
    caller: Reader,
    watchlist_id: WatchlistId,
    body: Annotated[WatchlistPatch, Body()],
) -> Response:
    """Rename, replace `slugs`, `add` or `remove` slugs, or replace `filters`."""
    now = api.clock()
    patch = body.model_dump(mode="json", exclude_unset=True)
    w = await in_uow(
        api, lambda uow: service.update(uow, caller.account_id, watchlist_id, patch, now)
    )
    return json_response(WatchlistOut.of(w))


@router.delete("/v1/watchlists/{watchlist_id}", status_code=204, summary="Delete a watchlist")
async def delete_watchlist(
    api: Annotated[Api, Depends(get_api)], caller: Reader, watchlist_id: WatchlistId
) -> Response:
    """Its events stay in your feed."""
    await in_uow(api, lambda uow: service.delete(uow, caller.account_id, watchlist_id))
    return Response(status_code=204, headers={"cache-control": "no-store"})
