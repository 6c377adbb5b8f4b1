"""API-key lifecycle: create, list, disable / enable, revoke, roll, expire. Each change is
one unit of work that also appends its audit event and bumps the keys version, so every
worker's verified-key cache drops it before the next request.

Who may do what (`Actor`):
- the **operator** (the CLI on the server, or an admin key of the operator account) manages
  every account's keys;
- any other account's admin key manages only its own account's keys, and cannot mint a key
  with a scope or a plan it does not have itself, nor more than `max_keys` usable keys;
  another account's key is answered with 404, as if it did not exist;
- a key (of the operator's account or any other) may not disable or revoke the last active
  admin key of its own account (`LAST_ADMIN`, 409): nothing could manage that account's
  keys afterwards. The CLI may (the operator at the server's shell can always make a new
  admin key: `dropscope keys create --name admin --scope admin` needs no key), and so may
  the operator's key for another account (it can make that account a new one).

The plain key exists only in the `CreatedKey` returned by `create` and `roll`: it is never
stored, logged, or put in an event.

Redis (`DROPSCOPE_REDIS_URL`): after each committed change, `notify` INCRs
``<prefix>:keys_version`` (`keys_version_redis_key`), the counter the rate limiter's Lua
call returns with every call, and publishes the new value on the channel of that name (for
requests admitted from a lease, which make no call: services/redis_pubsub.py); workers compare
it to learn of a change without a database read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import redis

from dropscope.config import Settings
from dropscope.domain.access import Caller, Plan, Scope
from dropscope.domain.keys import (
    Account,
    ApiKey,
    KeyEvent,
    KeyEventKind,
    KeyState,
    KeyStatus,
    Peppers,
    display,
    generate_key,
    new_id,
    parse_allowlist,
    plan_named,
    roll_grace_end,
)
from dropscope.errors import Conflict, Forbidden, InvalidInput, NotFound
from dropscope.services.database import Database, UnitOfWork
from dropscope.services.pepper import load_peppers

log = logging.getLogger("dropscope.keys")

ALL_SCOPES = frozenset(Scope)
OPERATOR_NAME = "operator"
LAST_ADMIN = (
    "key {key_id} is the last active admin key of its account: without it no key could "
    "manage the account's keys. Create another admin key first (POST /v1/keys with "
    '"scopes": ["admin"]), then {action} this one. To recover when no admin key is left, '
    "the operator runs `dropscope keys create --name admin --scope admin{account}` on the "
    "server, which needs no key"
)


def keys_version_redis_key(prefix: str = "dropscope") -> str:
    """The Redis counter INCRed after every key change (read by the rate limiter's script)."""
    return f"{prefix}:keys_version"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks for a key operation. `local()` is the operator at the server's shell."""

    account_id: str | None
    operator: bool
    key_id: str | None = None
    scopes: frozenset[Scope] = ALL_SCOPES
    plan: str | None = None  # the acting key's plan (a non-operator cannot grant another)
    ip: str | None = None

    @classmethod
    def local(cls) -> Actor:
        return cls(account_id=None, operator=True)

    @property
    def label(self) -> str:
        return self.key_id or "cli"


@dataclass(frozen=True, slots=True)
class KeySpec:
    """What a new key should be. None fields take the defaults described in `create`."""

    name: str
    scopes: frozenset[Scope] = frozenset({Scope.READ})
    plan: str | None = None
    expires_at: datetime | None = None
    ip_allowlist: tuple[str, ...] = ()
    account_id: str | None = None


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """A stored key and its plain text, which is shown once and never again."""

    key: ApiKey
    secret: str = field(repr=False)


class KeysService:
    """Key lifecycle over one database; `notify` runs after each committed change."""

    def __init__(
        self,
        db: Database,
        peppers: Peppers,
        plans: Sequence[Plan],
        *,
        max_keys: int = 20,
        notify: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.peppers = peppers
        self.plans = tuple(plans)
        self.max_keys = max_keys
        self._notify = notify

    # -- reads -------------------------------------------------------------------------

    def actor(self, caller: Caller, ip: str | None = None) -> Actor:
        """The actor an authenticated caller is: the operator when its key belongs to the
        operator's account."""
        with self.db.unit_of_work(read_only=True) as uow:
            account = _account(uow, caller.account_id)
        return Actor(
            account_id=caller.account_id,
            operator=account.operator,
            key_id=caller.key_id,
            scopes=caller.scopes,
            plan=caller.plan.name,
            ip=ip,
        )

    def list(self, actor: Actor, account_id: str | None = None) -> list[ApiKey]:
        """The actor's own keys; the operator sees every account's (or `account_id`'s)."""
        with self.db.unit_of_work(read_only=True) as uow:
            if not actor.operator:
                return uow.keys.of_account(actor.account_id)
            return uow.keys.of_account(account_id)

    def get(self, actor: Actor, key_id: str) -> ApiKey:
        with self.db.unit_of_work(read_only=True) as uow:
            return _visible(uow, actor, key_id)

    # -- changes -----------------------------------------------------------------------

    def create(self, actor: Actor, spec: KeySpec, now: datetime) -> CreatedKey:
        """A new key. Defaults: the actor's own account (the operator's for the CLI), the
        actor's plan (the first configured plan for the operator)."""
        with self.db.unit_of_work() as uow:
            account = self._target_account(uow, actor, spec.account_id, now)
            created = self._new_key(uow, actor, account, spec, now)
            uow.key_events.add_all([_event(KeyEventKind.CREATED, actor, created.key, now)])
            uow.meta.bump_keys_version()
        self._changed()
        return created

    def disable(self, actor: Actor, key_id: str, now: datetime) -> ApiKey:
        return self._set_state(actor, key_id, now, KeyState.DISABLED, KeyEventKind.DISABLED)

    def enable(self, actor: Actor, key_id: str, now: datetime) -> ApiKey:
        return self._set_state(actor, key_id, now, KeyState.ACTIVE, KeyEventKind.ENABLED)

    def revoke(self, actor: Actor, key_id: str, now: datetime) -> ApiKey:
        """Permanent: a revoked key can never be enabled again."""
        return self._set_state(actor, key_id, now, KeyState.REVOKED, KeyEventKind.REVOKED)

    def expire(
        self, actor: Actor, key_id: str, now: datetime, at: datetime | None = None
    ) -> ApiKey:
        """Set the key's expiry to `at` (default now); it may only move earlier."""
        when = at or now
        with self.db.unit_of_work() as uow:
            key = _visible(uow, actor, key_id)
            if key.expires_at is not None and key.expires_at <= when:
                raise Conflict(f"key {key_id} already expires at {key.expires_at.isoformat()}")
            uow.keys.update(key_id, expires_at=when)
            changed = replace(key, expires_at=when)
            detail = {"expires_at": when.isoformat()}
            uow.key_events.add_all([_event(KeyEventKind.EXPIRED, actor, changed, now, detail)])
            uow.meta.bump_keys_version()
        self._changed()
        return changed

    def roll(
        self,
        actor: Actor,
        key_id: str,
        now: datetime,
        grace: timedelta = timedelta(hours=24),
        expires_at: datetime | Any | None = ...,
    ) -> tuple[CreatedKey, ApiKey]:
        """A new key with the same name, scopes, plan and allowlist; the old one keeps
        working for `grace` (0: stops now), never past its own expiry. The new key keeps
        the old key's expiry unless `expires_at` is given (None: no expiry). Returns the new
        key (with its secret) and the old one as changed."""
        with self.db.unit_of_work() as uow:
            old = _visible(uow, actor, key_id)
            status = old.status_at(now)
            if status is not KeyStatus.ACTIVE:
                raise Conflict(f"key {key_id} is {status.value}; only an active key rolls")
            if old.rolled_to is not None:
                raise Conflict(f"key {key_id} was already rolled to {old.rolled_to}")
            account = uow.accounts.get(old.account_id)
            assert account is not None  # a foreign key guarantees it
            spec = KeySpec(
                name=old.name,
                scopes=old.scopes,
                plan=old.plan,
                expires_at=old.expires_at if expires_at is ... else expires_at,
                ip_allowlist=old.ip_allowlist,
            )
            created = self._new_key(uow, actor, account, spec, now, rolled_from=old.id)
            grace_until = roll_grace_end(now, grace, old.expires_at)
            uow.keys.update(old.id, rolled_to=created.key.id, grace_until=grace_until)
            changed = replace(old, rolled_to=created.key.id, grace_until=grace_until)
            detail = {"new_key": created.key.id, "grace_until": grace_until.isoformat()}
            uow.key_events.add_all(
                [
                    _event(KeyEventKind.ROLLED, actor, changed, now, detail),
                    _event(KeyEventKind.CREATED, actor, created.key, now, {"rolled_from": old.id}),
                ]
            )
            uow.meta.bump_keys_version()
        self._changed()
        return created, changed

    # -- helpers -----------------------------------------------------------------------

    def new_key(
        self, uow: UnitOfWork, actor: Actor, account: Account, spec: KeySpec, now: datetime
    ) -> CreatedKey:
        """Store a new key inside the caller's unit of work (sign-up uses it)."""
        return self._new_key(uow, actor, account, spec, now)

    def changed(self) -> None:
        """Tell other processes (Redis) after a change committed outside this class."""
        self._changed()

    def _new_key(
        self,
        uow: UnitOfWork,
        actor: Actor,
        account: Account,
        spec: KeySpec,
        now: datetime,
        rolled_from: str | None = None,
    ) -> CreatedKey:
        plan = spec.plan or (self.plans[0].name if actor.operator else actor.plan)
        if plan is None or plan_named(self.plans, plan) is None:
            names = ", ".join(p.name for p in self.plans)
            raise InvalidInput(f"unknown plan {plan!r}; plans are {names}")
        name = spec.name.strip()
        if not 1 <= len(name) <= 80:
            raise InvalidInput("a key name has 1 to 80 characters")
        if spec.expires_at is not None and spec.expires_at <= now and rolled_from is None:
            raise InvalidInput("the expiry must be in the future")
        if not spec.scopes:
            raise InvalidInput("a key needs at least one scope")
        if not actor.operator and rolled_from is None:  # a roll keeps what the key had
            extra = spec.scopes - actor.scopes
            if extra:
                names = ", ".join(sorted(s.value for s in extra))
                raise Forbidden(f"a key cannot grant scopes it does not have: {names}")
            if plan != actor.plan:
                raise Forbidden("a key can only create keys on its own plan")
            usable = [
                k for k in uow.keys.of_account(account.id) if k.status_at(now) is KeyStatus.ACTIVE
            ]
            if len(usable) >= self.max_keys:
                raise Conflict(
                    f"this account already has {len(usable)} usable keys (the most allowed); "
                    "revoke one first"
                )
        secret = generate_key()
        version, digest = self.peppers.hash(secret)
        key = ApiKey(
            id=new_id("key_"),
            account_id=account.id,
            name=name,
            display=display(secret),
            scopes=spec.scopes,
            plan=plan,
            state=KeyState.ACTIVE,
            created_at=now,
            ip_allowlist=parse_allowlist(spec.ip_allowlist),
            expires_at=spec.expires_at,
            rolled_from=rolled_from,
            pepper_version=version,
        )
        uow.keys.add(key, digest)
        return CreatedKey(key, secret)

    def _target_account(
        self, uow: UnitOfWork, actor: Actor, account_id: str | None, now: datetime
    ) -> Account:
        if not actor.operator:
            if account_id not in (None, actor.account_id):
                raise NotFound(f"no account {account_id!r}")
            assert actor.account_id is not None
            own = uow.accounts.get(actor.account_id)
            assert own is not None
            return own
        if account_id is not None:
            return _account(uow, account_id)
        if actor.account_id is None:
            return operator_account(uow, now)
        return _account(uow, actor.account_id)

    def _set_state(
        self, actor: Actor, key_id: str, now: datetime, state: KeyState, kind: KeyEventKind
    ) -> ApiKey:
        with self.db.unit_of_work() as uow:
            # first: key changes wait for each other here (a row lock on PostgreSQL), so two
            # admin keys revoking each other at once cannot both see the other still active
            uow.meta.bump_keys_version()
            key = _visible(uow, actor, key_id)
            if key.state is KeyState.REVOKED:
                raise Conflict(f"key {key_id} is revoked; revocation is permanent")
            if key.state is state:
                raise Conflict(f"key {key_id} is already {state.value}")
            if state is not KeyState.ACTIVE:
                _keep_an_admin(
                    uow, actor, key, now, "revoke" if kind is KeyEventKind.REVOKED else "disable"
                )
            uow.keys.update(key_id, state=state)
            changed = replace(key, state=state)
            uow.key_events.add_all([_event(kind, actor, changed, now)])
        self._changed()
        return changed

    def _changed(self) -> None:
        if self._notify is None:
            return
        try:
            self._notify()
        except Exception as exc:  # the change is committed; workers recheck the database
            log.warning("key change saved, but other workers were not notified: %s", exc)


def keys_service(settings: Settings, db: Database) -> KeysService:
    """The service as the settings configure it (pepper, plans, cap, Redis notification)."""
    notify = None
    if settings.redis_url:
        notify = redis_notifier(settings.redis_url, settings.redis_prefix)
    return KeysService(
        db,
        load_peppers(settings),
        settings.plans,
        max_keys=settings.max_keys_per_account,
        notify=notify,
    )


# INCR the keys version and PUBLISH the new value on the channel of the same name, at once:
# rate-limit calls return the counter; workers admitting from leases hear the message.
NOTIFY_SCRIPT = """
local version = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', KEYS[1], version)
return version
"""


def redis_notifier(url: str, prefix: str) -> Callable[[], None]:
    """Tells every worker that keys changed: INCR of `keys_version_redis_key(prefix)` and a
    PUBLISH of the new value on that channel (services/redis_pubsub.py), in one script."""
    client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
    key = keys_version_redis_key(prefix)
    script = client.register_script(NOTIFY_SCRIPT)

    def notify() -> None:
        script(keys=[key])

    return notify


def operator_account(uow: UnitOfWork, now: datetime) -> Account:
    """The instance operator's account, created on first use."""
    account = uow.accounts.operator()
    if account is None:
        account = Account(id=new_id("acct_"), name=OPERATOR_NAME, operator=True, created_at=now)
        uow.accounts.add(account)
    return account


def _account(uow: UnitOfWork, account_id: str) -> Account:
    account = uow.accounts.get(account_id)
    if account is None:
        raise NotFound(f"no account {account_id!r}")
    return account


def _keep_an_admin(uow: UnitOfWork, actor: Actor, key: ApiKey, now: datetime, action: str) -> None:
    """`Conflict` (`LAST_ADMIN`) when an API key would take away the last active admin key
    of its own account (see the module docstring)."""
    if actor.key_id is None or actor.account_id != key.account_id:  # the CLI; the operator
        return  # for another account: either can make the account a new admin key
    if Scope.ADMIN not in key.scopes or key.status_at(now) is not KeyStatus.ACTIVE:
        return
    others = [
        k
        for k in uow.keys.of_account(key.account_id)
        if k.id != key.id and Scope.ADMIN in k.scopes and k.status_at(now) is KeyStatus.ACTIVE
    ]
    if not others:
        account = "" if actor.operator else f" --account {key.account_id}"
        raise Conflict(LAST_ADMIN.format(key_id=key.id, action=action, account=account))


def _visible(uow: UnitOfWork, actor: Actor, key_id: str) -> ApiKey:
    key = uow.keys.get(key_id)
    if key is None or not (actor.operator or key.account_id == actor.account_id):
        raise NotFound(f"no key {key_id!r}")
    return key


def _event(
    kind: KeyEventKind,
    actor: Actor,
    key: ApiKey,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> KeyEvent:
    base: dict[str, Any] = {"by": actor.label}
    if kind is KeyEventKind.CREATED:
        base |= {
            "name": key.name,
            "scopes": sorted(s.value for s in key.scopes),
            "plan": key.plan,
            "expires_at": key.expires_at.isoformat() if key.expires_at else None,
        }
    return KeyEvent(kind, now, key.account_id, key.id, base | (detail or {}), actor.ip)
