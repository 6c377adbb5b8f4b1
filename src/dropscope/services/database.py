"""The database handle and the unit of work: one transaction, one commit, per use case.

Entry points build one `Database` from settings and open a `unit_of_work()` per request,
command or run. Repositories never commit; leaving the `with` block commits, an exception
rolls everything back, so a failed command leaves no half-written record.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from dropscope.storage.change_signal import ChangeSignal, signal_beside
from dropscope.storage.engine import (
    create_engine_for,
    make_session_factory,
    migrate,
    schema_is_current,
)
from dropscope.storage.repositories.accounts import AccountRepository
from dropscope.storage.repositories.events import EventRepository
from dropscope.storage.repositories.idempotency import IdempotencyRepository
from dropscope.storage.repositories.ingest import IngestRepository
from dropscope.storage.repositories.investors import InvestorRepository
from dropscope.storage.repositories.key_events import KeyEventRepository
from dropscope.storage.repositories.keys import KeyRepository
from dropscope.storage.repositories.meta import CounterProbe, MetaRepository
from dropscope.storage.repositories.past_airdrops import PastAirdropRepository
from dropscope.storage.repositories.peers import PeerRepository
from dropscope.storage.repositories.projects import ProjectRepository
from dropscope.storage.repositories.sources import SourceRepository
from dropscope.storage.repositories.status_changes import StatusChangeRepository
from dropscope.storage.repositories.watchlists import WatchlistRepository
from dropscope.storage.repositories.webhooks import WebhookRepository


@dataclass(frozen=True, slots=True)
class UnitOfWork:
    """The repositories of one transaction.

    A use case that writes research data calls `meta.bump_data_version()` once, last, so
    that caches learn of the change when it commits; one that changes API keys or accounts
    calls `meta.bump_keys_version()` the same way.
    """

    session: Session
    sources: SourceRepository
    investors: InvestorRepository
    peers: PeerRepository
    projects: ProjectRepository
    past_airdrops: PastAirdropRepository
    status_changes: StatusChangeRepository
    meta: MetaRepository
    idempotency: IdempotencyRepository
    ingest: IngestRepository  # ingestion runs, listings, verifications, conflicts, markets
    accounts: AccountRepository
    keys: KeyRepository
    key_events: KeyEventRepository
    watchlists: WatchlistRepository  # watchlists, filter matches, evidence seen (issue 8)
    events: EventRepository  # per-account event feed
    webhooks: WebhookRepository  # endpoints, outbox, attempt log


class Database:
    """An engine and its session factory for one database URL."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = create_engine_for(url, echo=echo)
        self._sessions: sessionmaker[Session] = make_session_factory(self.engine)
        self._readers: sessionmaker[Session] = make_session_factory(self.engine, read_only=True)
        # SQLite: the counter file that tells this host's processes that keys changed
        # (storage/change_signal.py); None on PostgreSQL and for in-memory databases
        self.keys_signal: ChangeSignal | None = (
            signal_beside(self.engine.url.database) if self.is_sqlite else None
        )

    def schema_is_current(self) -> bool:
        """True when the database answers and every migration is applied."""
        return schema_is_current(self.engine)

    def ensure_schema(self) -> bool:
        """Apply pending migrations; True when something was applied."""
        if schema_is_current(self.engine):
            return False
        migrate(self.engine)
        return True

    @contextmanager
    def unit_of_work(self, *, read_only: bool = False) -> Iterator[UnitOfWork]:
        """One transaction: committed when the block ends, rolled back if it raises.

        `read_only=True` for use cases that only read: on SQLite they do not take the write
        lock (so readers never wait for each other), on PostgreSQL the transaction is READ
        ONLY; a write through it raises.
        """
        session = (self._readers if read_only else self._sessions)()
        try:
            uow = UnitOfWork(
                session=session,
                sources=SourceRepository(session),
                investors=InvestorRepository(session),
                peers=PeerRepository(session),
                projects=ProjectRepository(session),
                past_airdrops=PastAirdropRepository(session),
                status_changes=StatusChangeRepository(session),
                meta=MetaRepository(session),
                idempotency=IdempotencyRepository(session),
                ingest=IngestRepository(session),
                accounts=AccountRepository(session),
                keys=KeyRepository(session),
                key_events=KeyEventRepository(session),
                watchlists=WatchlistRepository(session),
                events=EventRepository(session),
                webhooks=WebhookRepository(session),
            )
            yield uow
            session.commit()
            if uow.meta.keys_changed and self.keys_signal is not None:
                self.keys_signal.bump()  # after the commit: readers then find the change
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def counter_probe(self, name: str) -> CounterProbe:
        """A reader of one `meta` counter on a connection of its own (see `CounterProbe`);
        the caller closes it."""
        return CounterProbe(self.engine, name)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def close(self) -> None:
        self.engine.dispose()
        if self.keys_signal is not None:
            self.keys_signal.close()
