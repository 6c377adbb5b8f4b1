"""Accounts, usage and audit: `POST /v1/accounts` (self-service sign-up, only when
`DROPSCOPE_SIGNUP=open`), `GET /v1/usage` (any valid key), `GET /v1/audit` (admin).

All per account: never through the shared response cache, `Cache-Control: no-store`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from dropscope.api.auth import client_ip, requires
from dropscope.api.deps import Api, get_api
from dropscope.api.json import StrictJsonRoute
from dropscope.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode, encode, fingerprint
from dropscope.api.routes.keys import AUTH_RESPONSES, Admin, as_actor, json_response
from dropscope.api.schemas.common import PROBLEM_RESPONSES
from dropscope.api.schemas.keys import (
    AccountOut,
    DayCount,
    EventOut,
    EventPage,
    KeyOut,
    KeyUsageOut,
    QuotaOut,
    SignupIn,
    SignupOut,
    UsageOut,
)
from dropscope.domain.access import Caller, Plan, Scope
from dropscope.domain.keys import plan_named
from dropscope.errors import InvalidInput
from dropscope.services import accounts as accounts_service

signup_router = APIRouter(
    tags=["accounts"], responses=PROBLEM_RESPONSES, route_class=StrictJsonRoute
)
router = APIRouter(
    tags=["accounts"],
    responses={**PROBLEM_RESPONSES, **AUTH_RESPONSES},
    route_class=StrictJsonRoute,
)
AnyKey = Annotated[Caller, Depends(requires())]


@signup_router.post(
    "/v1/accounts",
    status_code=201,
    response_model=SignupOut,
    responses={429: {"description": "Too many sign-ups from your network, or in total"}},
    summary="Sign up: an account and a free API key",
)
async def sign_up(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    body: Annotated[SignupIn, Body()],
) -> Response:
    """No key needed: answers with a new account and its free-plan `read` key (shown
    once). Limited per client network and in total per hour."""
    limits = accounts_service.SignupLimits(
        per_network=api.settings.signup_per_ip_per_hour, per_hour=api.settings.signup_per_hour
    )
    ip, now = client_ip(request.scope), api.clock()
    account, created = await run_in_threadpool(
        accounts_service.signup, api.keys, body.name, ip, now, limits
    )
    out = SignupOut(
        account=AccountOut.of(account), key=KeyOut.of(created.key, now), secret=created.secret
    )
    return json_response(out, 201)


@router.get("/v1/usage", response_model=UsageOut, summary="Your usage and remaining quota")
async def get_usage(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    caller: AnyKey,
    days: Annotated[int, Query(ge=1, le=90, description="Days back, today included")] = 30,
) -> Response:
    """Requests per key per UTC day, and the quota left now. A key sees its own use; a key
    with the `admin` scope sees every key of its account."""
    await api.verifier.usage.flush()  # this worker's pending counts, so the answer is exact
    actor = await as_actor(api, request, caller)
    now = api.clock()
    since = now.date() - timedelta(days=days - 1)
    only = None if caller.can(Scope.ADMIN) else caller.key_id
    rows = await run_in_threadpool(
        lambda: accounts_service.usage(api.keys, actor, since, key_id=only)
    )
    limiter = getattr(request.app.state, "limiter", None)
    out: list[KeyUsageOut] = []
    for u in rows:
        plan = plan_named(api.settings.plans, u.key.plan) or api.settings.plans[0]
        out.append(
            KeyUsageOut(
                key_id=u.key.id,
                name=u.key.name,
                display=u.key.display,
                plan=u.key.plan,
                status=u.key.status_at(now),
                total=u.total,
                days=[DayCount(day=d, count=n) for d, n in u.days],
                quota=await _quota(limiter, u.key.id, plan, request),
            )
        )
    body = UsageOut(account_id=caller.account_id, since=since, until=now.date(), keys=out)
    return json_response(body)


async def _quota(limiter: Any, key_id: str, plan: Plan, request: Request) -> list[QuotaOut] | None:
    """The rate limiter's view now (`Limiter.peek`), when one is installed."""
    if limiter is None:
        return None
    api: Api = request.app.state.dropscope
    decision = await limiter.peek(key_id, plan, api.clock())
    return [
        QuotaOut(
            policy=s.name,
            quota=s.quota,
            window_seconds=s.window,
            used=s.used,
            remaining=s.remaining,
            resets_in=s.reset,
        )
        for s in decision.states
    ]


@router.get("/v1/audit", response_model=EventPage, summary="Audit log of keys")
async def get_audit(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    caller: Admin,
    account: Annotated[
        str | None, Query(max_length=40, description="Operator only: one account's events")
    ] = None,
    key: Annotated[str | None, Query(max_length=40, description="One key's events")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """Key events, newest first: created, rolled, disabled, enabled, revoked, expired,
    auth_failed (grouped per reason, key and address), anomaly, account_created."""
    actor = await as_actor(api, request, caller)
    await api.verifier.usage.flush()
    fp = fingerprint({"path": request.url.path, "account": account, "key": key})
    before = _before(cursor, fp)
    events = await run_in_threadpool(
        lambda: accounts_service.audit(
            api.keys, actor, limit=limit + 1, before_id=before, account_id=account, key_id=key
        )
    )
    chosen = events[:limit]
    nxt = encode([chosen[-1].id], fp) if len(events) > limit and chosen else None
    body = EventPage(count=len(chosen), next_cursor=nxt, data=[EventOut.of(e) for e in chosen])
    return json_response(body)


def _before(cursor: str | None, fp: str) -> int | None:
    if cursor is None:
        return None
    key = decode(cursor, fp)
    if len(key) != 1 or not isinstance(key[0], int):
        raise InvalidInput("cursor is not valid; start again without it")
    return key[0]
