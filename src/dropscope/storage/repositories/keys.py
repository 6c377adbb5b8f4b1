"""API keys (stored by hash, never in plain text) and their daily usage counts.

`by_hashes` is the one lookup authentication makes: an indexed equality on the unique
`hash` column, for the key's HMAC under each known pepper (usually one).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from dropscope.domain.access import Scope
from dropscope.domain.keys import ApiKey, KeyState
from dropscope.storage.repositories._common import insert_on_conflict
from dropscope.storage.tables import ApiKeyRow, KeyUsageDailyRow

_T = cast(Table, ApiKeyRow.__table__)
_U = cast(Table, KeyUsageDailyRow.__table__)


class KeyRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, key: ApiKey, key_hash: str) -> None:
        """Store `key` with the HMAC of its secret (the secret itself is never passed here)."""
        self._session.execute(insert(_T).values(**_columns(key), hash=key_hash))

    def get(self, key_id: str) -> ApiKey | None:
        row = self._session.execute(select(_T).where(_T.c.id == key_id)).one_or_none()
        return None if row is None else _to_domain(row)

    def by_hashes(self, hashes: Collection[str]) -> tuple[ApiKey, str] | None:
        """The key whose stored hash is one of `hashes`, with that hash."""
        stmt = select(_T).where(_T.c.hash.in_(list(hashes))).limit(1)
        row = self._session.execute(stmt).one_or_none()
        return None if row is None else (_to_domain(row), str(row.hash))

    def active_hashes(self) -> list[str]:
        """The stored hashes of every key in the `active` state (expired ones included): what
        the verifier checks an address's failed attempts against without a lookup each."""
        stmt = select(_T.c.hash).where(_T.c.state == KeyState.ACTIVE.value)
        return [str(h) for h in self._session.scalars(stmt)]

    def of_account(self, account_id: str | None = None) -> list[ApiKey]:
        """Keys of one account (or of every account), oldest first."""
        stmt = select(_T).order_by(_T.c.created_at, _T.c.id)
        if account_id is not None:
            stmt = stmt.where(_T.c.account_id == account_id)
        return [_to_domain(row) for row in self._session.execute(stmt)]

    def update(self, key_id: str, **changes: Any) -> None:
        """Change stored fields of a key: state, expires_at, rolled_to, grace_until, name."""
        values = {k: (v.value if isinstance(v, KeyState) else v) for k, v in changes.items()}
        self._session.execute(update(_T).where(_T.c.id == key_id).values(**values))

    def touch(self, last_used: Mapping[str, datetime]) -> None:
        """Move `last_used_at` forward (never back) for each key, in one executemany."""
        if not last_used:
            return
        stmt = (
            update(_T)
            .where(_T.c.id == bindparam("kid"))
            .where(or_(_T.c.last_used_at.is_(None), _T.c.last_used_at < bindparam("at")))
            .values(last_used_at=bindparam("at"))
        )
        params = [{"kid": k, "at": t} for k, t in last_used.items()]
        self._session.connection().execute(stmt, params)

    def add_usage(self, counts: Mapping[tuple[str, date], int]) -> None:
        """Add request counts per (key, UTC day): one multi-row upsert."""
        if not counts:
            return
        rows = [{"key_id": k, "day": d, "count": n} for (k, d), n in counts.items()]
        stmt = insert_on_conflict(self._session, KeyUsageDailyRow).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=[_U.c.key_id, _U.c.day],
            set_={"count": _U.c.count + stmt.excluded["count"]},
        )
        self._session.execute(stmt)

    def usage(self, key_ids: Collection[str], since: date) -> list[tuple[str, date, int]]:
        """(key id, day, count) for the keys from `since` on, by key then day."""
        if not key_ids:
            return []
        stmt = (
            select(_U.c.key_id, _U.c.day, _U.c.count)
            .where(_U.c.key_id.in_(list(key_ids)), _U.c.day >= since)
            .order_by(_U.c.key_id, _U.c.day)
        )
        return [(str(k), d, int(n)) for k, d, n in self._session.execute(stmt)]


def _columns(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "account_id": key.account_id,
        "name": key.name,
        "display": key.display,
        "pepper_version": key.pepper_version,
        "scopes": sorted(s.value for s in key.scopes),
        "plan": key.plan,
        "state": key.state.value,
        "ip_allowlist": list(key.ip_allowlist),
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "expires_at": key.expires_at,
        "rolled_from": key.rolled_from,
        "rolled_to": key.rolled_to,
        "grace_until": key.grace_until,
    }


def _to_domain(row: Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        display=row.display,
        scopes=frozenset(Scope(s) for s in row.scopes),
        plan=row.plan,
        state=KeyState(row.state),
        created_at=row.created_at,
        ip_allowlist=tuple(row.ip_allowlist),
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        rolled_from=row.rolled_from,
        rolled_to=row.rolled_to,
        grace_until=row.grace_until,
        pepper_version=row.pepper_version,
    )
