"""Revenue against target, the forecast and its backtest with the deal scans on the engine
(``analytics/revenue_table.py``, ``revenue_months.py``, ``revenue.*_on``) equal the database path, on every
engine: the first quarter of the revenue tests, a seeded random company and the Maven CRM export."""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from revteam.analytics.revenue import (backtest_database, backtest_on, forecast_report, forecast_report_on, load_deals,
                                       load_deals_on, load_stage_history, load_targets, revenue_report)
from revteam.analytics.revenue_months import revenue_report_on
from revteam.analytics.revenue_table import deal_rows
from revteam.analytics.runner import Analytics
from revteam.domain.forecast import ForecastConfig
from revteam.services.record.lifecycle import seed_default_stages
from revteam.store.db import make_engine
from revteam.store.models import Account, Base, Deal, DealStageChange, Target, Team, User
from tests.analytics.conftest import cases
from tests.conftest import DATASETS
from tests.factories import make_account, make_deal, make_user
from tests.integration.test_revenue_service import first_quarter

CONFIG = ForecastConfig(draws=300)


def same(a, b, path="report"):
    """Equal, floats to a relative 1e-12 (sums of money in another order)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), path
        for k in a:
            same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-9), path
    else:
        assert a == b, path


def same_deals(a, b):
    for f in a.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)


def random_deals(s: Session, seed: int = 3) -> None:
    """Three teams (one user without a team, deals without an owner), 300 deals over 2025-2026 with cents,
    won, lost and open, some closed without a date, and recorded stage changes; targets by month and team."""
    rng = random.Random(seed)
    teams = [Team(name=n) for n in ("Americas", "EMEA", "APAC")]
    s.add_all(teams)
    s.flush()
    owners = [make_user(s, role="ae", team_id=t.id) for t in teams] + [make_user(s, role="ae"), None]
    accounts = [make_account(s, name=f"Account {i}") for i in range(60)]
    for n in range(300):
        created = date(2025, 1, 1) + timedelta(days=rng.randrange(0, 640))
        outcome = rng.choice(["won", "won", "lost", "open"])
        closed = created + timedelta(days=rng.randrange(0, 120)) if outcome != "open" else None
        if closed is not None and rng.random() < 0.03:
            closed = None  # a closed deal without a close date: undated
        owner = rng.choice(owners)
        d = make_deal(s, rng.choice(accounts), amount=f"{rng.randrange(500, 90000)}.{rng.randrange(100):02d}",
                      outcome=outcome, created_on=created, closed_on=closed, owner_id=owner.id if owner else None,
                      name=f"Deal {n}", stage=rng.choice(["discovery", "proposal", "negotiation"]) if outcome == "open"
                      else outcome)
        if rng.random() < 0.1:
            d.account_id = None
        for k in range(rng.randrange(0, 3)):
            s.add(DealStageChange(deal_id=d.id, to_stage=rng.choice(["discovery", "proposal", "negotiation"]),
                                  changed_on=created + timedelta(days=7 * k), source="test"))
    for m in range(1, 13):
        s.add(Target(metric="won_revenue", period_start=date(2026, m, 1),
                     period_end=(date(2026, m, 28) + timedelta(days=4)).replace(day=1) - timedelta(days=1),
                     value=Decimal(100_000 + m)))
    s.add(Target(metric="new_customers", period_start=date(2026, 1, 1), period_end=date(2026, 3, 31), team_id=teams[0].id,
                 value=Decimal(4)))
    s.commit()


def maven_deals(s: Session) -> None:
    """The Maven export as revteam deals: an account per account name, an owner per agent in a team per office."""
    d = DATASETS / "maven_crm_sales_opportunities"
    if not d.exists():
        pytest.skip(f"Maven data not found at {d}")
    rows = lambda name: list(csv.DictReader(open(d / name, newline="", encoding="utf-8")))  # noqa: E731
    price = {p["product"].replace(" ", "").lower(): p["sales_price"] for p in rows("products.csv")}
    agents = rows("sales_teams.csv")
    teams = {o: Team(name=o) for o in sorted({a["regional_office"] for a in agents})}
    s.add_all(teams.values())
    s.flush()
    users = {a["sales_agent"]: make_user(s, role="ae", name=a["sales_agent"], team_id=teams[a["regional_office"]].id)
             for a in agents}
    accounts: dict[str, int] = {}
    for name in sorted({r["account"] for r in rows("sales_pipeline.csv") if r["account"]}):
        accounts[name] = s.execute(insert(Account).returning(Account.id), [{"name": name, "domain": None,
                                                                             "created_at": datetime(2016, 1, 1, tzinfo=timezone.utc)}]).scalar()
    deals = []
    for r in rows("sales_pipeline.csv"):
        if not r["engage_date"]:
            continue
        outcome = {"Won": "won", "Lost": "lost"}.get(r["deal_stage"], "open")
        deals.append({"name": r["opportunity_id"], "external_id": r["opportunity_id"], "outcome": outcome,
                      "amount": Decimal(r["close_value"] if outcome == "won" else price[r["product"].replace(" ", "").lower()]),
                      "stage": r["deal_stage"], "created_on": date.fromisoformat(r["engage_date"]),
                      "closed_on": date.fromisoformat(r["close_date"]) if r["close_date"] else None,
                      "account_id": accounts.get(r["account"]), "owner_id": users[r["sales_agent"]].id})
    s.execute(insert(Deal), deals)
    s.commit()


def _company(tmp_path_factory, name, build, engine_name):
    eng = make_engine(f"sqlite:///{tmp_path_factory.mktemp(name) / 'company.db'}")
    Base.metadata.create_all(eng)
    with Session(eng) as s:
        seed_default_stages(s)
        build(s)
        s.commit()
    return eng, Analytics(eng, engine_name)


@pytest.fixture(scope="module", params=["first_quarter", "random", pytest.param("maven", marks=pytest.mark.datasets)])
def company(request, tmp_path_factory, engine_name):
    build = {"first_quarter": first_quarter, "random": random_deals, "maven": maven_deals}[request.param]
    eng, a = _company(tmp_path_factory, request.param, build, engine_name)
    with Session(eng) as s:
        yield request.param, s, a
    a.close()
    eng.dispose()


RANGES = {"first_quarter": [(date(2026, 3, 26), date(2026, 1, 1), date(2026, 3, 31)), (date(2026, 3, 26), None, None),
                            (date(2026, 3, 26), date(2026, 2, 15), date(2026, 2, 20))],
          "random": [(date(2026, 6, 30), None, None), (date(2026, 9, 1), date(2025, 2, 10), date(2026, 8, 15))],
          "maven": [(date(2017, 12, 31), date(2017, 3, 1), date(2017, 12, 31)), (date(2017, 12, 31), None, None)]}


def test_the_deal_table_and_stage_history_read_by_the_engine_equal_the_database(company):
    name, session, analytics = company
    deals = load_deals(session)
    same_deals(load_deals_on(analytics), deals)
    today = RANGES[name][0][0]
    got, _fp = analytics.arrow(lambda t: {"d": deal_rows(t)})
    assert got["d"].num_rows == len(deals)
    from revteam.analytics.revenue import _engine_inputs

    _d, history, _note = _engine_inputs(analytics, today)
    want = load_stage_history(session, deals, today)
    for f in ("deal_id", "on", "stage"):
        np.testing.assert_array_equal(getattr(history, f), getattr(want, f), err_msg=f)


def test_the_revenue_report_on_the_engine_equals_the_database_path(company):
    name, session, analytics = company
    targets = load_targets(session)
    for today, first, last in cases(analytics.engine_name, RANGES[name], RANGES[name][:1]):
        same(revenue_report_on(analytics, targets, today=today, first=first, last=last),
             revenue_report(session, today=today, first=first, last=last))


@pytest.mark.parametrize("company", ["first_quarter", "random"], indirect=True)  # Maven: from its files
def test_the_forecast_and_backtest_on_the_engine_equal_the_database_path(company):
    name, session, analytics = company
    today = RANGES[name][0][0]
    targets = load_targets(session)
    for period in cases(analytics.engine_name, ["month", "quarter"], ["quarter"]):
        same(forecast_report_on(analytics, targets, as_of=today, period=period, rng=np.random.default_rng(5),
                                config=CONFIG),
             forecast_report(session, as_of=today, period=period, rng=np.random.default_rng(5), config=CONFIG))
    if name == "first_quarter":
        a = backtest_on(analytics, today=date(2026, 4, 10), rng=np.random.default_rng(2), config=CONFIG)
        b = backtest_database(session, today=date(2026, 4, 10), rng=np.random.default_rng(2), config=CONFIG)
        assert a.rows == b.rows and a.summary == b.summary
