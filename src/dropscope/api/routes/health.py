"""`/healthz` (the process is up) and `/readyz` (database reachable, schema current)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from dropscope.api.deps import Api, get_api
from dropscope.api.errors import problem
from dropscope.api.json import StrictJsonRoute, dumps
from dropscope.errors import StorageError

router = APIRouter(tags=["health"], route_class=StrictJsonRoute)

_NO_STORE = {"cache-control": "no-store"}


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Response:
    return Response(dumps({"status": "ok"}), media_type="application/json", headers=_NO_STORE)


@router.get(
    "/readyz",
    response_model=Health,
    summary="Readiness",
    responses={503: {"description": "Database unreachable or schema not current"}},
)
async def readyz(api: Annotated[Api, Depends(get_api)]) -> Response:
    try:
        current = await run_in_threadpool(api.db.schema_is_current)
    except StorageError as exc:
        return problem(503, exc.message, kind="storage-unavailable", headers=_NO_STORE)
    if not current:
        return problem(
            503, "database schema is not current", kind="storage-unavailable", headers=_NO_STORE
        )
    return Response(dumps({"status": "ready"}), media_type="application/json", headers=_NO_STORE)
