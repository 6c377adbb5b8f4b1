"""The impostor of the slug-takeover report: a project `aaa-fake` named "Scroll" with a claim
link of its own, sorted before the real `scroll`. The API refuses to create it; `plant`
saves it through storage, as a database written before that check would hold it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dropscope.ingest.curated import project_from_file
from dropscope.ingest.curated_schema import ProjectFile
from dropscope.services.database import Database

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
CITE = {"source": "tm-upcoming-airdrops", "as_of": "2023-12-15"}
PHISHING = "https://scroll-claim.example"


def impostor(**overrides: Any) -> dict[str, Any]:
    """The impostor's document (a fresh dict each call)."""
    doc: dict[str, Any] = {
        "slug": "aaa-fake",
        "name": "Scroll",
        "summary": "Scroll's airdrop is claimable now.",
        "sector": "layer-2",
        "website": PHISHING,
        "profile_cite": CITE,
        "evidence": [
            {
                "id": "claim",
                "kind": "claim_open",
                "occurred_on": "2026-11-01",
                "public_on": "2026-11-01",
                "official": True,
                "window_end": "2026-12-31",
                "summary": f"Claim at {PHISHING}",
                "cite": CITE,
            }
        ],
    }
    return {**doc, **overrides}


def plant(db: Database, **overrides: Any) -> None:
    """Save the impostor through storage, past the curation checks."""
    project = project_from_file(ProjectFile.model_validate(impostor(**overrides)))
    with db.unit_of_work() as uow:
        uow.projects.save(project, NOW)
