"""Wiring: settings → engine → session factory, built once per process (the only place that does it)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from revteam.config import Settings, get_settings
from revteam.store.db import make_engine, make_session_factory, upgrade_to_head


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    _analytics: Any = field(default=None, repr=False)
    _attribution: Any = field(default=None, repr=False)
    _answers: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # the warm-up thread asks too

    @property
    def analytics(self) -> Any:
        """The analytics runner for this database (created on first use; keeps its warm snapshot)."""
        with self._lock:
            if self._analytics is None:
                from revteam.analytics.runner import Analytics

                self._analytics = Analytics(self.engine, self.settings.analytics_engine)
            return self._analytics

    @property
    def attribution(self) -> Any:
        """Attribution journeys and model credit for this database, kept per data fingerprint (created on first use)."""
        with self._lock:
            if self._attribution is None:
                from revteam.analytics.snapshot import fingerprint
                from revteam.analytics.attribution_cache import AttributionCache

                # stage journeys are cut from the analytics snapshot's tables, already in memory
                self._attribution = AttributionCache(self.sessions, lambda: fingerprint(self.engine),
                                                     tables=lambda: self.analytics.cache.get(self.engine).tables)
            return self._attribution

    @property
    def answers(self) -> Any:
        """Answers of services that read the database directly (the forecast page), kept per data fingerprint."""
        with self._lock:
            if self._answers is None:
                from revteam.analytics.snapshot import fingerprint
                from revteam.analytics.answer_cache import AnswerCache

                self._answers = AnswerCache(lambda: fingerprint(self.engine))
            return self._answers


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
