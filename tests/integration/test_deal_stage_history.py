"""Deal stage history: every stage a deal reaches through revteam is a row, dated as honestly as revteam can,
written once; and the forecast learns from it without peeking past its as-of date."""

from __future__ import annotations

from datetime import date, datetime, timezone

import numpy as np
import pytest
from sqlalchemy import select

from revteam.domain.forecast import ForecastConfig
from revteam.errors import ImportRejected, InvalidInput
from revteam.ingest.mapping import load_mapping
from revteam.ingest.service import run_import
from revteam.services.revenue.deal_stages import move_deal
from revteam.analytics.revenue import forecast_report, load_deals, load_stage_history
from revteam.store.models import Deal, DealStageChange
from tests.factories import make_account, make_deal
from tests.integration.test_imports import write_csv

MARCH_16 = datetime(2026, 3, 16, 12, 0, tzinfo=timezone.utc)
APRIL_2 = datetime(2026, 4, 2, 9, 0, tzinfo=timezone.utc)
DEAL = {"external_id": "d-1", "name": "Acme platform", "account_name": "Acme Rockets", "amount": "48000",
        "stage": "discovery", "created_on": "2026-02-10"}


@pytest.fixture
def acme(session):
    make_account(session, name="Acme Rockets", domain="acme-rockets.com")
    session.commit()
    return session


def history(sessions, external_id: str = "d-1") -> list[tuple]:
    with sessions() as s:
        return [(c.from_stage, c.to_stage, str(c.changed_on), c.source) for c in s.scalars(
            select(DealStageChange).join(Deal, Deal.id == DealStageChange.deal_id)
            .where(Deal.external_id == external_id).order_by(DealStageChange.changed_on, DealStageChange.id))]


def deals_import(sessions, tmp_path, rows, now=MARCH_16, name="deals.csv", **kw):
    return run_import(sessions, "deals", write_csv(tmp_path / name, rows), now=now, actor="test", **kw)


# --- imports -------------------------------------------------------------------------------------
def test_a_deals_import_records_each_stage_once_dated_when_revteam_saw_it(acme, sessions, tmp_path):
    deals_import(sessions, tmp_path, [DEAL])
    # first seen on 16 March: its stage is known from then, not from its creation on 10 February
    assert history(sessions) == [(None, "discovery", "2026-03-16", "import")]
    again = deals_import(sessions, tmp_path, [DEAL])
    assert again.unchanged == 1 and len(history(sessions)) == 1  # the same file twice: no new history
    moved = deals_import(sessions, tmp_path, [{**DEAL, "stage": "proposal"}], now=APRIL_2, name="d2.csv")
    assert moved.updated == 1
    assert history(sessions)[-1] == ("discovery", "proposal", "2026-04-02", "import")
    won = {**DEAL, "stage": "closed won", "outcome": "won", "closed_on": "2026-03-30"}
    deals_import(sessions, tmp_path, [won], now=APRIL_2, name="d3.csv")
    # the move that closes the deal is dated its close, even when seen later; never before the last move
    assert history(sessions)[-1] == ("proposal", "closed won", "2026-04-02", "import")
    deals_import(sessions, tmp_path, [won], now=APRIL_2, name="d3.csv")
    assert len(history(sessions)) == 3


def test_a_deal_imported_already_closed_gets_its_stage_on_its_close_date(acme, sessions, tmp_path):
    deals_import(sessions, tmp_path, [{**DEAL, "stage": "closed lost", "outcome": "lost", "closed_on": "2026-03-01"}])
    assert history(sessions) == [(None, "closed lost", "2026-03-01", "import")]


def test_a_deal_imported_on_the_day_it_was_created_starts_then(acme, sessions, tmp_path):
    deals_import(sessions, tmp_path, [{**DEAL, "created_on": "2026-03-16"}])
    assert history(sessions) == [(None, "discovery", "2026-03-16", "import")]


def test_the_salesforce_preset_records_the_stage_it_maps(acme, sessions, tmp_path):
    row = {"Opportunity ID": "006B", "Opportunity Name": "Acme renewal", "Account Name": "Acme Rockets",
           "Amount": "12000", "Stage": "Negotiation", "Close Date": "4/30/2026", "Created Date": "2/1/2026"}
    sf = load_mapping("salesforce-opportunities")
    deals_import(sessions, tmp_path, [row], mapping=sf)
    deals_import(sessions, tmp_path, [{**row, "Stage": "Closed Won", "Close Date": "3/20/2026"}], now=APRIL_2,
                 name="sf2.csv", mapping=sf)
    assert history(sessions, "006B") == [(None, "Negotiation", "2026-03-16", "import"),
                                         ("Negotiation", "Closed Won", "2026-03-20", "import")]


def test_a_stage_history_file_adds_real_history_once_and_leaves_the_current_stage(acme, sessions, tmp_path):
    deals_import(sessions, tmp_path, [DEAL])
    rows = [{"deal_external_id": "d-1", "to_stage": "qualification", "changed_on": "2026-02-10"},
            {"deal_external_id": "d-1", "from_stage": "qualification", "to_stage": "discovery",
             "changed_on": "2026-02-24"}]
    path = write_csv(tmp_path / "history.csv", rows)
    report = run_import(sessions, "deal_stage_changes", path, now=MARCH_16, actor="test")
    assert report.created == 2
    assert history(sessions) == [(None, "qualification", "2026-02-10", "history"),
                                 ("qualification", "discovery", "2026-02-24", "history"),
                                 (None, "discovery", "2026-03-16", "import")]
    again = run_import(sessions, "deal_stage_changes", path, now=MARCH_16, actor="test")
    assert (again.created, again.unchanged) == (0, 2)
    with sessions() as s:
        assert s.scalar(select(Deal.stage).where(Deal.external_id == "d-1")) == "discovery"


@pytest.mark.parametrize(("row", "words"), [
    ({"to_stage": "demo", "changed_on": "2026-02-01"}, "before the deal was created (2026-02-10)"),
    ({"to_stage": "demo", "changed_on": "2026-04-01"}, "after today (2026-03-16)"),
    ({"from_stage": "demo", "to_stage": "demo", "changed_on": "2026-03-01"}, "a row is a move"),
])
def test_impossible_stage_history_is_refused_by_row(acme, sessions, tmp_path, row, words):
    deals_import(sessions, tmp_path, [DEAL])
    with pytest.raises(ImportRejected) as e:
        run_import(sessions, "deal_stage_changes", write_csv(tmp_path / "h.csv", [{"deal_external_id": "d-1", **row}]),
                   now=MARCH_16, actor="test")
    [err] = e.value.errors
    assert err.row == 1 and words in err.message
    assert len(history(sessions)) == 1


# --- the service ---------------------------------------------------------------------------------
def test_move_deal_writes_a_row_only_when_the_stage_is_new(session):
    acc = make_account(session)
    deal = Deal(name="Acme pilot", account_id=acc.id, amount=1000, currency="USD", created_on=date(2026, 1, 5))
    session.add(deal)
    first = move_deal(session, deal, "discovery", on=date(2026, 1, 5), source="app")
    assert (first.from_stage, first.to_stage, deal.stage) == (None, "discovery", "discovery")
    assert move_deal(session, deal, "discovery", on=date(2026, 1, 9), source="app") is None
    second = move_deal(session, deal, "proposal", on=date(2026, 1, 20), source="app")
    assert (second.from_stage, second.to_stage, second.changed_on) == ("discovery", "proposal", date(2026, 1, 20))
    with pytest.raises(InvalidInput, match="before it was created"):
        move_deal(session, deal, "demo", on=date(2026, 1, 1), source="app")
    with pytest.raises(InvalidInput, match="before its latest recorded move"):
        move_deal(session, deal, "demo", on=date(2026, 1, 10), source="app")
    with pytest.raises(InvalidInput, match="Unknown stage-change source"):
        move_deal(session, deal, "demo", on=date(2026, 1, 21), source="crm")
    with pytest.raises(InvalidInput, match="cannot be empty"):
        move_deal(session, deal, " ", on=date(2026, 1, 21), source="app")
    legacy = make_deal(session, acc, stage="proposal")  # stored before stage history was kept
    row = move_deal(session, legacy, "proposal", on=date(2026, 2, 1), source="app")
    assert (row.from_stage, row.to_stage) == (None, "proposal")  # known from then on


def test_stage_history_is_read_with_todays_stage_for_deals_without_any(session):
    acc = make_account(session)
    tracked = make_deal(session, acc, stage="proposal", created_on=date(2026, 1, 5))
    session.add_all([DealStageChange(deal_id=tracked.id, to_stage="discovery", changed_on=date(2026, 1, 5),
                                     source="app"),
                     DealStageChange(deal_id=tracked.id, from_stage="discovery", to_stage="proposal",
                                     changed_on=date(2026, 2, 1), source="app")])
    untracked = make_deal(session, acc, stage="negotiation", name="Acme renewal")
    make_deal(session, acc, outcome="won", closed_on=date(2026, 2, 1), name="Acme won")  # closed: not needed
    session.flush()
    deals = load_deals(session)
    h = load_stage_history(session, deals, date(2026, 3, 16))
    rows = sorted(zip(h.deal_id.tolist(), h.on.astype(str).tolist(), h.stage.tolist()))
    assert rows == [(tracked.id, "2026-01-05", "discovery"), (tracked.id, "2026-02-01", "proposal"),
                    (untracked.id, "2026-03-16", "negotiation")]
    at = h.stage_at(np.array([tracked.id, tracked.id, untracked.id]),
                    np.array(["2026-01-20", "2026-03-01", "2026-03-01"], dtype="datetime64[D]").astype(np.int64))
    assert at.tolist() == ["discovery", "proposal", None]  # today's stage is not known for 1 March


# --- the forecast learns from it -----------------------------------------------------------------
def pipeline(session) -> None:
    """A year of deals: those that reach negotiation are won within weeks, those that stall in discovery
    are lost. On 20 March two deals of the same age and amount are open, one in each stage."""
    acc = make_account(session)
    for k in range(24):
        created = date.fromordinal(date(2025, 3, 1).toordinal() + 15 * k)
        negotiating = k % 3 != 0
        closed = date.fromordinal(created.toordinal() + 40)
        d = make_deal(session, acc, amount="10000", outcome="won" if negotiating else "lost", created_on=created,
                      closed_on=closed, stage="won" if negotiating else "lost", name=f"deal {k}")
        session.add(DealStageChange(deal_id=d.id, to_stage="discovery", changed_on=created, source="app"))
        if negotiating:
            session.add(DealStageChange(deal_id=d.id, from_stage="discovery", to_stage="negotiation",
                                        changed_on=date.fromordinal(created.toordinal() + 10), source="app"))
    for name, stage in (("open in negotiation", "negotiation"), ("open in discovery", "discovery")):
        d = make_deal(session, acc, amount="10000", created_on=date(2026, 3, 1), stage=stage, name=name)
        session.add(DealStageChange(deal_id=d.id, to_stage="discovery", changed_on=date(2026, 3, 1), source="app"))
        if stage == "negotiation":
            session.add(DealStageChange(deal_id=d.id, from_stage="discovery", to_stage="negotiation",
                                        changed_on=date(2026, 3, 11), source="app"))
    session.flush()


def report(session, **kw):
    return forecast_report(session, as_of=date(2026, 3, 20), period="quarter", rng=np.random.default_rng(3),
                           config=ForecastConfig(draws=400), top=5, **kw)


def test_the_forecast_learns_win_rates_by_stage_from_the_recorded_history(session):
    pipeline(session)
    f = report(session)
    p = {d["name"]: (d["stage"], d["p_win_in_period"]) for d in f["what_stands_in_the_way"]["largest_open_deals"]}
    assert p["open in negotiation"][0] == "negotiation" and p["open in discovery"][0] == "discovery"
    assert p["open in negotiation"][1] > p["open in discovery"][1] + 0.15  # same age and amount: only the stage differs
    assert {c["stage"] for c in f["learned"]["cells"]} == {"discovery", "negotiation"}


def test_stage_changes_after_the_as_of_date_do_not_move_the_forecast(session):
    pipeline(session)
    before = report(session)
    late = session.scalar(select(Deal).where(Deal.name == "open in discovery"))
    move_deal(session, late, "negotiation", on=date(2026, 3, 25), source="app")
    move_deal(session, late, "won", on=date(2026, 3, 28), source="app")
    early = session.scalar(select(Deal).where(Deal.name == "deal 0"))
    session.add(DealStageChange(deal_id=early.id, from_stage="discovery", to_stage="negotiation",
                                changed_on=date(2026, 3, 21), source="history"))  # history dated after as-of
    session.flush()
    after = report(session)
    for key in ("expected", "p10", "p50", "p90", "learned"):
        assert after[key] == before[key], key
