"""Shapes of API keys, accounts, usage and audit events. A key's secret appears in exactly
two shapes, `KeyCreated` and `KeyRolled` (and `SignupOut`), the answers to the requests
that create one; nothing else ever carries it.

Request bodies are strict where pydantic is lax: a number of seconds is a JSON integer
(`false` is not 0), and a time is an RFC 3339 string (a number is not a Unix time)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from dropscope.api.schemas.common import Out
from dropscope.domain.access import Scope
from dropscope.domain.keys import Account, ApiKey, KeyEvent, KeyStatus

_SECRET = "The API key. Shown this once and never again: store it now (e.g. in a secret store)"


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _rfc3339_text(value: object) -> object:
    if not isinstance(value, str | datetime):
        raise ValueError("expected a time as text, e.g. 2027-06-30T00:00:00Z")
    return value


Time = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]


class KeyOut(Out):
    id: str = Field(examples=["key_4mZt0bW7kLm2Xc8R"])
    account_id: str
    name: str
    display: str = Field(
        description="`dsk_` and the first four characters: enough to recognise, never to use",
        examples=["dsk_4Fq9"],
    )
    scopes: list[Scope]
    plan: str = Field(examples=["free"])
    state: str = Field(description="Stored state: active, disabled or revoked")
    status: KeyStatus = Field(description="State now: active, disabled, revoked or expired")
    created_at: datetime
    last_used_at: datetime | None = Field(description="Updated in batches (about 10 s)")
    expires_at: datetime | None
    valid_until: datetime | None = Field(
        description="When it stops working: the earlier of its expiry and a roll's grace end"
    )
    ip_allowlist: list[str] = Field(description="CIDR blocks; empty: any address")
    rolled_from: str | None
    rolled_to: str | None
    grace_until: datetime | None

    @classmethod
    def of(cls, key: ApiKey, now: datetime) -> KeyOut:
        return cls(
            id=key.id,
            account_id=key.account_id,
            name=key.name,
            display=key.display,
            scopes=sorted(key.scopes),
            plan=key.plan,
            state=key.state.value,
            status=key.status_at(now),
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            expires_at=key.expires_at,
            valid_until=key.valid_until,
            ip_allowlist=list(key.ip_allowlist),
            rolled_from=key.rolled_from,
            rolled_to=key.rolled_to,
            grace_until=key.grace_until,
        )


class KeyCreate(In):
    name: str = Field(min_length=1, max_length=80, examples=["research bot"])
    scopes: list[Scope] = Field(default=[Scope.READ], min_length=1, max_length=3)
    plan: str | None = Field(
        default=None,
        max_length=40,
        description="Default: the creating key's plan (the first plan for the operator)",
    )
    expires_at: Time | None = None
    ip_allowlist: list[str] = Field(
        default=[], max_length=50, examples=[["203.0.113.0/24", "2001:db8::/48"]]
    )
    account_id: str | None = Field(
        default=None, max_length=40, description="Operator only: create it for this account"
    )


class KeyRoll(In):
    grace_seconds: StrictInt = Field(
        default=86_400,
        ge=0,
        le=90 * 86_400,
        description="How long the old key keeps working (never past its own expiry)",
    )
    expires_at: Time | None = Field(
        default=None, description="The new key's expiry; absent: the old key's; null: none"
    )


class KeyCreated(Out):
    key: KeyOut
    secret: str = Field(description=_SECRET)


class KeyRolled(Out):
    key: KeyOut = Field(description="The new key")
    secret: str = Field(description=_SECRET)
    previous: KeyOut = Field(description="The old key, working until its `grace_until`")


class KeyPage(Out):
    count: int
    next_cursor: str | None
    data: list[KeyOut]


class SignupIn(In):
    name: str = Field(min_length=1, max_length=80, examples=["my research team"])


class AccountOut(Out):
    id: str
    name: str
    created_at: datetime

    @classmethod
    def of(cls, account: Account) -> AccountOut:
        return cls(id=account.id, name=account.name, created_at=account.created_at)


class SignupOut(Out):
    account: AccountOut
    key: KeyOut
    secret: str = Field(description=_SECRET)


class DayCount(Out):
    day: date
    count: int


class QuotaOut(Out):
    policy: str = Field(examples=["month"])
    quota: int
    window_seconds: int
    used: int
    remaining: int
    resets_in: int = Field(description="Seconds until the window frees up")


class KeyUsageOut(Out):
    key_id: str
    name: str
    display: str
    plan: str
    status: KeyStatus
    total: int = Field(description="Requests over the days shown")
    days: list[DayCount] = Field(description="Days with requests (UTC), oldest first")
    quota: list[QuotaOut] | None = Field(
        description="Remaining per-minute and monthly quota now, from the rate limiter"
    )


class UsageOut(Out):
    account_id: str
    since: date
    until: date
    keys: list[KeyUsageOut]


class EventOut(Out):
    id: int
    kind: str = Field(examples=["revoked"])
    at: datetime
    account_id: str | None
    key_id: str | None
    ip: str | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, e: KeyEvent) -> EventOut:
        assert e.id is not None
        return cls(
            id=e.id,
            kind=e.kind.value,
            at=e.at,
            account_id=e.account_id,
            key_id=e.key_id,
            ip=e.ip,
            detail=dict(e.detail),
        )


class EventPage(Out):
    count: int
    next_cursor: str | None
    data: list[EventOut]
