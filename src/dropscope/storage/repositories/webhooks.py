"""Webhook endpoints, the delivery outbox and the attempt log.

Claiming is how several dispatchers share the outbox: `claim` picks due pending rows of
enabled endpoints and leases them (`claimed_until`, `claimed_by`) in the caller's
transaction. On PostgreSQL the pick is `SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent
dispatchers take disjoint rows without waiting; on SQLite the write transaction begins
IMMEDIATE, so claims are serialised. A dispatcher that dies leaves its lease to expire, and
the row is claimed again: delivery is at least once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from dropscope.domain.webhooks import Attempt, Delivery, DeliveryState, Endpoint
from dropscope.storage.repositories._common import FRESH, NO_SYNC, insert_all, insert_on_conflict
from dropscope.storage.tables import WebhookAttemptRow, WebhookDeliveryRow, WebhookEndpointRow

_D = WebhookDeliveryRow
_E = WebhookEndpointRow


class WebhookRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    # --- endpoints -----------------------------------------------------------------------

    def add_endpoint(self, e: Endpoint) -> None:
        insert_all(self._session, _E, [_endpoint_columns(e)])

    def update_endpoint(self, e: Endpoint) -> None:
        values = _endpoint_columns(e)
        del values["id"], values["account_id"], values["created_at"]
        self._session.execute(
            update(_E).where(_E.id == e.id, _E.account_id == e.account_id).values(**values),
            execution_options=NO_SYNC,
        )

    def delete_endpoint(self, account_id: str, endpoint_id: str) -> bool:
        result = self._session.execute(
            delete(_E).where(_E.id == endpoint_id, _E.account_id == account_id),
            execution_options=NO_SYNC,
        )
        return bool(getattr(result, "rowcount", 0))

    def endpoint(self, account_id: str | None, endpoint_id: str) -> Endpoint | None:
        """The endpoint, only if it belongs to `account_id` (None: any account's)."""
        stmt = select(_E).where(_E.id == endpoint_id)
        if account_id is not None:
            stmt = stmt.where(_E.account_id == account_id)
        row = self._session.scalars(stmt, execution_options=FRESH).first()
        return None if row is None else _endpoint(row)

    def endpoints(self, account_id: str, *, enabled_only: bool = False) -> list[Endpoint]:
        stmt = select(_E).where(_E.account_id == account_id)
        if enabled_only:
            stmt = stmt.where(_E.enabled.is_(True))
        rows = self._session.scalars(stmt.order_by(_E.created_at, _E.id), execution_options=FRESH)
        return [_endpoint(r) for r in rows]

    def disable(self, endpoint_id: str, reason: str, now: datetime) -> None:
        self._session.execute(
            update(_E)
            .where(_E.id == endpoint_id)
            .values(enabled=False, disabled_reason=reason, updated_at=now),
            execution_options=NO_SYNC,
        )

    # --- the outbox ----------------------------------------------------------------------

    def enqueue(
        self,
        endpoint: Endpoint,
        message_id: str,
        event_type: str,
        body: bytes,
        now: datetime,
    ) -> bool:
        """Add a pending message for `endpoint` unless it already holds `message_id`; True
        when added."""
        stmt = insert_on_conflict(self._session, _D).values(
            endpoint_id=endpoint.id,
            account_id=endpoint.account_id,
            message_id=message_id,
            event_type=event_type,
            body=body,
            state=DeliveryState.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        stmt = stmt.on_conflict_do_nothing(index_elements=["endpoint_id", "message_id"])
        return self._session.execute(stmt.returning(_D.id)).first() is not None

    def claim(
        self, now: datetime, lease: timedelta, limit: int, worker: str
    ) -> list[tuple[Delivery, Endpoint]]:
        """Lease up to `limit` due pending deliveries of enabled endpoints to `worker`."""
        due = (
            select(_D.id)
            .join(_E, _E.id == _D.endpoint_id)
            .where(
                _D.state == DeliveryState.PENDING.value,
                _D.next_attempt_at <= now,
                or_(_D.claimed_until.is_(None), _D.claimed_until <= now),
                _E.enabled.is_(True),
            )
            .order_by(_D.next_attempt_at, _D.id)
            .limit(limit)
        )
        if self._session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True, of=_D)
        ids = list(self._session.scalars(due))
        if not ids:
            return []
        self._session.execute(
            update(_D).where(_D.id.in_(ids)).values(claimed_until=now + lease, claimed_by=worker),
            execution_options=NO_SYNC,
        )
        stmt = select(_D, _E).join(_E, _E.id == _D.endpoint_id).where(_D.id.in_(ids))
        rows = self._session.execute(stmt.order_by(_D.id), execution_options=FRESH)
        return [(_delivery(d), _endpoint(e)) for d, e in rows]

    def finish(
        self,
        attempt: Attempt,
        state: DeliveryState,
        next_attempt_at: datetime | None,
    ) -> bool:
        """Log `attempt` and settle its delivery (release the lease). False when the lease
        was lost to another worker (it expired; the attempt is still logged) or the delivery
        is gone (its endpoint was deleted meanwhile; nothing is written)."""
        values: dict[str, object] = {
            "state": state.value,
            "attempts": _D.attempts + 1,
            "claimed_until": None,
            "claimed_by": None,
            "last_attempt_at": attempt.at,
            "last_status": attempt.status_code,
            "last_error": attempt.error,
        }
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        if state is DeliveryState.DELIVERED:
            values["delivered_at"] = attempt.at
        result = self._session.execute(
            update(_D)
            .where(_D.id == attempt.delivery_id, _D.claimed_by == attempt.worker)
            .values(**values),
            execution_options=NO_SYNC,
        )
        settled = bool(getattr(result, "rowcount", 0))
        exists = settled or (
            self._session.scalar(select(_D.id).where(_D.id == attempt.delivery_id)) is not None
        )
        if exists:
            insert_all(self._session, WebhookAttemptRow, [_attempt_columns(attempt)])
        return settled

    def prune(self, before: datetime) -> int:
        """Delete settled (delivered or failed) deliveries made before `before`, with their
        attempts; how many."""
        result = self._session.execute(
            delete(_D).where(_D.state != DeliveryState.PENDING.value, _D.created_at < before),
            execution_options=NO_SYNC,
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def release(self, delivery_id: int, worker: str) -> None:
        """Give a claimed delivery back without attempting it (its endpoint went away)."""
        self._session.execute(
            update(_D)
            .where(_D.id == delivery_id, _D.claimed_by == worker)
            .values(claimed_until=None, claimed_by=None),
            execution_options=NO_SYNC,
        )

    def replay(self, account_id: str, delivery_id: int, now: datetime) -> bool:
        """Make a delivery pending again, due now (its attempts are kept)."""
        result = self._session.execute(
            update(_D)
            .where(_D.id == delivery_id, _D.account_id == account_id)
            .values(
                state=DeliveryState.PENDING.value,
                next_attempt_at=now,
                claimed_until=None,
                claimed_by=None,
            ),
            execution_options=NO_SYNC,
        )
        return bool(getattr(result, "rowcount", 0))

    def delivery(self, account_id: str | None, delivery_id: int) -> Delivery | None:
        stmt = select(_D).where(_D.id == delivery_id)
        if account_id is not None:
            stmt = stmt.where(_D.account_id == account_id)
        row = self._session.scalars(stmt, execution_options=FRESH).first()
        return None if row is None else _delivery(row)

    def deliveries(
        self,
        account_id: str,
        endpoint_id: str,
        *,
        state: str | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> list[Delivery]:
        """An endpoint's deliveries, newest first, with id < `before`."""
        stmt = select(_D).where(_D.account_id == account_id, _D.endpoint_id == endpoint_id)
        if state:
            stmt = stmt.where(_D.state == state)
        if before is not None:
            stmt = stmt.where(_D.id < before)
        rows = self._session.scalars(
            stmt.order_by(_D.id.desc()).limit(limit), execution_options=FRESH
        )
        return [_delivery(r) for r in rows]

    def attempts(self, delivery_id: int) -> list[Attempt]:
        stmt = select(WebhookAttemptRow).where(WebhookAttemptRow.delivery_id == delivery_id)
        rows = self._session.scalars(stmt.order_by(WebhookAttemptRow.id))
        return [_attempt(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """Deliveries by state (for `dropscope webhooks status` and the tests)."""
        rows = self._session.execute(select(_D.state, func.count()).group_by(_D.state))
        return {state: int(n) for state, n in rows}

    def next_due(self) -> datetime | None:
        """When the earliest pending delivery of an enabled endpoint is due."""
        stmt = (
            select(func.min(_D.next_attempt_at))
            .join(_E, _E.id == _D.endpoint_id)
            .where(_D.state == DeliveryState.PENDING.value, _E.enabled.is_(True))
        )
        return self._session.scalar(stmt)


def _endpoint_columns(e: Endpoint) -> dict[str, object]:
    return {
        "id": e.id,
        "account_id": e.account_id,
        "url": e.url,
        "description": e.description,
        "event_types": list(e.event_types),
        "enabled": e.enabled,
        "disabled_reason": e.disabled_reason,
        "secret": e.secret,
        "previous_secret": e.previous_secret,
        "previous_until": e.previous_until,
        "created_at": e.created_at,
        "updated_at": e.updated_at,
    }


def _endpoint(r: WebhookEndpointRow) -> Endpoint:
    return Endpoint(
        id=r.id,
        account_id=r.account_id,
        url=r.url,
        description=r.description,
        event_types=tuple(r.event_types),
        enabled=r.enabled,
        disabled_reason=r.disabled_reason,
        secret=r.secret,
        previous_secret=r.previous_secret,
        previous_until=r.previous_until,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


def _delivery(r: WebhookDeliveryRow) -> Delivery:
    return Delivery(
        id=r.id,
        endpoint_id=r.endpoint_id,
        account_id=r.account_id,
        message_id=r.message_id,
        event_type=r.event_type,
        body=bytes(r.body),
        state=DeliveryState(r.state),
        attempts=r.attempts,
        next_attempt_at=r.next_attempt_at,
        created_at=r.created_at,
        last_attempt_at=r.last_attempt_at,
        delivered_at=r.delivered_at,
        last_status=r.last_status,
        last_error=r.last_error,
    )


def _attempt_columns(a: Attempt) -> dict[str, object]:
    return {
        "delivery_id": a.delivery_id,
        "attempt": a.attempt,
        "at": a.at,
        "status_code": a.status_code,
        "latency_ms": a.latency_ms,
        "error": a.error,
        "worker": a.worker,
    }


def _attempt(r: WebhookAttemptRow) -> Attempt:
    return Attempt(
        id=r.id,
        delivery_id=r.delivery_id,
        attempt=r.attempt,
        at=r.at,
        status_code=r.status_code,
        latency_ms=r.latency_ms,
        error=r.error,
        worker=r.worker,
    )
