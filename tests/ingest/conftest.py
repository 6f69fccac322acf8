"""Shared pieces of the import tests: a small world to refer to, table counts, and one import call."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from revteam.ingest.service import ImportReport, run_import
from revteam.store.models import (
    Account,
    Campaign,
    Contact,
    ContentAsset,
    Deal,
    DealStageChange,
    ImportRun,
    StageChange,
    Touchpoint,
)
from tests.factories import (
    make_import_world,
)

NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)
BAD_FILES = Path(__file__).parent / "bad_files"
TABLES = [Account, Contact, Touchpoint, Campaign, ContentAsset, Deal, StageChange, DealStageChange]


@pytest.fixture
def world(session):
    return make_import_world(session)


def counts(sessions) -> dict[str, int]:
    """Rows per record table, and the import runs apart (a rejected import records its run)."""
    with sessions() as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in TABLES}


def last_run(sessions) -> ImportRun:
    with sessions() as s:
        return s.scalars(select(ImportRun).order_by(ImportRun.id.desc())).first()


def do_import(sessions, kind: str, path: Path, **kw: Any) -> ImportReport:
    return run_import(sessions, kind, path, now=NOW, actor="test", **kw)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
