"""The caller's event feed: `GET /v1/events` (cursor-paginated, oldest first, filterable),
`GET /v1/events/{id}` and `GET /v1/events/stream` (server-sent events, resumable with
`Last-Event-ID`). Scope `read`; an account sees only its own events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from dropscope.api.auth import requires
from dropscope.api.deps import Api, get_api
from dropscope.api.json import StrictJsonRoute
from dropscope.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode, encode, fingerprint
from dropscope.api.routes.keys import AUTH_RESPONSES, json_response
from dropscope.api.routes.watchlists import in_uow
from dropscope.api.schemas.alerts import EventOut, EventPage
from dropscope.api.schemas.common import PROBLEM_RESPONSES
from dropscope.domain.access import Caller, Scope
from dropscope.domain.events import Event, EventType
from dropscope.errors import InvalidInput, NotFound

router = APIRouter(
    tags=["events"], responses={**PROBLEM_RESPONSES, **AUTH_RESPONSES}, route_class=StrictJsonRoute
)
Reader = Annotated[Caller, Depends(requires(Scope.READ))]
Types = Annotated[list[EventType], Query(alias="type", description="Only these types")]
Project = Annotated[str | None, Query(max_length=80, description="Only this project's events")]
KEEP_ALIVE_SECONDS = 15.0
MAX_SEQ = 2_147_483_647  # `seq` is 32-bit on PostgreSQL


@router.get("/v1/events", response_model=EventPage, summary="Your event feed")
async def list_events(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    caller: Reader,
    types: Types = [],  # noqa: B006 (FastAPI copies defaults)
    project: Project = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """Oldest first; follow `next_cursor` to the end, and keep the last cursor to read only
    what came after later (a cursor stays valid: it holds the last `seq` read). Live:
    `GET /v1/events/stream` sends the same events as server-sent events (`id:` is the
    `seq`; reconnect with `Last-Event-ID`, or start with `?after=<seq>`), same filters."""
    wanted = [t.value for t in types]
    fp = fingerprint({"path": request.url.path, "types": wanted, "project": project})
    after = None
    if cursor is not None:
        (after,) = _one_int(decode(cursor, fp))
    found = await in_uow(
        api,
        lambda uow: uow.events.list(
            caller.account_id, after=after, types=wanted, project=project, limit=limit
        ),
        read_only=True,
    )
    last = found[-1].seq if found else after
    nxt = encode([last], fp) if last is not None else cursor
    return json_response(
        EventPage(count=len(found), next_cursor=nxt, data=[EventOut.of(e) for e in found])
    )


def _one_int(key: list[object]) -> tuple[int]:
    if len(key) != 1 or not isinstance(key[0], int) or not 0 <= key[0] <= MAX_SEQ:
        raise InvalidInput("cursor is not valid; start again without it")
    return (key[0],)


@router.get(
    "/v1/events/stream",
    # Left out of the OpenAPI document: a response that lasts minutes cannot be described
    # (or fuzzed) as one JSON answer; docs/api.md documents it.
    include_in_schema=False,
    summary="Your events as server-sent events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An SSE stream"}},
)
async def stream_events(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    caller: Reader,
    last_event_id: Annotated[
        str | None, Header(max_length=20, description="Resume after this `seq`")
    ] = None,
    after: Annotated[
        int | None,
        Query(ge=0, le=MAX_SEQ, description="Start after this `seq` (when no Last-Event-ID)"),
    ] = None,
    types: Types = [],  # noqa: B006
    project: Project = None,
) -> StreamingResponse:
    """Each event is sent as `id: <seq>`, `event: <type>`, `data: <the event as JSON>`.
    Without `Last-Event-ID` or `after` the stream starts with the next new event. A response
    lasts at most `events_stream_seconds` (5 minutes by default); clients such as
    `EventSource` reconnect by themselves, sending `Last-Event-ID`, and miss nothing."""
    if last_event_id is not None:
        if not last_event_id.strip().isdigit() or int(last_event_id) > MAX_SEQ:
            raise InvalidInput("Last-Event-ID must be an event's seq (a whole number)")
        start: int | None = int(last_event_id)
    else:
        start = after
    if start is None:
        start = await in_uow(
            api, lambda uow: uow.events.last_seq(caller.account_id), read_only=True
        )
    wanted = [t.value for t in types]
    settings = api.settings

    def newer(seq: int) -> list[Event]:
        with api.db.unit_of_work(read_only=True) as uow:
            return uow.events.list(
                caller.account_id, after=seq, types=wanted, project=project, limit=MAX_LIMIT
            )

    async def events() -> AsyncIterator[bytes]:
        seq: int = start
        yield b"retry: 2000\n\n"
        deadline = time.monotonic() + settings.events_stream_seconds
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            batch = await run_in_threadpool(newer, seq)
            for e in batch:
                body = EventOut.of(e).model_dump_json()
                yield f"id: {e.seq}\nevent: {e.type.value}\ndata: {body}\n\n".encode()
                seq = e.seq or seq
            if batch:
                quiet_since = time.monotonic()
                continue
            if time.monotonic() - quiet_since >= KEEP_ALIVE_SECONDS:
                yield b": keep-alive\n\n"
                quiet_since = time.monotonic()
            if await request.is_disconnected():
                return
            await asyncio.sleep(settings.events_stream_poll_seconds)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


@router.get("/v1/events/{event_id}", response_model=EventOut, summary="One event")
async def get_event(
    api: Annotated[Api, Depends(get_api)],
    caller: Reader,
    event_id: Annotated[str, Path(min_length=1, max_length=40)],
) -> Response:
    found = await in_uow(
        api, lambda uow: uow.events.get(caller.account_id, event_id), read_only=True
    )
    if found is None:
        raise NotFound(f"no event {event_id!r}")
    return json_response(EventOut.of(found))
