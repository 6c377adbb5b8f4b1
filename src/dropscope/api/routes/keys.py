"""API-key management (scope `admin`): `POST/GET /v1/keys`, `GET/DELETE /v1/keys/{id}`,
`POST /v1/keys/{id}/roll|disable|enable`.

An admin key of the operator's account manages every account's keys; any other account's
admin key only its own (another account's key answers 404). Answers are per account, so they
never go through the shared response cache and say `Cache-Control: no-store`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from dropscope.api.auth import client_ip, requires
from dropscope.api.deps import Api, get_api
from dropscope.api.json import StrictJsonRoute, dumps
from dropscope.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, fingerprint, page
from dropscope.api.schemas.common import PROBLEM_RESPONSES
from dropscope.api.schemas.keys import KeyCreate, KeyCreated, KeyOut, KeyPage, KeyRoll, KeyRolled
from dropscope.domain.access import Caller, Scope
from dropscope.domain.keys import ApiKey
from dropscope.services.keys import Actor, KeySpec

T = TypeVar("T")
NO_STORE = {"cache-control": "no-store"}
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No API key, or one that is not valid"},
    403: {"description": "The key lacks the scope, or is used from an address not allowed"},
    429: {"description": "A rate limit or quota is used up, or too many unknown keys were sent"},
}
for _code in AUTH_RESPONSES:
    AUTH_RESPONSES[_code]["content"] = {"application/problem+json": {}}

router = APIRouter(
    tags=["keys"], responses={**PROBLEM_RESPONSES, **AUTH_RESPONSES}, route_class=StrictJsonRoute
)
Admin = Annotated[Caller, Depends(requires(Scope.ADMIN))]
KeyId = Annotated[str, Path(min_length=1, max_length=40, examples=["key_4mZt0bW7kLm2Xc8R"])]
_CHANGE: dict[int | str, dict[str, Any]] = {
    409: {"description": "Not possible in the key's state (e.g. revoked)"}
}


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(
        dumps(payload), status_code=status, media_type="application/json", headers=NO_STORE
    )


async def as_actor(api: Api, request: Request, caller: Caller) -> Actor:
    return await run_in_threadpool(api.keys.actor, caller, client_ip(request.scope))


async def _call(work: Callable[[], T]) -> T:
    return await run_in_threadpool(work)


def _key_sort(k: ApiKey) -> list[str]:
    return [k.created_at.isoformat(), k.id]


@router.post(
    "/v1/keys",
    status_code=201,
    response_model=KeyCreated,
    responses={409: {"description": "The account holds the most usable keys allowed"}},
    summary="Create a key",
)
async def create_key(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    caller: Admin,
    body: Annotated[KeyCreate, Body()],
) -> Response:
    """The answer holds the key itself, once: it is stored only as a peppered hash. A key
    cannot grant a scope or a plan that the creating key does not have (operator aside)."""
    actor = await as_actor(api, request, caller)
    spec = KeySpec(
        name=body.name,
        scopes=frozenset(body.scopes),
        plan=body.plan,
        expires_at=body.expires_at,
        ip_allowlist=tuple(body.ip_allowlist),
        account_id=body.account_id,
    )
    now = api.clock()
    created = await _call(lambda: api.keys.create(actor, spec, now))
    out = KeyCreated(key=KeyOut.of(created.key, now), secret=created.secret)
    response = json_response(out, 201)
    response.headers["location"] = f"/v1/keys/{created.key.id}"
    return response


@router.get("/v1/keys", response_model=KeyPage, summary="List keys")
async def list_keys(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    caller: Admin,
    account: Annotated[
        str | None, Query(max_length=40, description="Operator only: one account's keys")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """Your account's keys, oldest first (the operator: every account's, or `account`'s).
    Never the keys themselves: only their display form."""
    actor = await as_actor(api, request, caller)
    keys = await _call(lambda: api.keys.list(actor, account))
    fp = fingerprint({"path": request.url.path, "account": account, "as": caller.account_id})
    chosen, nxt = page(keys, _key_sort, limit, cursor, fp)
    now = api.clock()
    body = KeyPage(count=len(chosen), next_cursor=nxt, data=[KeyOut.of(k, now) for k in chosen])
    return json_response(body)


@router.get("/v1/keys/{key_id}", response_model=KeyOut, summary="One key")
async def get_key(
    request: Request, api: Annotated[Api, Depends(get_api)], caller: Admin, key_id: KeyId
) -> Response:
    actor = await as_actor(api, request, caller)
    key = await _call(lambda: api.keys.get(actor, key_id))
    return json_response(KeyOut.of(key, api.clock()))


@router.delete(
    "/v1/keys/{key_id}", response_model=KeyOut, responses=_CHANGE, summary="Revoke a key"
)
async def revoke_key(
    request: Request, api: Annotated[Api, Depends(get_api)], caller: Admin, key_id: KeyId
) -> Response:
    """Permanent, and effective on the next request in every worker."""
    actor = await as_actor(api, request, caller)
    now = api.clock()
    key = await _call(lambda: api.keys.revoke(actor, key_id, now))
    return json_response(KeyOut.of(key, now))


@router.post(
    "/v1/keys/{key_id}/disable", response_model=KeyOut, responses=_CHANGE, summary="Disable"
)
async def disable_key(
    request: Request, api: Annotated[Api, Depends(get_api)], caller: Admin, key_id: KeyId
) -> Response:
    """Reversible with `enable`; effective on the next request."""
    actor = await as_actor(api, request, caller)
    now = api.clock()
    key = await _call(lambda: api.keys.disable(actor, key_id, now))
    return json_response(KeyOut.of(key, now))


@router.post("/v1/keys/{key_id}/enable", response_model=KeyOut, responses=_CHANGE, summary="Enable")
async def enable_key(
    request: Request, api: Annotated[Api, Depends(get_api)], caller: Admin, key_id: KeyId
) -> Response:
    actor = await as_actor(api, request, caller)
    now = api.clock()
    key = await _call(lambda: api.keys.enable(actor, key_id, now))
    return json_response(KeyOut.of(key, now))


@router.post(
    "/v1/keys/{key_id}/roll",
    status_code=201,
    response_model=KeyRolled,
    responses=_CHANGE,
    summary="Roll a key",
)
async def roll_key(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    caller: Admin,
    key_id: KeyId,
    body: Annotated[KeyRoll | None, Body()] = None,
) -> Response:
    """A new key with the same name, scopes, plan and allowlist. The old one keeps working
    for `grace_seconds` (default a day; 0 stops it now), never past its own expiry."""
    roll = body or KeyRoll()
    actor = await as_actor(api, request, caller)
    now = api.clock()
    expiry: Any = roll.expires_at if "expires_at" in roll.model_fields_set else ...
    grace = timedelta(seconds=roll.grace_seconds)
    created, old = await _call(lambda: api.keys.roll(actor, key_id, now, grace, expiry))
    out = KeyRolled(
        key=KeyOut.of(created.key, now), secret=created.secret, previous=KeyOut.of(old, now)
    )
    response = json_response(out, 201)
    response.headers["location"] = f"/v1/keys/{created.key.id}"
    return response
