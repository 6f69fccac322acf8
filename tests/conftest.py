"""Shared fixtures. Tiers: SQLite always; PostgreSQL and the browser when their parts are here.

``REVTEAM_TEST_POSTGRES_URL`` names the PostgreSQL server (default: the local one on 127.0.0.1:5432,
database ``test``). When it cannot be reached its tests skip with the reason, unless
``REVTEAM_REQUIRE_TIERS`` lists the tier (``.ci/run`` sets ``postgres,browser``), which turns the skip
into a failure so CI can never pass by silently skipping a tier.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from revteam.config import Settings, get_settings
from revteam.services.record.lifecycle import seed_default_stages
from revteam.store.db import make_engine, make_session_factory
from revteam.store.models import Base

POSTGRES_URL = os.environ.get("REVTEAM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRED_TIERS = {t.strip() for t in os.environ.get("REVTEAM_REQUIRE_TIERS", "").split(",") if t.strip()}
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATASETS = Path(os.environ.get("REVTEAM_DATASETS", SHARED / "datasets"))
NOW = datetime(2026, 3, 16, 14, 30, tzinfo=UTC)  # a Monday afternoon, UTC


def skip_or_fail(tier: str, reason: str) -> None:
    if tier in REQUIRED_TIERS:
        pytest.fail(f"{tier} tier is required (REVTEAM_REQUIRE_TIERS) but unavailable: {reason}")
    pytest.skip(reason)


def _reset_postgres(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    engine = make_engine(POSTGRES_URL)
    try:
        with engine.connect() as c:
            c.execute(text("select 1"))
    except Exception as e:  # noqa: BLE001 - any connection failure means the tier is unavailable
        engine.dispose()
        skip_or_fail("postgres", f"PostgreSQL not reachable at {POSTGRES_URL}: {type(e).__name__}")
    yield engine
    engine.dispose()


def empty_database(engine: Engine) -> None:
    """No table and no Alembic version: what a migration test upgrades from."""
    if engine.dialect.name == "postgresql":
        _reset_postgres(engine)
    else:
        Base.metadata.drop_all(engine)
        with engine.begin() as c:
            c.execute(text("DROP TABLE IF EXISTS alembic_version"))


def upgrade_to(engine: Engine, revision: str) -> None:
    """Run the migrations up to ``revision`` on ``engine`` (one transaction)."""
    from alembic import command

    from revteam.store.db import alembic_config

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _fresh_schema(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        _reset_postgres(engine)
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        seed_default_stages(s)
        s.commit()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, empty revteam database on each engine: SQLite file, and PostgreSQL when reachable."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'revteam.db'}")
        _fresh_schema(eng)
        yield eng
        eng.dispose()
    else:
        eng = request.getfixturevalue("postgres_engine")
        _fresh_schema(eng)
        yield eng


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """SQLite only, for tests whose subject is not the database engine."""
    eng = make_engine(f"sqlite:///{tmp_path / 'revteam.db'}")
    _fresh_schema(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as s:
        yield s


@pytest.fixture
def db_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point REVTEAM_DATABASE_URL at a fresh SQLite file for CLI and app tests."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("REVTEAM_DATABASE_URL", url)
    monkeypatch.setenv("REVTEAM_ENV", "test")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


@pytest.fixture
def settings(db_env: str) -> Settings:
    return get_settings()


@pytest.fixture
def datasets() -> Path:
    if not DATASETS.exists():
        pytest.skip(f"shared datasets not found at {DATASETS}")
    return DATASETS
