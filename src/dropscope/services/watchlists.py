"""Watchlists of an account: create, list, show, change, delete.

Every function works on one account's watchlists only (another account's id answers
`NotFound`, as an unknown one does). Saving a watchlist takes a baseline in the same
transaction: the evidence of each watched project already stored counts as seen, and the
projects its saved filters match now count as matched, so only what happens afterwards
becomes an event (`services/events.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from dropscope.domain.keys import Account, new_id
from dropscope.domain.watchlists import SavedFilter, Watchlist, check_name, check_slugs
from dropscope.errors import Conflict, InvalidInput, NotFound
from dropscope.services.database import UnitOfWork
from dropscope.services.events import baseline
from dropscope.services.keys import operator_account

MAX_WATCHLISTS = 50


def account_for(uow: UnitOfWork, account_id: str | None, now: datetime) -> Account:
    """`account_id`'s account (`NotFound` if none), or the operator's when None (the CLI)."""
    if account_id is None:
        return operator_account(uow, now)
    account = uow.accounts.get(account_id)
    if account is None:
        raise NotFound(f"no account {account_id!r}")
    return account


def parse_filters(raw: Any) -> tuple[SavedFilter, ...]:
    if not isinstance(raw, list):
        raise InvalidInput("filters: a list of filter objects")
    if len(raw) > 20:
        raise InvalidInput("a watchlist holds at most 20 saved filters")
    out = []
    for i, doc in enumerate(raw):
        if not isinstance(doc, Mapping):
            raise InvalidInput(f"filters[{i}]: an object")
        try:
            out.append(SavedFilter.from_json(dict(doc)))
        except InvalidInput as exc:
            raise InvalidInput(
                f"filters[{i}]: {exc.message}", fields=((f"filters[{i}]", exc.message),)
            ) from None
    return tuple(out)


def create(
    uow: UnitOfWork,
    account_id: str,
    name: str,
    slugs: list[str],
    filters: tuple[SavedFilter, ...],
    now: datetime,
) -> Watchlist:
    if len(uow.watchlists.for_account(account_id)) >= MAX_WATCHLISTS:
        raise Conflict(f"an account holds at most {MAX_WATCHLISTS} watchlists")
    w = Watchlist(
        id=new_id("wl_"),
        account_id=account_id,
        name=check_name(name),
        slugs=check_slugs(slugs),
        filters=filters,
        created_at=now,
        updated_at=now,
    )
    if not w.slugs and not w.filters:
        raise InvalidInput("a watchlist needs at least one slug or one saved filter")
    uow.watchlists.add(w)
    baseline(uow, w, now)
    return w


def get(uow: UnitOfWork, account_id: str, watchlist_id: str) -> Watchlist:
    w = uow.watchlists.get(account_id, watchlist_id)
    if w is None:
        raise NotFound(f"no watchlist {watchlist_id!r}")
    return w


def update(
    uow: UnitOfWork, account_id: str, watchlist_id: str, patch: Mapping[str, Any], now: datetime
) -> Watchlist:
    """Change `name`, `slugs` (replace), `add` / `remove` (slugs) or `filters` (replace)."""
    w = get(uow, account_id, watchlist_id)
    unknown = sorted(set(patch) - {"name", "slugs", "add", "remove", "filters"})
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}")
    slugs = list(w.slugs)
    if patch.get("slugs") is not None:
        slugs = list(patch["slugs"])
    slugs += [s for s in patch.get("add") or () if s not in slugs]
    gone = set(patch.get("remove") or ())
    slugs = [s for s in slugs if s not in gone]
    updated = replace(
        w,
        name=check_name(patch["name"]) if patch.get("name") is not None else w.name,
        slugs=check_slugs(slugs),
        filters=parse_filters(patch["filters"]) if patch.get("filters") is not None else w.filters,
        updated_at=now,
    )
    if not updated.slugs and not updated.filters:
        raise InvalidInput("a watchlist needs at least one slug or one saved filter")
    uow.watchlists.update(updated)
    baseline(uow, updated, now)
    return updated


def delete(uow: UnitOfWork, account_id: str, watchlist_id: str) -> None:
    if not uow.watchlists.delete(account_id, watchlist_id):
        raise NotFound(f"no watchlist {watchlist_id!r}")
