"""Shapes of watchlists, events and webhooks (issue 8). A webhook's signing secret appears
only in `WebhookCreated` and `WebhookRotated`, the answers to the requests that make one.

Numbers and booleans in request bodies are strict (`StrictInt`, `StrictFloat`,
`StrictBool`): pydantic would otherwise read `false` as 0, `true` as 1.0 and `"yes"` or 1 as
true."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt

from dropscope.api.schemas.common import Out
from dropscope.domain.events import Event, EventType
from dropscope.domain.status import AirdropStatus
from dropscope.domain.watchlists import SavedFilter, Watchlist
from dropscope.domain.webhooks import Attempt, Delivery, Endpoint

_SECRET = "The signing secret (`whsec_…`). Shown this once: store it where your receiver reads it"


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FilterDoc(In):
    """Board filters; every one given must hold."""

    statuses: list[AirdropStatus] = Field(default=[], max_length=7, examples=[["likely"]])
    narrative: str | None = Field(default=None, max_length=100, examples=["zk-rollups"])
    chain: str | None = Field(default=None, max_length=100)
    sector: str | None = Field(default=None, max_length=100)
    investor: str | None = Field(default=None, max_length=100)
    min_tech: StrictFloat | None = Field(default=None, ge=0, le=100, examples=[88])
    min_fundamentals: StrictFloat | None = Field(default=None, ge=0, le=100)
    text: str | None = Field(default=None, max_length=100)

    @classmethod
    def of(cls, f: SavedFilter) -> FilterDoc:
        return cls.model_validate(f.to_json())


class WatchlistCreate(In):
    name: str = Field(min_length=1, max_length=100, examples=["zk season"])
    slugs: list[str] = Field(default=[], max_length=500, examples=[["scroll", "taiko"]])
    filters: list[FilterDoc] = Field(default=[], max_length=20)


class WatchlistPatch(In):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    slugs: list[str] | None = Field(default=None, max_length=500, description="Replace all")
    add: list[str] = Field(default=[], max_length=500, description="Watch these slugs too")
    remove: list[str] = Field(default=[], max_length=500, description="Stop watching these")
    filters: list[FilterDoc] | None = Field(default=None, max_length=20, description="Replace")


class WatchlistOut(Out):
    id: str = Field(examples=["wl_4mZt0bW7kLm2Xc8R"])
    name: str
    slugs: list[str]
    filters: list[FilterDoc]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, w: Watchlist) -> WatchlistOut:
        return cls(
            id=w.id,
            name=w.name,
            slugs=list(w.slugs),
            filters=[FilterDoc.of(f) for f in w.filters],
            created_at=w.created_at,
            updated_at=w.updated_at,
        )


class WatchlistPage(Out):
    count: int
    next_cursor: str | None
    data: list[WatchlistOut]


class EventOut(Out):
    seq: int = Field(description="Place in your feed: the SSE id and what cursors follow")
    id: str = Field(description="Stable id; also the webhook-id of its deliveries")
    type: EventType
    project: str
    occurred_at: datetime = Field(description="When dropscope noticed it")
    data: dict[str, Any] = Field(description="The webhook payload's `data`")

    @classmethod
    def of(cls, e: Event) -> EventOut:
        assert e.seq is not None
        return cls(
            seq=e.seq,
            id=e.id,
            type=e.type,
            project=e.project_slug,
            occurred_at=e.occurred_at,
            data=e.payload()["data"],
        )


class EventPage(Out):
    count: int
    next_cursor: str | None
    data: list[EventOut]


class WebhookCreate(In):
    url: str = Field(max_length=2000, examples=["https://example.com/dropscope-hook"])
    description: str = Field(default="", max_length=200)
    event_types: list[EventType] = Field(default=[], description="Empty: every type")


class WebhookPatch(In):
    url: str | None = Field(default=None, max_length=2000)
    description: str | None = Field(default=None, max_length=200)
    event_types: list[EventType] | None = None
    enabled: StrictBool | None = Field(default=None, description="true resumes a disabled endpoint")


class WebhookRotate(In):
    overlap_seconds: StrictInt | None = Field(
        default=None,
        ge=0,
        le=7 * 86_400,
        description="How long the old secret still signs (a second signature); default: "
        "the server's setting (24 h)",
    )


class WebhookOut(Out):
    id: str = Field(examples=["wh_4mZt0bW7kLm2Xc8R"])
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None = Field(examples=["the endpoint answered 410 Gone"])
    rotation_ends_at: datetime | None = Field(
        description="Until then the previous secret signs too"
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, e: Endpoint, now: datetime) -> WebhookOut:
        overlap = e.previous_until if e.previous_until and e.previous_until > now else None
        return cls(
            id=e.id,
            url=e.url,
            description=e.description,
            event_types=list(e.event_types),
            enabled=e.enabled,
            disabled_reason=e.disabled_reason,
            rotation_ends_at=overlap,
            created_at=e.created_at,
            updated_at=e.updated_at,
        )


class WebhookCreated(Out):
    webhook: WebhookOut
    secret: str = Field(description=_SECRET)


class WebhookPage(Out):
    count: int
    next_cursor: str | None
    data: list[WebhookOut]


class AttemptOut(Out):
    attempt: int
    at: datetime
    status_code: int | None = Field(description="None when nothing answered")
    latency_ms: float
    error: str | None

    @classmethod
    def of(cls, a: Attempt) -> AttemptOut:
        return cls(
            attempt=a.attempt,
            at=a.at,
            status_code=a.status_code,
            latency_ms=round(a.latency_ms, 3),
            error=a.error,
        )


class DeliveryOut(Out):
    id: int
    webhook_id: str
    message_id: str = Field(description="The webhook-id header")
    event_type: str
    state: str = Field(description="pending, delivered or failed")
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    attempt_log: list[AttemptOut] | None = Field(default=None, description="On one delivery")

    @classmethod
    def of(cls, d: Delivery, attempts: list[Attempt] | None = None) -> DeliveryOut:
        return cls(
            id=d.id,
            webhook_id=d.endpoint_id,
            message_id=d.message_id,
            event_type=d.event_type,
            state=d.state.value,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at if d.state.value == "pending" else None,
            last_attempt_at=d.last_attempt_at,
            delivered_at=d.delivered_at,
            last_status=d.last_status,
            last_error=d.last_error,
            created_at=d.created_at,
            attempt_log=None if attempts is None else [AttemptOut.of(a) for a in attempts],
        )


class DeliveryPage(Out):
    count: int
    next_cursor: str | None
    data: list[DeliveryOut]
