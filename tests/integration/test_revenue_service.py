"""Revenue against target, the forecast and its backtest, read from SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import numpy as np
import pytest
import typer
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from revteam.cli.revenue import forecast_command, revenue_command
from revteam.domain.forecast import ForecastConfig, InsufficientHistory
from revteam.domain.revenue import NO_TEAM
from revteam.runtime import build_runtime
from revteam.analytics.revenue import backtest_database, forecast_report, load_deals, revenue_report
from revteam.store.models import Target, Team
from tests.factories import make_account, make_deal, make_user

CONFIG = ForecastConfig(draws=500)


def first_quarter(session: Session) -> None:
    """Two teams' first quarter of 2026 (the worked example of domain/revenue.py, plus open deals).

    Acme (Ana, Americas) wins 10,000 on 10 Feb and 5,000 on 3 Mar; Birch (Ben, EMEA) wins 8,000 on 20 Mar;
    Cobalt (Ben) is lost on 10 Mar; Delta has two open deals, 30,000 (Ana) and 12,000 (no owner).
    Targets: won revenue 1,000 / 12,000 / 15,000 in January / February / March and 20,000 for the
    Americas in Q1; new customers 3 in Q1.
    """
    americas, emea = Team(name="Americas", function="sales"), Team(name="EMEA", function="sales")
    session.add_all([americas, emea])
    session.flush()
    ana = make_user(session, role="ae", name="Ana Ortega", team_id=americas.id)
    ben = make_user(session, role="ae", name="Ben Okafor", team_id=emea.id)
    acme, birch = make_account(session, name="Acme Rockets"), make_account(session, name="Birch Labs")
    cobalt, delta = make_account(session, name="Cobalt Retail"), make_account(session, name="Delta Freight")
    make_deal(session, acme, amount="10000", outcome="won", created_on=date(2026, 1, 5), closed_on=date(2026, 2, 10),
              owner_id=ana.id)
    make_deal(session, acme, amount="5000", outcome="won", created_on=date(2026, 2, 1), closed_on=date(2026, 3, 3),
              owner_id=ana.id, name="Acme Rockets expansion")
    make_deal(session, birch, amount="8000", outcome="won", created_on=date(2026, 2, 20), closed_on=date(2026, 3, 20),
              owner_id=ben.id)
    make_deal(session, cobalt, amount="20000", outcome="lost", created_on=date(2026, 2, 1),
              closed_on=date(2026, 3, 10), owner_id=ben.id)
    make_deal(session, delta, amount="30000", created_on=date(2026, 3, 1), owner_id=ana.id, stage="proposal")
    make_deal(session, delta, amount="12000", created_on=date(2026, 3, 25), stage="discovery",
              name="Delta Freight pilot")
    for metric, start, end, team, value in (
        ("won_revenue", date(2026, 1, 1), date(2026, 1, 31), None, 1_000),
        ("won_revenue", date(2026, 2, 1), date(2026, 2, 28), None, 12_000),
        ("won_revenue", date(2026, 3, 1), date(2026, 3, 31), None, 15_000),
        ("won_revenue", date(2026, 1, 1), date(2026, 3, 31), americas.id, 20_000),
        ("new_customers", date(2026, 1, 1), date(2026, 3, 31), None, 3),
    ):
        session.add(Target(metric=metric, period_start=start, period_end=end, team_id=team, value=Decimal(value)))
    session.flush()


def test_deals_read_with_their_owners_team(session):
    first_quarter(session)
    deals = load_deals(session)
    assert len(deals) == 6
    assert set(deals.team) == {"Americas", "EMEA", NO_TEAM}
    assert deals.amount.sum() == 85_000 and int((deals.outcome == 0).sum()) == 2


def test_revenue_against_target_by_month_quarter_and_team(session):
    first_quarter(session)
    r = revenue_report(session, today=date(2026, 3, 26), first=date(2026, 1, 1), last=date(2026, 3, 31))
    months = {m["month"]: m for m in r["months"]}
    assert [months[date(2026, m, 1)]["won_revenue"] for m in (1, 2, 3)] == [0, 10_000, 13_000]
    march = months[date(2026, 3, 1)]
    assert march["target"] == 15_000 and march["attainment"] == pytest.approx(13_000 / 15_000)
    assert march["win_rate"] == pytest.approx(2 / 3) and march["cycle_median_days"] == 29  # 30 and 28 days
    assert march["new_customers"] == 1  # Birch; Acme first won in February
    (q1,) = r["quarters"]
    assert (q1["actual"], q1["target"], q1["target_source"]) == (23_000, 28_000, "sum of months")
    teams = {t["team"]: t for t in r["teams"]}
    assert (teams["Americas"]["actual"], teams["Americas"]["target"], teams["Americas"]["target_source"]) == \
        (15_000, 20_000, "set")
    assert (teams["EMEA"]["actual"], teams["EMEA"]["target"]) == (8_000, None)
    assert teams[NO_TEAM]["actual"] == 0
    kpi = r["unified_kpi"]
    assert (kpi["quarters"][0]["actual"], kpi["quarters"][0]["target"]) == (2, 3)
    assert {t["team"]: t["actual"] for t in kpi["teams"]} == {"Americas": 1, "EMEA": 1, NO_TEAM: 0}
    assert r["win_rate"] == pytest.approx(3 / 4)
    assert r["currencies"] == ["USD"] and r["currency_warning"] is None


def test_more_than_one_currency_is_reported(session):
    first_quarter(session)
    euro = make_deal(session, make_account(session, name="Euro Gmbh"), amount="9000", outcome="won",
                     created_on=date(2026, 3, 1), closed_on=date(2026, 3, 5))
    euro.currency = "EUR"
    session.flush()
    r = revenue_report(session, today=date(2026, 3, 26))
    assert r["currencies"] == ["EUR", "USD"] and "without conversion" in r["currency_warning"]


def test_forecast_to_the_end_of_the_month_and_quarter(session):
    first_quarter(session)
    for period in ("month", "quarter"):
        f = forecast_report(session, as_of=date(2026, 3, 26), period=period, rng=np.random.default_rng(1),
                            config=CONFIG, top=5)
        assert (f["period_start"], f["period_end"], f["days_left"]) == (
            (date(2026, 3, 1) if period == "month" else date(2026, 1, 1)), date(2026, 3, 31), 5)
        assert f["won_so_far"] == (13_000 if period == "month" else 23_000)
        assert f["won_so_far"] <= f["p10"] <= f["p50"] <= f["p90"]
        if not f["expected_from_new_deals"]:
            assert f["p90"] <= f["won_so_far"] + 42_000  # at most every open deal
        assert f["expected"] == pytest.approx(f["won_so_far"] + f["expected_from_open_deals"]
                                              + f["expected_from_new_deals"])
        assert f["open_deals"] == 2 and f["open_amount"] == 42_000 and f["draws"] == 500
        assert f["history_start"] == date(2026, 2, 10) and f["learned"]["windows"] == "sliding"
        w = f["what_stands_in_the_way"]
        assert [d["amount"] for d in w["largest_open_deals"]] == [30_000, 12_000]
        assert w["largest_open_deals"][0]["stage"] == "proposal" and w["largest_open_deals"][0]["team"] == "Americas"
        assert set(f["baselines"]) == {"run_rate", "pace", "last_period"}
    month = forecast_report(session, as_of=date(2026, 3, 26), period="month", rng=np.random.default_rng(1),
                            config=CONFIG)
    assert month["target"] == 15_000 and month["what_stands_in_the_way"]["gap_now"] == 2_000
    assert month["what_stands_in_the_way"]["deals_needed"] == 1
    assert month["unified_kpi"] == {"metric": "new_customers", "so_far": 1, "target": None}


def test_a_forecast_without_enough_history_says_so(session):
    first_quarter(session)
    with pytest.raises(InsufficientHistory, match="history starts on 2026-02-10"):
        forecast_report(session, as_of=date(2026, 2, 20), period="quarter", rng=np.random.default_rng(1),
                        config=CONFIG)


def test_backtest_on_the_database(session):
    first_quarter(session)
    bt = backtest_database(session, today=date(2026, 4, 10), rng=np.random.default_rng(2), config=CONFIG)
    assert [(r.made_on, r.horizon) for r in bt.rows] == [(date(2026, 3, 15), "month"), (date(2026, 3, 15), "quarter")]
    assert [r.actual for r in bt.rows] == [13_000, 23_000]
    assert bt.summary["month"]["forecasts"] == 1


@pytest.fixture
def cli(db_env):
    """``revteam revenue`` and ``revteam forecast`` on a database holding the first quarter."""
    rt = build_runtime()
    with rt.sessions() as s:
        first_quarter(s)
        s.commit()
    rt.engine.dispose()
    app = typer.Typer()
    app.command("revenue")(revenue_command)
    app.command("forecast")(forecast_command)
    return lambda args: CliRunner().invoke(app, args, catch_exceptions=False)


def test_the_commands_print_tables_and_json(cli):
    r = cli(["revenue", "--from", "2026-01", "--to", "2026-03", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["quarters"][0]["actual"] == 23_000
    r = cli(["revenue", "--from", "2026-01", "--to", "2026-03"])
    assert r.exit_code == 0 and "2026 Q1" in r.stdout and "Americas" in r.stdout
    args = ["forecast", "--as-of", "2026-03-26", "--draws", "300"]
    r = cli([*args, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["won_so_far"] == 13_000
    r = cli(args)
    assert r.exit_code == 0 and "What stands in the way" in r.stdout and "Delta Freight" in r.stdout
    r = cli(["forecast", "--backtest", "--as-of", "2026-04-10", "--draws", "300", "--markdown"])
    assert r.exit_code == 0 and "#### Forecast to the end of the quarter" in r.stdout
    r = cli(["forecast", "--period", "year"])
    assert r.exit_code == 2 and "use month or quarter" in r.output
    r = cli(["forecast", "--as-of", "2026-02-20", "--period", "quarter"])
    assert r.exit_code == 2 and "forecast_insufficient_history" in r.output


def test_show_sql_lists_the_statements_that_read_the_data(cli):
    forecast = ["forecast", "--as-of", "2026-03-26", "--draws", "300"]
    r = cli([*forecast, "--json", "--show-sql"])
    assert r.exit_code == 0, r.output
    sql = json.loads(r.stdout)["sql"]
    assert any("FROM deals" in q for q in sql) and any("FROM deal_stage_changes" in q for q in sql)
    assert any("FROM targets" in q for q in sql) and len(sql) == len(set(sql))
    assert "sql" not in json.loads(cli([*forecast, "--json"]).stdout)
    r = cli([*forecast, "--show-sql"])
    assert r.exit_code == 0 and "SQL statement(s) read the deals" in r.stdout
    assert '"deal_stage_changes"' in r.stdout and "on duckdb" in r.stdout  # the engine's scan of the stage history
    r = cli(["revenue", "--from", "2026-01", "--to", "2026-03", "--json", "--show-sql"])
    assert r.exit_code == 0 and any("FROM targets" in q for q in json.loads(r.stdout)["sql"])
    r = cli(["revenue", "--show-sql"])
    assert r.exit_code == 0 and 'SELECT DISTINCT "t0"."currency" FROM "deals"' in r.stdout
    r = cli(["forecast", "--backtest", "--as-of", "2026-04-10", "--draws", "300", "--json", "--show-sql"])
    assert r.exit_code == 0 and any("FROM deal_stage_changes" in q for q in json.loads(r.stdout)["sql"])
