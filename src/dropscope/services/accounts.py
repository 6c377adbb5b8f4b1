"""Accounts as tenants: the operator's first admin key, self-service sign-up, per-key
usage, and the audit log.

**Sign-up** (`DROPSCOPE_SIGNUP=open`) creates an account with one read key on the first
configured plan named "free" (else the first plan). It is limited from the audit log, so the
limits hold across every worker: at most `per_network` sign-ups per client network (/24 for
IPv4, /56 for IPv6) and `per_hour` in total in the last hour. Sign-ups are serialised by the
keys-version row lock (taken first), so two racing sign-ups cannot both pass a limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dropscope.domain.access import Scope
from dropscope.domain.keys import (
    Account,
    ApiKey,
    KeyEvent,
    KeyEventKind,
    KeyStatus,
    network_of,
    new_id,
    plan_named,
)
from dropscope.errors import InvalidInput, RateLimited
from dropscope.services.keys import Actor, CreatedKey, KeySpec, KeysService, operator_account

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class SignupLimits:
    per_network: int = 3
    per_hour: int = 100


def signup(
    keys: KeysService, name: str, ip: str | None, now: datetime, limits: SignupLimits
) -> tuple[Account, CreatedKey]:
    """A new account and its free-plan read key; `RateLimited` past either limit."""
    name = name.strip()
    if not 1 <= len(name) <= 80 or not name.isprintable():
        raise InvalidInput("an account name has 1 to 80 printable characters")
    plan = plan_named(keys.plans, "free") or keys.plans[0]
    with keys.db.unit_of_work() as uow:
        uow.meta.bump_keys_version()  # first: serialises concurrent sign-ups (row lock)
        recent = uow.key_events.since(KeyEventKind.ACCOUNT_CREATED, now - HOUR, limits.per_hour)
        if len(recent) >= limits.per_hour:
            raise RateLimited(
                "sign-ups are paused for now; try again later",
                _retry_after(recent, now),
                "signup",
            )
        net = network_of(ip)
        same = [e for e in recent if network_of(e.ip) == net]
        if len(same) >= limits.per_network:
            raise RateLimited(
                "too many sign-ups from your network; try again later",
                _retry_after(same, now),
                "signup-per-network",
            )
        account = Account(id=new_id("acct_"), name=name, operator=False, created_at=now)
        uow.accounts.add(account)
        actor = Actor(account_id=account.id, operator=True, ip=ip)
        spec = KeySpec(name="default", scopes=frozenset({Scope.READ}), plan=plan.name)
        created = keys.new_key(uow, actor, account, spec, now)
        uow.key_events.add_all(
            [
                KeyEvent(KeyEventKind.ACCOUNT_CREATED, now, account.id, None, {"name": name}, ip),
                KeyEvent(
                    KeyEventKind.CREATED,
                    now,
                    account.id,
                    created.key.id,
                    {"by": "signup", "scopes": ["read"], "plan": plan.name},
                    ip,
                ),
            ]
        )
    keys.changed()
    return account, created


def _retry_after(events: list[KeyEvent], now: datetime) -> int:
    oldest = min(e.at for e in events)
    return max(1, int((oldest + HOUR - now).total_seconds()) + 1)


def ensure_admin_key(keys: KeysService, now: datetime) -> CreatedKey | None:
    """The first run's admin key: when the operator account has no usable key with the
    admin scope, create one (every scope, the last configured plan) and return it."""
    with keys.db.unit_of_work() as uow:
        account = operator_account(uow, now)
        usable = [
            k
            for k in uow.keys.of_account(account.id)
            if Scope.ADMIN in k.scopes and k.status_at(now) is KeyStatus.ACTIVE
        ]
        if usable:
            return None
        spec = KeySpec(name="admin (first run)", scopes=frozenset(Scope), plan=keys.plans[-1].name)
        created = keys.new_key(uow, Actor.local(), account, spec, now)
        detail = {"by": "serve", "name": spec.name, "scopes": sorted(spec.scopes)}
        uow.key_events.add_all(
            [KeyEvent(KeyEventKind.CREATED, now, account.id, created.key.id, detail)]
        )
        uow.meta.bump_keys_version()
    keys.changed()
    return created


@dataclass(frozen=True, slots=True)
class KeyUsage:
    key: ApiKey
    days: tuple[tuple[date, int], ...]  # only days with use, oldest first

    @property
    def total(self) -> int:
        return sum(n for _, n in self.days)


def usage(
    keys: KeysService,
    actor: Actor,
    since: date,
    *,
    account_id: str | None = None,
    key_id: str | None = None,
) -> list[KeyUsage]:
    """Daily counts from `since` on, per key: of one key (`key_id`), of the actor's account,
    or, for the operator, of `account_id` (None with the CLI: every account)."""
    listed = keys.list(actor, account_id if account_id else actor.account_id)
    if key_id is not None:
        listed = [k for k in listed if k.id == key_id]
    with keys.db.unit_of_work(read_only=True) as uow:
        rows = uow.keys.usage([k.id for k in listed], since)
    by_key: dict[str, list[tuple[date, int]]] = {}
    for kid, day, count in rows:
        by_key.setdefault(kid, []).append((day, count))
    return [KeyUsage(k, tuple(by_key.get(k.id, ()))) for k in listed]


def audit(
    keys: KeysService,
    actor: Actor,
    *,
    limit: int = 50,
    before_id: int | None = None,
    account_id: str | None = None,
    key_id: str | None = None,
) -> list[KeyEvent]:
    """Audit events, newest first: the actor's account's, or any (or `account_id`'s) for
    the operator."""
    scope = account_id if actor.operator else actor.account_id
    with keys.db.unit_of_work(read_only=True) as uow:
        return uow.key_events.page(
            account_id=scope, key_id=key_id, before_id=before_id, limit=limit
        )
