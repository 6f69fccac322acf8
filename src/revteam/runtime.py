"""Wiring: settings → engine → session factory → analytics desk, built once per process (the only place that
does it)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from revteam.config import Settings, get_settings
from revteam.store.db import make_engine, make_session_factory, upgrade_to_head

if TYPE_CHECKING:  # the desk imports Ibis and NumPy: only commands that ask a question pay for it
    from revteam.analytics.desk import Desk


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    _desk: Desk | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # the warm-up thread asks too

    @property
    def desk(self) -> Desk:
        """The analytics desk of this database (made on first use): every analytics answer, asked as a question
        and kept per data fingerprint (``analytics/desk.py``)."""
        with self._lock:
            if self._desk is None:
                from revteam.analytics.desk import Desk

                self._desk = Desk(self.engine, self.sessions, engine_name=self.settings.analytics_engine,
                                  seed=self.settings.analytics_seed)
            return self._desk


def build_runtime(settings: Settings | None = None, *, migrate: bool = True) -> Runtime:
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade_to_head(engine)
        from revteam.services.record.lifecycle import seed_default_stages

        factory = make_session_factory(engine)
        with factory() as s:
            seed_default_stages(s)
            s.commit()
    return Runtime(settings, engine, make_session_factory(engine))


def desk_without_database(settings: Settings | None = None) -> Desk:
    """A desk for the questions that read files, not the database (the backtest on the Maven export): nothing
    connects to ``REVTEAM_DATABASE_URL``, and a question that does read the database finds it empty."""
    from revteam.analytics.desk import Desk

    settings = settings or get_settings()
    engine = make_engine("sqlite://")
    return Desk(engine, make_session_factory(engine), engine_name=settings.analytics_engine,
                seed=settings.analytics_seed)
