"""Shared pieces of the import tests: a small world to refer to, table counts, and one import call."""

from __future__ import annotations

from datetime import UTC, date, datetime
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
    make_account,
    make_campaign,
    make_contact,
    make_content,
    make_deal,
    make_user,
)

NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)
BAD_FILES = Path(__file__).parent / "bad_files"
TABLES = [Account, Contact, Touchpoint, Campaign, ContentAsset, Deal, StageChange, DealStageChange]


@pytest.fixture
def world(session):
    make_user(session, role="sdr", email="owner@revteam.test")
    acc = make_account(session, domain="acme-rockets.com")
    make_contact(session, email="ana@acme-rockets.com", account_id=acc.id, stage="mql")
    make_campaign(session, external_id="cmp-webinar")
    make_content(session, external_id="cnt-pricing")
    make_deal(session, acc, external_id="d-1", stage="discovery", created_on=date(2026, 1, 5))
    session.commit()
    return session


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
