"""Webhook endpoints of the caller's account: `GET/POST /v1/webhooks`,
`GET/PATCH/DELETE /v1/webhooks/{id}`, `POST /v1/webhooks/{id}/rotate|ping`,
`GET /v1/webhooks/{id}/deliveries[/{delivery}]`, `POST .../deliveries/{delivery}/replay`.
Scope `read`; another account's endpoint or delivery answers 404."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from starlette.responses import Response

from dropscope.api.auth import requires
from dropscope.api.deps import Api, get_api
from dropscope.api.json import StrictJsonRoute
from dropscope.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode, encode, fingerprint, page
from dropscope.api.routes.keys import AUTH_RESPONSES, json_response
from dropscope.api.routes.watchlists import in_uow
from dropscope.api.schemas.alerts import (
    DeliveryOut,
    DeliveryPage,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookPage,
    WebhookPatch,
    WebhookRotate,
)
from dropscope.api.schemas.common import PROBLEM_RESPONSES
from dropscope.domain.access import Caller, Scope
from dropscope.domain.webhooks import Attempt, Delivery, Endpoint
from dropscope.errors import InvalidInput, NotFound
from dropscope.services import webhooks as service
from dropscope.services.database import UnitOfWork

router = APIRouter(
    tags=["webhooks"],
    responses={**PROBLEM_RESPONSES, **AUTH_RESPONSES},
    route_class=StrictJsonRoute,
)
Reader = Annotated[Caller, Depends(requires(Scope.READ))]
WebhookId = Annotated[str, Path(min_length=1, max_length=40, examples=["wh_4mZt0bW7kLm2Xc8R"])]
MAX_ID = 2_147_483_647  # the id columns are 32-bit on PostgreSQL
DeliveryId = Annotated[int, Path(ge=1, le=MAX_ID)]
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "Too many endpoints, or the endpoint is disabled (ping)"}
}


async def _operator(api: Api, caller: Caller) -> bool:
    account = await in_uow(api, lambda uow: uow.accounts.get(caller.account_id), read_only=True)
    return account is not None and account.operator


@router.get("/v1/webhooks", response_model=WebhookPage, summary="List your webhooks")
async def list_webhooks(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    caller: Reader,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """Oldest first; never the secrets."""
    found = await in_uow(api, lambda uow: uow.webhooks.endpoints(caller.account_id), read_only=True)
    fp = fingerprint({"path": request.url.path, "as": caller.account_id})

    def key(e: Endpoint) -> list[str]:
        return [e.created_at.isoformat(), e.id]

    chosen, nxt = page(found, key, limit, cursor, fp)
    now = api.clock()
    return json_response(
        WebhookPage(
            count=len(chosen), next_cursor=nxt, data=[WebhookOut.of(e, now) for e in chosen]
        )
    )


@router.post(
    "/v1/webhooks",
    status_code=201,
    response_model=WebhookCreated,
    responses=_CONFLICT,
    summary="Add a webhook",
)
async def create_webhook(
    api: Annotated[Api, Depends(get_api)], caller: Reader, body: Annotated[WebhookCreate, Body()]
) -> Response:
    """`url` must be https (http only if the server allows it) and reach a public address
    (no loopback, private, link-local, metadata or other special ranges). The answer holds
    the signing secret, once."""
    now = api.clock()
    operator = await _operator(api, caller)
    made = await in_uow(
        api,
        lambda uow: service.create(
            uow,
            api.settings,
            caller.account_id,
            body.url,
            now,
            description=body.description,
            event_types=[t.value for t in body.event_types],
            operator=operator,
        ),
    )
    out = WebhookCreated(webhook=WebhookOut.of(made.endpoint, now), secret=made.secret)
    response = json_response(out, 201)
    response.headers["location"] = f"/v1/webhooks/{made.endpoint.id}"
    return response


@router.get("/v1/webhooks/{webhook_id}", response_model=WebhookOut, summary="One webhook")
async def get_webhook(
    api: Annotated[Api, Depends(get_api)], caller: Reader, webhook_id: WebhookId
) -> Response:
    e = await in_uow(
        api, lambda uow: service.get(uow, caller.account_id, webhook_id), read_only=True
    )
    return json_response(WebhookOut.of(e, api.clock()))


@router.patch("/v1/webhooks/{webhook_id}", response_model=WebhookOut, summary="Change a webhook")
async def patch_webhook(
    api: Annotated[Api, Depends(get_api)],
    caller: Reader,
    webhook_id: WebhookId,
    body: Annotated[WebhookPatch, Body()],
) -> Response:
    """Change `url`, `description`, `event_types`, or `enabled` (true resumes an endpoint
    that was disabled, e.g. after it answered 410; its pending messages then go out)."""
    now = api.clock()
    patch = body.model_dump(mode="json", exclude_unset=True)
    e = await in_uow(
        api,
        lambda uow: service.update(uow, api.settings, caller.account_id, webhook_id, patch, now),
    )
    return json_response(WebhookOut.of(e, now))


@router.delete("/v1/webhooks/{webhook_id}", status_code=204, summary="Delete a webhook")
async def delete_webhook(
    api: Annotated[Api, Depends(get_api)], caller: Reader, webhook_id: WebhookId
) -> Response:
    """With its outbox and delivery log."""
    await in_uow(api, lambda uow: service.delete(uow, caller.account_id, webhook_id))
    return Response(status_code=204, headers={"cache-control": "no-store"})


@router.post(
    "/v1/webhooks/{webhook_id}/rotate", response_model=WebhookCreated, summary="Rotate the secret"
)
async def rotate_webhook(
    api: Annotated[Api, Depends(get_api)],
    caller: Reader,
    webhook_id: WebhookId,
    body: Annotated[WebhookRotate | None, Body()] = None,
) -> Response:
    """A new secret, shown once. During the overlap every message carries two signatures
    (new and old), so a receiver can switch secrets without missing one."""
    now = api.clock()
    seconds = body.overlap_seconds if body and body.overlap_seconds is not None else None
    overlap = timedelta(
        seconds=api.settings.webhook_rotation_overlap_seconds if seconds is None else seconds
    )
    made = await in_uow(
        api, lambda uow: service.rotate(uow, caller.account_id, webhook_id, overlap, now)
    )
    return json_response(
        WebhookCreated(webhook=WebhookOut.of(made.endpoint, now), secret=made.secret)
    )


@router.post(
    "/v1/webhooks/{webhook_id}/ping",
    status_code=202,
    response_model=DeliveryOut,
    responses=_CONFLICT,
    summary="Send a test ping",
)
async def ping_webhook(
    api: Annotated[Api, Depends(get_api)], caller: Reader, webhook_id: WebhookId
) -> Response:
    """Queues a signed `webhook.ping` message; the dispatcher delivers it within a second or
    so. Follow `Location` to see the attempt, its status and latency."""
    now = api.clock()
    d = await in_uow(api, lambda uow: service.ping(uow, caller.account_id, webhook_id, now))
    response = json_response(DeliveryOut.of(d), 202)
    response.headers["location"] = f"/v1/webhooks/{webhook_id}/deliveries/{d.id}"
    return response


@router.get(
    "/v1/webhooks/{webhook_id}/deliveries", response_model=DeliveryPage, summary="Delivery log"
)
async def list_deliveries(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    caller: Reader,
    webhook_id: WebhookId,
    state: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """Newest first: each message's state, attempts, last status and error."""
    fp = fingerprint({"path": request.url.path, "state": state})
    before = None
    if cursor is not None:
        key = decode(cursor, fp)
        if len(key) != 1 or not isinstance(key[0], int) or not 0 <= key[0] <= MAX_ID:
            raise InvalidInput("cursor is not valid; start again without it")
        before = key[0]
    found = await in_uow(
        api,
        lambda uow: service.deliveries(
            uow, caller.account_id, webhook_id, state=state, before=before, limit=limit + 1
        ),
        read_only=True,
    )
    chosen = found[:limit]
    nxt = encode([chosen[-1].id], fp) if len(found) > limit else None
    return json_response(
        DeliveryPage(count=len(chosen), next_cursor=nxt, data=[DeliveryOut.of(d) for d in chosen])
    )


@router.get(
    "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}",
    response_model=DeliveryOut,
    summary="One delivery, with its attempts",
)
async def get_delivery(
    api: Annotated[Api, Depends(get_api)],
    caller: Reader,
    webhook_id: WebhookId,
    delivery_id: DeliveryId,
) -> Response:
    d, attempts = await in_uow(
        api, lambda uow: _delivery(uow, caller.account_id, webhook_id, delivery_id), read_only=True
    )
    return json_response(DeliveryOut.of(d, attempts))


def _delivery(
    uow: UnitOfWork, account_id: str, webhook_id: str, delivery_id: int
) -> tuple[Delivery, list[Attempt]]:
    d, attempts = service.delivery(uow, account_id, delivery_id)
    if d.endpoint_id != webhook_id:
        raise NotFound(f"no delivery {delivery_id}")
    return d, attempts


@router.post(
    "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
    status_code=202,
    response_model=DeliveryOut,
    summary="Deliver a message again",
)
async def replay_delivery(
    api: Annotated[Api, Depends(get_api)],
    caller: Reader,
    webhook_id: WebhookId,
    delivery_id: DeliveryId,
) -> Response:
    """Queued again now, with the same `webhook-id` and body (a receiver that de-duplicates
    will recognise it); works for delivered and failed messages alike."""
    now = api.clock()

    def work(uow: UnitOfWork) -> Delivery:
        _delivery(uow, caller.account_id, webhook_id, delivery_id)
        return service.replay(uow, caller.account_id, delivery_id, now)

    d = await in_uow(api, work)
    return json_response(DeliveryOut.of(d), 202)
