"""Wiring: settings → engine → session factory, built once per process (the only place that does it)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from revteam.config import Settings, get_settings
from revteam.store.db import make_engine, make_session_factory, upgrade_to_head


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]


def build_runtime(settings: Settings | None = None, *, migrate: bool = True) -> Runtime:
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade_to_head(engine)
        from revteam.services.lifecycle import seed_default_stages

        factory = make_session_factory(engine)
        with factory() as s:
            seed_default_stages(s)
            s.commit()
    return Runtime(settings, engine, make_session_factory(engine))
