"""Dates no analytics can hold (before 1900, after 2199, PostgreSQL's ``infinity``, a text date SQLite cannot
parse), written straight into the database as an API call, an import or a SQL client could: every question
of the desk is still answered for everybody, and the desk says what it left out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text, update
from sqlalchemy.orm import Session, sessionmaker

from revteam.analytics.desk import ANSWERS, Desk
from revteam.analytics.questions import (
    Attribution,
    ContentPiece,
    ContentRoi,
    DealAttribution,
    Funnel,
    StageAttribution,
)
from revteam.analytics.report_questions import (
    CampaignFollowup,
    Rejections,
    SlaBoard,
    SlaCompliance,
    Unworked,
)
from revteam.analytics.revenue_questions import Backtest, Forecast, Outlook, Revenue
from revteam.errors import RevteamError
from revteam.store.models import Contact, ContentAsset, Deal, StageChange, Touchpoint
from tests.integration.test_attribution_service import acme_company

TODAY = date(2026, 3, 16)
NOW = datetime(2026, 3, 16, 14, 30)


def questions(deal_id: int, content_id: int) -> list[Any]:
    return [Funnel(), Funnel(by="source"), Funnel(mode="period", start=date(2026, 1, 1), end=date(2026, 3, 31)),
            Attribution("channel"), Attribution("campaign", model="w_shaped"), StageAttribution.of("mql", today=TODAY),
            DealAttribution(deal_id=deal_id), ContentRoi(), ContentPiece(content_id=content_id),
            Revenue(today=TODAY), Forecast(today=TODAY), Backtest(today=TODAY, draws=200), Outlook(today=TODAY),
            SlaCompliance(now=NOW), SlaBoard(now=NOW), Unworked(now=NOW), Rejections(now=NOW), CampaignFollowup()]


def ask_everything(engine: Engine) -> tuple[list[str], list[dict[str, Any]]]:
    """Every question asked through the desk; the unexpected exceptions (a RevteamError is an answer: it has
    a message for the person asking, such as too little history for a forecast)."""
    with Session(engine) as s:
        deal_id = s.query(Deal.id).filter_by(name="Acme platform").scalar()
        content_id = s.query(ContentAsset.id).first()[0]
    desk = Desk(engine, sessionmaker(bind=engine, expire_on_commit=False), seed=0)
    crashed = []
    try:
        asked = questions(deal_id, content_id)
        assert {type(q) for q in asked} >= set(ANSWERS) - {__import__("revteam.analytics.questions",
                                                                        fromlist=["ContentCredit"]).ContentCredit,
                                                             __import__("revteam.analytics.revenue_questions",
                                                                        fromlist=["MavenBacktest"]).MavenBacktest}
        for q in asked:
            try:
                desk.ask(q)
            except RevteamError:
                pass
            except Exception as e:  # noqa: BLE001 - what this test is about
                crashed.append(f"{type(q).__name__}: {type(e).__name__}: {e}"[:300])
        return crashed, desk.out_of_range()
    finally:
        desk.close()


@pytest.fixture
def acme_db(engine: Engine) -> Engine:
    with Session(engine) as s:
        acme_company(s)
    return engine


@pytest.mark.parametrize("when", [datetime(1500, 1, 1), datetime(3000, 6, 1), datetime(9999, 12, 31, 23, 59)])
def test_a_touch_out_of_range_is_left_out_and_reported(acme_db: Engine, when: datetime) -> None:
    with Session(acme_db) as s:
        ana = s.query(Contact).filter_by(first_name="Ana").one()
        s.add(Touchpoint(contact_id=ana.id, type="page_view", channel="display", occurred_at=when))
        s.add(Touchpoint(contact_id=ana.id, type="page_view", channel="display", occurred_at=when))
        s.commit()
    crashed, report = ask_everything(acme_db)
    assert crashed == []
    [touches] = report
    assert touches["table"] == "touchpoints" and touches["left_out"] == 2 and touches["columns"] == ["occurred_at"]
    assert touches["message"].startswith("2 touches with dates outside 1900-2199 were left out")


def test_dates_out_of_range_in_every_table(acme_db: Engine) -> None:
    """Required dates: the row is left out; optional ones (a deal's close, a piece's publication): read as none."""
    far = datetime(3000, 1, 1)
    with Session(acme_db) as s:
        s.execute(update(StageChange).where(StageChange.id == s.query(StageChange.id).first()[0]).values(changed_at=far))
        s.execute(update(Contact).where(Contact.first_name == "Ben").values(created_at=datetime(1066, 10, 14)))
        s.execute(update(Deal).where(Deal.name == "Globex pilot").values(closed_on=date(2500, 1, 1)))
        s.execute(update(ContentAsset).values(published_at=far))
        s.commit()
    crashed, report = ask_everything(acme_db)
    assert crashed == []
    by_table = {r["table"]: r for r in report}
    assert by_table["stage_changes"]["left_out"] == 1
    assert by_table["contacts"]["left_out"] + by_table["contacts"]["read_as_none"] == 1
    assert by_table["deals"]["read_as_none"] == 1 and "deals.closed_on" in by_table["deals"]["message"]
    assert by_table["content_assets"]["columns"] == ["published_at"]


def test_what_only_sql_can_store(acme_db: Engine) -> None:
    """PostgreSQL: ``infinity`` and years after 9999 (no Python datetime holds them); SQLite: any text."""
    if acme_db.dialect.name == "postgresql":
        odd = ["'infinity'", "'-infinity'", "'20000-01-01'", "'0044-03-15 BC'"]
    else:
        odd = ["'12000-01-01 00:00:00'", "'not a date'", "'2026-02-30 10:00:00'", "'0044-03-15'"]
    with acme_db.begin() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT id FROM touchpoints ORDER BY id"))][:len(odd)]
        for i, value in zip(ids, odd):
            conn.execute(text(f"UPDATE touchpoints SET occurred_at = {value} WHERE id = :i"), {"i": i})
    crashed, report = ask_everything(acme_db)
    assert crashed == []
    assert [(r["table"], r["left_out"]) for r in report] == [("touchpoints", len(odd))]


def test_the_report_follows_the_data(acme_db: Engine) -> None:
    """A corrected date is counted again at the next question (the snapshot's change log read), and the report
    empties."""
    with Session(acme_db) as s:
        ana = s.query(Contact).filter_by(first_name="Ana").one()
        s.add(Touchpoint(contact_id=ana.id, type="page_view", channel="display", occurred_at=datetime(3000, 1, 1)))
        s.commit()
    desk = Desk(acme_db, sessionmaker(bind=acme_db, expire_on_commit=False), seed=0)
    try:
        before = desk.ask(Funnel())
        assert [r["left_out"] for r in desk.out_of_range()] == [1]
        with Session(acme_db) as s:
            s.execute(update(Touchpoint).where(Touchpoint.occurred_at > datetime(2200, 1, 1))
                      .values(occurred_at=datetime(2026, 3, 1)))
            s.commit()
        assert desk.out_of_range() == []
        assert desk.ask(Funnel()) is not before
    finally:
        desk.close()


def test_a_kept_snapshot_still_reports_what_it_left_out(acme_db: Engine, tmp_path: Any) -> None:
    """A new process starts from the snapshot kept on disk (analytics/snapshot_store.py): the rows its files
    lack are still reported."""
    from revteam.analytics.snapshot import SnapshotCache
    from revteam.analytics.snapshot_store import SnapshotStore

    with Session(acme_db) as s:
        ana = s.query(Contact).filter_by(first_name="Ana").one()
        s.add(Touchpoint(contact_id=ana.id, type="page_view", channel="display", occurred_at=datetime(2999, 1, 1)))
        s.commit()
    first = SnapshotCache(SnapshotStore(tmp_path)).get(acme_db)
    again = SnapshotCache(SnapshotStore(tmp_path))
    second = again.get(acme_db)
    assert second.how == {} and second.read == {}  # nothing read: the kept copy was used
    assert second.out_of_range() == first.out_of_range() and first.out_of_range()[0]["left_out"] == 1


def test_handoff_reports_with_dates_out_of_range(engine: Engine) -> None:
    """The handoff reports read the handoffs and their clocks: a handoff "handed" at PostgreSQL's ``infinity``
    (or in 3000 on SQLite) and a touch in 3000 stop no report."""
    from tests.web.conftest import NOW as WORLD_NOW
    from tests.web.conftest import make_people, make_record
    from tests.web.handoff_world import build_world

    with Session(engine) as s:
        users = make_people(s)
        make_record(s, users)
        build_world(s, users, now=WORLD_NOW)
        s.commit()
    far = "'infinity'" if engine.dialect.name == "postgresql" else "'3000-01-01 00:00:00.000000'"
    with engine.begin() as conn:
        first, second = [r[0] for r in conn.execute(text("SELECT id FROM handoffs ORDER BY id LIMIT 2"))]
        conn.execute(text(f"UPDATE handoffs SET handed_at = {far} WHERE id = :i"), {"i": first})
        conn.execute(text(f"UPDATE handoffs SET due_at = {far}, first_touch_at = {far} WHERE id = :i"), {"i": second})
        conn.execute(text(f"UPDATE touchpoints SET occurred_at = {far} WHERE id = (SELECT min(id) FROM touchpoints)"))
    desk = Desk(engine, sessionmaker(bind=engine, expire_on_commit=False), seed=0)
    now = WORLD_NOW
    crashed = []
    try:
        for q in [SlaCompliance(now=now), SlaCompliance(now=now, by="team"), SlaBoard(now=now), Unworked(now=now),
                  Rejections(now=now), Rejections(now=now, by="reason"), CampaignFollowup(), Funnel()]:
            try:
                desk.ask(q)
            except RevteamError:
                pass
            except Exception as e:  # noqa: BLE001 - what this test is about
                crashed.append(f"{type(q).__name__}: {type(e).__name__}: {e}"[:300])
        assert crashed == []
        assert {r["table"] for r in desk.out_of_range()} >= {"handoffs", "touchpoints"}
    finally:
        desk.close()
