"""Accounts (tenants): the owners of API keys, their usage and their audit events."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from dropscope.domain.keys import Account
from dropscope.storage.repositories._common import FRESH
from dropscope.storage.tables import AccountRow


class AccountRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, account: Account) -> None:
        self._session.execute(
            insert(AccountRow).values(
                id=account.id,
                name=account.name,
                operator=account.operator,
                created_at=account.created_at,
            )
        )

    def get(self, account_id: str) -> Account | None:
        row = self._session.get(AccountRow, account_id, populate_existing=True)
        return None if row is None else _to_domain(row)

    def operator(self) -> Account | None:
        """The account that runs the instance (the first one, if several were marked)."""
        stmt = select(AccountRow).where(AccountRow.operator.is_(True)).order_by(AccountRow.id)
        row = self._session.scalars(stmt.limit(1), execution_options=FRESH).first()
        return None if row is None else _to_domain(row)


def _to_domain(row: AccountRow) -> Account:
    return Account(id=row.id, name=row.name, operator=row.operator, created_at=row.created_at)
