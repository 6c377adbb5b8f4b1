"""What every tool needs: the database, the settings, the clock, and the assistant (this
process's one for the database, built on first use and shared with /v1/ask: its index and
embedding model load once, not per call)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date

from dropscope.clock import Clock, system_clock
from dropscope.config import Settings
from dropscope.domain.assess import AssessParams
from dropscope.services.assistant import Assistant, assistant_for, warm
from dropscope.services.database import Database


@dataclass(frozen=True)
class ToolContext:
    settings: Settings
    db: Database
    clock: Clock = system_clock

    @property
    def params(self) -> AssessParams:
        return AssessParams(
            min_tech=self.settings.min_tech, solid_fundamentals=self.settings.solid_fundamentals
        )

    def today(self) -> date:
        return self.clock().date()

    def warm(self) -> threading.Thread:
        """Build the assistant's index in the background now (`services.assistant.warm`)."""
        return warm(self.db, self.settings, self.clock)

    def assistant(self) -> Assistant:
        """The process's assistant for this database (`services.assistant.assistant_for`)."""
        return assistant_for(self.db, self.settings, self.clock)
