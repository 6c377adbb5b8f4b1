"""Curation writes: `POST /v1/projects`, `PATCH /v1/projects/{slug}`,
`POST /v1/projects/{slug}/evidence`.

Writes need an API key with the `write` scope (403 without it, 401 without a usable key).
A POST with an `Idempotency-Key` is stored with its response in the same transaction as the
write: a retry with the same key and body gets the same response (`Idempotent-Replayed:
true`), the same key with another body a 422, and a concurrent duplicate a 409. Stored
responses are per API key (the caller's key id): the same Idempotency-Key sent with another
key, of another account or of the same one, is another request.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from dropscope.api.auth import requires
from dropscope.api.deps import Api, get_api
from dropscope.api.json import StrictJsonRoute, dumps
from dropscope.api.routes.projects import Slug
from dropscope.api.schemas.common import PROBLEM_RESPONSES, Out
from dropscope.api.schemas.projects import EvidenceOut, ProjectDetail, StatusChangeOut, StatusOut
from dropscope.domain.access import Caller, Scope
from dropscope.errors import IdempotencyMismatch, InvalidInput, Unauthorized
from dropscope.ingest.curated_schema import EvidenceIn, ProjectFile
from dropscope.services import curation
from dropscope.services.database import UnitOfWork
from dropscope.services.key_auth import MISSING_KEY
from dropscope.services.research import profile
from dropscope.storage.repositories.idempotency import StoredResponse

router = APIRouter(tags=["curation"], route_class=StrictJsonRoute)

_WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES,
    403: {"description": "The API key lacks the `write` scope"},
    409: {"description": "Duplicate, or an Idempotency-Key in use"},
    422: {"description": "Idempotency-Key reused with a different request"},
}
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_NO_STORE = {"cache-control": "no-store"}

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Any unique string (e.g. a UUID): a retry with the same key and body "
        "returns the first response instead of writing twice",
        max_length=255,
    ),
]


class EvidenceCreated(Out):
    evidence: EvidenceOut
    status: StatusOut = Field(description="The project's status after this evidence")
    status_change: StatusChangeOut | None = Field(
        description="The change recorded, when the status moved"
    )


async def _write(
    request: Request,
    api: Api,
    key: str | None,
    status_code: int,
    work: Callable[[UnitOfWork], tuple[Out, dict[str, str]]],
) -> Response:
    """Run `work` in one unit of work; with an idempotency key, store or replay."""
    if key is not None and not _KEY.match(key):
        raise InvalidInput("Idempotency-Key must be 1–255 visible ASCII characters")
    caller = request.scope.get("state", {}).get("caller")
    if not isinstance(caller, Caller):  # the route's `requires` has already refused it
        raise Unauthorized(MISSING_KEY)
    owner = caller.key_id  # stored responses are per API key
    body = await request.body()
    digest = hashlib.sha256(body).hexdigest()
    method, path = request.method, request.url.path

    def run() -> tuple[int, bytes, dict[str, str], bool]:
        with api.db.unit_of_work() as uow:
            if key is not None:
                stored = uow.idempotency.get(key, method, path, owner=owner)
                if stored is not None:
                    if stored.request_hash != digest:
                        raise IdempotencyMismatch(
                            "this Idempotency-Key was used with a different request"
                        )
                    return stored.status_code, stored.response_body, {}, True
            payload, headers = work(uow)
            encoded = dumps(payload)
            if key is not None:
                uow.idempotency.put(
                    StoredResponse(
                        key,
                        method,
                        path,
                        digest,
                        status_code,
                        encoded,
                        "application/json",
                        api.clock(),
                        owner,
                    )
                )
            return status_code, encoded, headers, False

    code, encoded, headers, replayed = await run_in_threadpool(run)
    if not replayed:
        api.cache.invalidate()
    extra = {**_NO_STORE, **headers}
    if replayed:
        extra["idempotent-replayed"] = "true"
    return Response(encoded, status_code=code, media_type="application/json", headers=extra)


def _detail(api: Api, uow: UnitOfWork, slug: str, at: date) -> ProjectDetail:
    return ProjectDetail.of_profile(profile(uow, slug, at, api.params))


@router.post(
    "/v1/projects",
    status_code=201,
    response_model=ProjectDetail,
    responses=_WRITE_RESPONSES,
    dependencies=[Depends(requires(Scope.WRITE))],
    summary="Add a project",
)
async def create_project(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    doc: Annotated[ProjectFile, Body(description="A project in the data-file shape")],
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Validated like a data file: unknown keys, bad types and unknown references (sources,
    investors, competitors) are refused with the field named."""

    def work(uow: UnitOfWork) -> tuple[Out, dict[str, str]]:
        now = api.clock()
        created = curation.create_project(uow, doc, now)
        return _detail(api, uow, created.slug, now.date()), {
            "location": f"/v1/projects/{created.slug}"
        }

    return await _write(request, api, idempotency_key, 201, work)


@router.patch(
    "/v1/projects/{slug}",
    response_model=ProjectDetail,
    responses=_WRITE_RESPONSES,
    dependencies=[Depends(requires(Scope.WRITE))],
    summary="Change a project (JSON merge patch)",
)
async def patch_project(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    slug: Slug,
    patch: Annotated[
        dict[str, Any],
        Body(
            media_type="application/merge-patch+json",
            description="RFC 7396 merge patch of the data-file shape; null removes a field",
            examples=[{"summary": "A corrected summary.", "website": None}],
        ),
    ],
) -> Response:
    def work(uow: UnitOfWork) -> tuple[Out, dict[str, str]]:
        now = api.clock()
        changed = curation.patch_project(uow, slug, patch, now)
        return _detail(api, uow, changed.slug, now.date()), {}

    return await _write(request, api, None, 200, work)


@router.post(
    "/v1/projects/{slug}/evidence",
    status_code=201,
    response_model=EvidenceCreated,
    responses=_WRITE_RESPONSES,
    dependencies=[Depends(requires(Scope.WRITE))],
    summary="Add evidence to a project",
)
async def add_evidence(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    slug: Slug,
    item: Annotated[EvidenceIn, Body(description="A dated, sourced observation")],
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Re-classifies the project and records the status change, if any."""

    def work(uow: UnitOfWork) -> tuple[Out, dict[str, str]]:
        now = api.clock()
        project, c, change = curation.add_evidence(uow, slug, item, now)
        added = next(e for e in project.evidence if e.id == item.id)
        body = EvidenceCreated(
            evidence=EvidenceOut.of(added),
            status=StatusOut.of(c),
            status_change=StatusChangeOut.of(change) if change else None,
        )
        return body, {"location": f"/v1/projects/{project.slug}/evidence"}

    return await _write(request, api, idempotency_key, 201, work)
