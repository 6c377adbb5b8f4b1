"""Webhook endpoints of an account: create (the secret shown once), change, rotate the
secret, delete, ping, list deliveries and their attempts, replay.

Every function acts on one account's endpoints only; another account's id answers
`NotFound`. URLs are checked against the SSRF policy when saved (`domain/webhook_targets`),
and again, with the resolved addresses, at every delivery (`services/webhook_dispatch.py`).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from dropscope.config import Settings
from dropscope.domain.events import PING_TYPE, encode_body, parse_types
from dropscope.domain.keys import new_id
from dropscope.domain.text import check_no_controls
from dropscope.domain.webhook_targets import TargetPolicy, check_url
from dropscope.domain.webhooks import Attempt, Delivery, Endpoint, RetryPolicy, new_secret
from dropscope.errors import Conflict, InvalidInput, NotFound
from dropscope.services.database import Database, UnitOfWork


def target_policy(settings: Settings) -> TargetPolicy:
    return TargetPolicy.of(settings.webhook_allow_http, settings.webhook_allowed_networks)


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        base=settings.webhook_retry_base_seconds,
        factor=settings.webhook_retry_factor,
        cap=settings.webhook_retry_cap_seconds,
        give_up_after=settings.webhook_give_up_seconds,
        retry_after_cap=settings.webhook_retry_after_cap_seconds,
    )


@dataclass(frozen=True, slots=True)
class CreatedEndpoint:
    endpoint: Endpoint
    secret: str  # shown once


def _description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 200:
        raise InvalidInput("description: text of at most 200 characters")
    return check_no_controls("description", value.strip())


def _types(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidInput("event_types: a list of event type names")
    return tuple(t.value for t in parse_types(list(value)))


def create(
    uow: UnitOfWork,
    settings: Settings,
    account_id: str,
    url: str,
    now: datetime,
    *,
    description: str | None = None,
    event_types: list[str] | None = None,
    operator: bool = False,
) -> CreatedEndpoint:
    check_url(target_policy(settings), url)
    if (
        not operator
        and len(uow.webhooks.endpoints(account_id)) >= settings.max_webhooks_per_account
    ):
        raise Conflict(f"an account holds at most {settings.max_webhooks_per_account} webhooks")
    secret = new_secret()
    endpoint = Endpoint(
        id=new_id("wh_"),
        account_id=account_id,
        url=url.strip(),
        description=_description(description),
        event_types=_types(event_types),
        enabled=True,
        disabled_reason=None,
        secret=secret,
        previous_secret=None,
        previous_until=None,
        created_at=now,
        updated_at=now,
    )
    uow.webhooks.add_endpoint(endpoint)
    return CreatedEndpoint(endpoint, secret)


def get(uow: UnitOfWork, account_id: str, endpoint_id: str) -> Endpoint:
    endpoint = uow.webhooks.endpoint(account_id, endpoint_id)
    if endpoint is None:
        raise NotFound(f"no webhook {endpoint_id!r}")
    return endpoint


def update(
    uow: UnitOfWork,
    settings: Settings,
    account_id: str,
    endpoint_id: str,
    patch: Mapping[str, Any],
    now: datetime,
) -> Endpoint:
    """Change `url`, `description`, `event_types` or `enabled` (enabling clears the reason
    it was disabled, e.g. a 410; its pending deliveries resume)."""
    endpoint = get(uow, account_id, endpoint_id)
    unknown = sorted(set(patch) - {"url", "description", "event_types", "enabled"})
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}")
    changed = endpoint
    if patch.get("url") is not None:
        check_url(target_policy(settings), patch["url"])
        changed = replace(changed, url=str(patch["url"]).strip())
    if "description" in patch:
        changed = replace(changed, description=_description(patch["description"]))
    if "event_types" in patch:
        changed = replace(changed, event_types=_types(patch["event_types"]))
    if patch.get("enabled") is not None:
        if not isinstance(patch["enabled"], bool):
            raise InvalidInput("enabled: true or false")
        reason = None if patch["enabled"] else "disabled by the account"
        changed = replace(changed, enabled=patch["enabled"], disabled_reason=reason)
    if changed != endpoint:
        changed = replace(changed, updated_at=now)
        uow.webhooks.update_endpoint(changed)
    return changed


def rotate(
    uow: UnitOfWork, account_id: str, endpoint_id: str, overlap: timedelta, now: datetime
) -> CreatedEndpoint:
    """A new secret (shown once); the old one keeps signing, as a second signature, for
    `overlap`."""
    endpoint = get(uow, account_id, endpoint_id)
    secret = new_secret()
    rotated = replace(
        endpoint,
        secret=secret,
        previous_secret=endpoint.secret if overlap > timedelta(0) else None,
        previous_until=now + overlap if overlap > timedelta(0) else None,
        updated_at=now,
    )
    uow.webhooks.update_endpoint(rotated)
    return CreatedEndpoint(rotated, secret)


def delete(uow: UnitOfWork, account_id: str, endpoint_id: str) -> None:
    if not uow.webhooks.delete_endpoint(account_id, endpoint_id):
        raise NotFound(f"no webhook {endpoint_id!r}")


def ping(uow: UnitOfWork, account_id: str, endpoint_id: str, now: datetime) -> Delivery:
    """Put a `webhook.ping` message in the endpoint's outbox (delivered like any other,
    retries included); the delivery."""
    endpoint = get(uow, account_id, endpoint_id)
    if not endpoint.enabled:
        raise Conflict(f"webhook {endpoint_id} is disabled ({endpoint.disabled_reason}); enable it")
    msg_id = "msg_" + secrets.token_hex(12)
    body = encode_body(
        {
            "type": PING_TYPE,
            "timestamp": now.isoformat(),
            "data": {"webhook_id": endpoint.id, "message": "ping from dropscope"},
        }
    )
    uow.webhooks.enqueue(endpoint, msg_id, PING_TYPE, body, now)
    found = uow.webhooks.deliveries(account_id, endpoint_id, limit=1)
    return found[0]


def deliveries(
    uow: UnitOfWork,
    account_id: str,
    endpoint_id: str,
    *,
    state: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[Delivery]:
    get(uow, account_id, endpoint_id)
    return uow.webhooks.deliveries(account_id, endpoint_id, state=state, before=before, limit=limit)


def delivery(uow: UnitOfWork, account_id: str, delivery_id: int) -> tuple[Delivery, list[Attempt]]:
    found = uow.webhooks.delivery(account_id, delivery_id)
    if found is None:
        raise NotFound(f"no delivery {delivery_id}")
    return found, uow.webhooks.attempts(delivery_id)


def replay(uow: UnitOfWork, account_id: str, delivery_id: int, now: datetime) -> Delivery:
    """Deliver a message again, now (same `webhook-id` and body, so receivers that already
    processed it can tell)."""
    if not uow.webhooks.replay(account_id, delivery_id, now):
        raise NotFound(f"no delivery {delivery_id}")
    found = uow.webhooks.delivery(account_id, delivery_id)
    assert found is not None
    return found


def prune(db: Database, before: datetime) -> tuple[int, int]:
    """Delete events noticed, and settled deliveries made, before `before` (pending ones
    stay); (events, deliveries) deleted."""
    with db.unit_of_work() as uow:
        return uow.events.prune(before), uow.webhooks.prune(before)
