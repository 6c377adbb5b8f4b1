"""Standard Webhooks: secrets, signing and verification, and the retry schedule.

A secret is `whsec_` + base64 of 24–64 random bytes. A message is signed as
HMAC-SHA256(secret bytes, `{webhook-id}.{webhook-timestamp}.{body}`) over the exact body
bytes, sent as `webhook-signature: v1,<base64>`; several signatures, space-separated, are sent
while a rotated secret is still valid, and a receiver accepts the message when any matches.
Receivers reject timestamps more than `TOLERANCE` away from their clock.

Retries back off exponentially with jitter over about three days (`retry_delay`), and wait
at least what `Retry-After` asked (`parse_retry_after`). Pure except `new_secret`, which
draws random bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum

from dropscope.errors import InvalidInput, Unauthorized

SECRET_PREFIX = "whsec_"
TOLERANCE = timedelta(minutes=5)
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_bytes(secret: str) -> bytes:
    """The key bytes of a `whsec_` secret; `InvalidInput` for anything else."""
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidInput("a webhook secret starts with 'whsec_'")
    try:
        raw = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("a webhook secret is 'whsec_' followed by base64") from None
    if not 24 <= len(raw) <= 64:
        raise InvalidInput("a webhook secret holds 24 to 64 bytes")
    return raw


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256>` of `{msg_id}.{timestamp}.{body}`."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign_headers(
    secrets_: tuple[str, ...], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three headers for a message, signed with every secret given (newest first)."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, msg_id, timestamp, body) for s in secrets_),
    }


def verify(
    secret: str,
    headers: dict[str, str],
    body: bytes,
    now: datetime,
    tolerance: timedelta = TOLERANCE,
) -> str:
    """Check a received message; its `webhook-id` when valid, else `Unauthorized` saying
    why. Header names are matched case-insensitively."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id, ts, sigs = (
        lower.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature")
    )
    if not msg_id or not ts or not sigs:
        raise Unauthorized("missing webhook-id, webhook-timestamp or webhook-signature header")
    try:
        timestamp = int(ts)
    except ValueError:
        raise Unauthorized("webhook-timestamp is not a whole number of seconds") from None
    if abs(now.timestamp() - timestamp) > tolerance.total_seconds():
        raise Unauthorized("webhook-timestamp is too far from now (replayed or clock skew)")
    expected = signature(secret, msg_id, timestamp, body).encode()
    for candidate in sigs.split():
        if candidate.startswith("v1,") and hmac.compare_digest(candidate.encode(), expected):
            return msg_id
    raise Unauthorized("no webhook-signature matches the secret")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff: attempt n (1-based) failed → wait `base * factor**(n-1)`, capped
    at `cap`, ±`jitter` (a fraction); give up once `give_up_after` has passed since the
    message was created. Defaults: 5 s, 20 s, 80 s, 5 min, 21 min, 85 min, 5.7 h, then 12 h
    steps: about 3 days in 12 attempts."""

    base: float = 5.0
    factor: float = 4.0
    cap: float = 12 * 3600.0
    jitter: float = 0.2
    give_up_after: float = 3 * 86400.0
    retry_after_cap: float = 86400.0


def retry_delay(
    policy: RetryPolicy, attempt: int, unit: float, retry_after: float | None = None
) -> float:
    """Seconds to wait after failed attempt `attempt` (1-based). `unit` is a number in
    [0, 1) (random in production) that places the jitter; `retry_after` (seconds the receiver
    asked for) is honoured up to `policy.retry_after_cap`."""
    delay = min(policy.base * policy.factor ** max(attempt - 1, 0), policy.cap)
    delay *= 1 + policy.jitter * (2 * unit - 1)
    if retry_after is not None:
        delay = max(delay, min(retry_after, policy.retry_after_cap))
    return max(delay, 0.0)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or an HTTP date); None if absent or
    unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max((when - now).total_seconds(), 0.0)


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its next attempt (or being attempted)
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # given up: retries ran out, or the endpoint answered 410


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A webhook endpoint of an account. During a rotation `previous_secret` still signs
    (as a second signature) until `previous_until`."""

    id: str
    account_id: str
    url: str
    description: str
    event_types: tuple[str, ...]  # empty: every type
    enabled: bool
    disabled_reason: str | None
    secret: str
    previous_secret: str | None
    previous_until: datetime | None
    created_at: datetime
    updated_at: datetime

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        """The secrets to sign with at `now`: the current one, then the previous one while
        the rotation overlap lasts."""
        if self.previous_secret and self.previous_until and now < self.previous_until:
            return (self.secret, self.previous_secret)
        return (self.secret,)

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message for one endpoint (the outbox row) and where its delivery stands."""

    id: int
    endpoint_id: str
    account_id: str
    message_id: str  # the `webhook-id`: the event id, or a ping's own id
    event_type: str
    body: bytes
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    last_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try at delivering: HTTP status (None when nothing answered), latency, error."""

    delivery_id: int
    attempt: int
    at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None
    worker: str
    id: int | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
