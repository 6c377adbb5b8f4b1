"""Airdrop statuses, their order, and recorded status changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class AirdropStatus(StrEnum):
    """Where a project's airdrop stands. The first six are ordered stages; `ruled_out` is apart."""

    POSSIBLE = "possible"
    LIKELY = "likely"
    CONFIRMED = "confirmed"
    SNAPSHOT_TAKEN = "snapshot_taken"
    CLAIMABLE = "claimable"
    DISTRIBUTED = "distributed"
    RULED_OUT = "ruled_out"

    @property
    def rank(self) -> int:
        """Order of progress: ruled_out (-1) < possible (0) < … < distributed (5)."""
        return _RANK[self]

    @property
    def upcoming(self) -> bool:
        """True while there is still something to do or claim."""
        return self not in (AirdropStatus.DISTRIBUTED, AirdropStatus.RULED_OUT)

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


_RANK = {
    AirdropStatus.RULED_OUT: -1,
    AirdropStatus.POSSIBLE: 0,
    AirdropStatus.LIKELY: 1,
    AirdropStatus.CONFIRMED: 2,
    AirdropStatus.SNAPSHOT_TAKEN: 3,
    AirdropStatus.CLAIMABLE: 4,
    AirdropStatus.DISTRIBUTED: 5,
}

# The board's sections, in the order the article uses, then the later stages.
BOARD_ORDER: tuple[AirdropStatus, ...] = (
    AirdropStatus.CONFIRMED,
    AirdropStatus.LIKELY,
    AirdropStatus.POSSIBLE,
    AirdropStatus.SNAPSHOT_TAKEN,
    AirdropStatus.CLAIMABLE,
    AirdropStatus.DISTRIBUTED,
    AirdropStatus.RULED_OUT,
)


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A change of status. `effective_on` is the date the evidence made it true; `recorded_at`
    is when dropscope noticed it (None for changes derived by replaying evidence)."""

    project_slug: str
    effective_on: date
    old: AirdropStatus | None
    new: AirdropStatus
    rule: str
    evidence_ids: tuple[str, ...]
    recorded_at: datetime | None = None
