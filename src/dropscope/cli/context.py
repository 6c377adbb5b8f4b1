"""What every command needs: settings, the clock, and the database (opened on first use)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from rich.console import Console

from dropscope.clock import system_clock
from dropscope.config import Settings
from dropscope.domain.assess import AssessParams
from dropscope.errors import InvalidInput
from dropscope.services import data as data_service
from dropscope.services.database import Database


@dataclass
class AppContext:
    settings: Settings
    out: Console
    err: Console
    now: datetime = field(default_factory=system_clock)
    _db: Database | None = None

    @property
    def params(self) -> AssessParams:
        return AssessParams(
            min_tech=self.settings.min_tech, solid_fundamentals=self.settings.solid_fundamentals
        )

    def db(self, *, seed: bool = True) -> Database:
        """The database, migrated; seeded with the curated data when it holds no project."""
        if self._db is None:
            db = Database(self.settings.database_url, echo=self.settings.sql_echo)
            db.ensure_schema()
            if seed:
                with db.unit_of_work(read_only=True) as uow:
                    empty = not uow.projects.slugs()
                if empty:
                    self.err.print("[dim]Empty database: loading the curated data first.[/dim]")
                    data_service.load(db, self.settings.data_dir, self.now)
            self._db = db
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()


def parse_date(value: str | None, default: date, option: str = "--as-of") -> date:
    if value is None:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{option} takes a date as YYYY-MM-DD, not {value!r}") from None
