"""Stored responses to write requests sent with an idempotency key.

A client that retries a POST or PATCH with the same `Idempotency-Key` gets the response the
first attempt got instead of a second write. A stored response is unique per (owner, key,
method, path): the owner is the API key that sent the request (its id), so one client's
Idempotency-Key never replays another's response, nor blocks another's request. `request_hash`
lets the caller tell a true retry from a different request reusing a key. Storing it in the
same unit of work as the write makes the two commit together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dropscope.errors import Conflict, InvalidInput
from dropscope.storage.repositories._common import insert_on_conflict
from dropscope.storage.tables import IdempotencyKeyRow

_ROW = IdempotencyKeyRow


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """What was answered to request (`method`, `path`) with idempotency key `key`, sent by
    `owner` (the id of the API key that sent it).

    `request_hash` is a digest of the request (for example of its body) chosen by the caller;
    `created_at` must be timezone-aware.
    """

    key: str
    method: str
    path: str
    request_hash: str
    status_code: int
    response_body: bytes
    content_type: str
    created_at: datetime
    owner: str


class IdempotencyRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, key: str, method: str, path: str, *, owner: str) -> StoredResponse | None:
        """The response stored for `owner`'s request with idempotency key `key` (another
        owner's, under the same key, is not seen)."""
        row = self._session.execute(
            select(
                _ROW.request_hash,
                _ROW.status_code,
                _ROW.response_body,
                _ROW.content_type,
                _ROW.created_at,
            ).where(
                _ROW.api_key_id == owner,
                _ROW.key == key,
                _ROW.method == method,
                _ROW.path == path,
            )
        ).one_or_none()
        if row is None:
            return None
        request_hash, status_code, body, content_type, created_at = row
        return StoredResponse(
            key,
            method,
            path,
            request_hash,
            status_code,
            bytes(body),
            content_type,
            created_at,
            owner,
        )

    def put(self, response: StoredResponse) -> None:
        """Store `response`. Raises `Conflict` when one is already stored for its (owner,
        key, method, path), including one stored by a concurrent transaction that commits first
        (on PostgreSQL this waits for it); the session stays usable either way.
        `InvalidInput` for a `created_at` without timezone."""
        if response.created_at.utcoffset() is None:
            raise InvalidInput(f"created_at {response.created_at.isoformat()} has no timezone")
        stmt = (
            insert_on_conflict(self._session, _ROW)
            .values(
                api_key_id=response.owner,
                key=response.key,
                method=response.method,
                path=response.path,
                request_hash=response.request_hash,
                status_code=response.status_code,
                response_body=response.response_body,
                content_type=response.content_type,
                created_at=response.created_at,
            )
            .on_conflict_do_nothing(
                index_elements=[_ROW.api_key_id, _ROW.key, _ROW.method, _ROW.path]
            )
        )
        if self._session.scalar(stmt.returning(_ROW.id)) is None:
            raise Conflict(
                f"a response is already stored for idempotency key {response.key!r} "
                f"on {response.method} {response.path}"
            )

    def delete_before(self, cutoff: datetime) -> int:
        """Forget responses stored before `cutoff` (aware); returns how many."""
        if cutoff.utcoffset() is None:
            raise InvalidInput(f"cutoff {cutoff.isoformat()} has no timezone")
        deleted = self._session.scalars(
            delete(_ROW).where(_ROW.created_at < cutoff).returning(_ROW.id)
        )
        return len(deleted.all())
