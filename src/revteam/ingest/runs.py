"""The import log as the Import page and ``GET /api/v1/imports`` show it: recent runs, newest first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from revteam.store.models import ImportRun, User

RECENT_RUNS = 20


def recent_runs(session: Session, limit: int = RECENT_RUNS) -> list[ImportRun]:
    return list(session.scalars(select(ImportRun).order_by(ImportRun.started_at.desc(), ImportRun.id.desc())
                                .limit(limit)))


def recent_runs_with_actor(session: Session, limit: int = RECENT_RUNS) -> list[tuple[ImportRun, str | None]]:
    """Recent runs with the name of the person who ran each (None for the CLI or the API without a user)."""
    rows = session.execute(
        select(ImportRun, User.name)
        .outerjoin(User, User.id == ImportRun.actor_user_id)
        .order_by(ImportRun.started_at.desc(), ImportRun.id.desc())
        .limit(limit)
    ).all()
    return [(run, name) for run, name in rows]
