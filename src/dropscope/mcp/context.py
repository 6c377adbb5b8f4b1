"""What every tool needs: the database, the settings, the clock, and the assistant (built on
first use: its index and embedding model load once per server, not per call)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from dropscope.config import Settings
from dropscope.domain.assess import AssessParams
from dropscope.services.assistant import Assistant
from dropscope.services.database import Database


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ToolContext:
    settings: Settings
    db: Database
    clock: Callable[[], datetime] = _now
    _assistant: Assistant | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def params(self) -> AssessParams:
        return AssessParams(
            min_tech=self.settings.min_tech, solid_fundamentals=self.settings.solid_fundamentals
        )

    def today(self) -> date:
        return self.clock().date()

    def assistant(self) -> Assistant:
        """This server's assistant (`services.assistant.Assistant.from_settings`)."""
        with self._lock:
            if self._assistant is None:
                self._assistant = Assistant.from_settings(self.settings, self.db, self.clock)
            return self._assistant
