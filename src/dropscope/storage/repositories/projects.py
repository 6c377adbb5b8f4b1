"""Projects as whole aggregates: profile, chains, narratives, competitors, programmes,
funding rounds with investors, scores and evidence.

Reading all projects takes a fixed number of queries (one per table), however many projects
there are, and reads plain column values rather than ORM objects. `save` compares a hash of
the rows the incoming `Project` would be stored as with the stored hash: equal → nothing is
written; different → the project row is updated and its child rows replaced; absent →
inserted. Status changes are kept when a project is updated.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from dropscope.domain.models import Project
from dropscope.storage.repositories._common import (
    NO_SYNC,
    SaveResult,
    conflicts_reported,
    content_hash,
    insert_all,
)
from dropscope.storage.repositories._project_rows import (
    child_rows,
    load_projects,
    project_columns,
)
from dropscope.storage.tables import ProjectChainRow, ProjectNarrativeRow, ProjectRow


class ProjectRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, slug: str) -> Project | None:
        return next(iter(load_projects(self._session, slug)), None)

    def list_all(self) -> list[Project]:
        """Every project, by slug, complete."""
        return load_projects(self._session, None)

    def slugs(self) -> list[str]:
        """Every project slug, sorted."""
        return list(self._session.scalars(select(ProjectRow.slug).order_by(ProjectRow.slug)))

    def slugs_matching(self, narrative: str | None = None, chain: str | None = None) -> list[str]:
        """Slugs, sorted, of projects with this narrative and/or on this chain (exact match);
        with neither filter, every slug."""
        stmt = select(ProjectRow.slug).order_by(ProjectRow.slug)
        if narrative is not None:
            stmt = stmt.where(
                ProjectRow.slug.in_(
                    select(ProjectNarrativeRow.project_slug).where(
                        ProjectNarrativeRow.narrative == narrative
                    )
                )
            )
        if chain is not None:
            stmt = stmt.where(
                ProjectRow.slug.in_(
                    select(ProjectChainRow.project_slug).where(ProjectChainRow.chain == chain)
                )
            )
        return list(self._session.scalars(stmt))

    def save(self, project: Project, now: datetime) -> SaveResult:
        """Insert, replace or leave `project` (stamped `now` when written); see the module
        docstring.

        Raises `Conflict` when it cites an unknown source or investor or repeats an evidence
        or round id; the session must then be rolled back.
        """
        slug = project.slug
        columns = project_columns(project)
        children = child_rows(project)
        digest = content_hash([slug, columns, [(t.__name__, rows) for t, rows in children.items()]])
        stored = self._session.scalar(
            select(ProjectRow.content_hash).where(ProjectRow.slug == slug)
        )
        if stored == digest:
            return "unchanged"
        with conflicts_reported(f"project {slug!r}"):
            if stored is None:
                self._session.execute(
                    insert(ProjectRow).values(
                        slug=slug, content_hash=digest, created_at=now, updated_at=now, **columns
                    )
                )
            else:
                self._session.execute(
                    update(ProjectRow)
                    .where(ProjectRow.slug == slug)
                    .values(content_hash=digest, updated_at=now, **columns),
                    execution_options=NO_SYNC,
                )
                for table in reversed(children):  # children before parents
                    column = table.__table__.c.project_slug
                    self._session.execute(
                        delete(table).where(column == slug), execution_options=NO_SYNC
                    )
            for table, rows in children.items():
                insert_all(self._session, table, rows)
        return "created" if stored is None else "updated"

    def delete(self, slug: str) -> bool:
        """Delete the project; its child rows and status changes go with it (foreign keys
        cascade). False when there was no such project."""
        deleted = self._session.scalar(
            delete(ProjectRow).where(ProjectRow.slug == slug).returning(ProjectRow.slug),
            execution_options=NO_SYNC,
        )
        return deleted is not None
