"""Revenue metrics and the forecast backtest on the Maven CRM export, against a hand-written pandas reference."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from revteam.cli.revenue import backtest_markdown, forecast_command
from revteam.domain.forecast import ForecastConfig
from revteam.domain.revenue import new_customers, revenue_by_month, sales_cycle, spans, win_rate, won_revenue
from revteam.analytics.revenue import backtest_maven, deals_from_maven

pytestmark = pytest.mark.datasets
FIRST, LAST = date(2017, 3, 1), date(2017, 12, 31)


@pytest.fixture
def maven(datasets):
    return datasets / "maven_crm_sales_opportunities"


@pytest.fixture
def reference(maven) -> pd.DataFrame:
    """The pipeline as pandas reads it: closed deals are Won or Lost, dated by close_date."""
    df = pd.read_csv(maven / "sales_pipeline.csv", parse_dates=["engage_date", "close_date"])
    df["month"] = df["close_date"].dt.to_period("M")
    return df


def test_the_export_reads_as_deals(maven, reference):
    loaded = deals_from_maven(maven)
    assert loaded.left_out == {"no_engage_date": 500}  # every Prospecting deal
    assert len(loaded.deals) == 8300
    counts = reference["deal_stage"].value_counts()
    assert int((loaded.deals.outcome == 1).sum()) == counts["Won"] == 4238
    assert int((loaded.deals.outcome == 2).sum()) == counts["Lost"]


def test_revenue_per_month_matches_pandas(maven, reference):
    deals = deals_from_maven(maven).deals
    won = reference[reference["deal_stage"] == "Won"]
    expected = won.groupby("month")["close_value"].sum()
    got = dict(revenue_by_month(deals, FIRST, LAST))
    assert len(got) == len(expected) == 10
    for period, value in expected.items():
        assert got[period.start_time.date()] == pytest.approx(value)
    assert won_revenue(deals, FIRST, LAST) == pytest.approx(won["close_value"].sum()) == pytest.approx(10_005_534)


def test_win_rate_matches_pandas_overall_and_by_month(maven, reference):
    deals = deals_from_maven(maven).deals
    closed = reference[reference["deal_stage"].isin(["Won", "Lost"])]
    assert win_rate(deals, FIRST, LAST) == pytest.approx((closed["deal_stage"] == "Won").mean())
    by_month = closed.groupby("month")["deal_stage"].apply(lambda s: (s == "Won").mean())
    for (start, end), (_, rate) in zip(spans("month", FIRST, LAST), by_month.items()):
        assert win_rate(deals, start, end) == pytest.approx(rate)


def test_sales_cycle_matches_pandas_overall_and_by_month(maven, reference):
    deals = deals_from_maven(maven).deals
    won = reference[reference["deal_stage"] == "Won"].copy()
    won["days"] = (won["close_date"] - won["engage_date"]).dt.days
    whole = sales_cycle(deals, FIRST, LAST)
    assert whole.deals == len(won)
    assert (whole.median, whole.p75, whole.p90) == pytest.approx(
        (won["days"].median(), won["days"].quantile(0.75), won["days"].quantile(0.90)))
    for (start, end), (_, days) in zip(spans("month", FIRST, LAST), won.groupby("month")["days"]):
        c = sales_cycle(deals, start, end)
        assert (c.median, c.p75, c.p90) == pytest.approx((days.median(), days.quantile(0.75), days.quantile(0.9)))


def test_new_customers_match_pandas(maven, reference):
    deals = deals_from_maven(maven).deals
    won = reference[reference["deal_stage"] == "Won"]
    first = won.groupby("account")["close_date"].min().dt.to_period("M").value_counts()
    for (start, end) in spans("month", FIRST, LAST):
        assert new_customers(deals, start, end) == first.get(pd.Period(start, "M"), 0)
    assert new_customers(deals, FIRST, LAST) == won["account"].nunique() == 85


def test_backtest_runs_and_has_the_expected_rows(maven, reference):
    bt = backtest_maven(maven, rng=np.random.default_rng(0), config=ForecastConfig(draws=300))
    month = [r.made_on for r in bt.rows if r.horizon == "month"]
    quarter = [r.made_on for r in bt.rows if r.horizon == "quarter"]
    # the history (the first close) starts on 1 March 2017: a forecast needs a full window of it before
    assert month == [date(2017, m, d) for m in range(4, 13) for d in (1, 15)]
    assert quarter == [date(2017, 5, 15), date(2017, 6, 1), date(2017, 6, 15),
                       *[date(2017, m, d) for m in range(7, 13) for d in (1, 15)]]
    won = reference[reference["deal_stage"] == "Won"]
    for r in bt.rows:
        in_period = won[(won["close_date"].dt.date >= r.period_start) & (won["close_date"].dt.date <= r.period_end)]
        assert r.actual == pytest.approx(in_period["close_value"].sum())
        assert r.p10 <= r.p50 <= r.p90 and r.won_so_far <= r.p10
        assert set(r.baselines) == {"run_rate", "pace", "last_period"}
    s = bt.summary
    assert set(s) == {"month", "quarter"}
    assert s["month"]["forecasts"] == 18 and s["quarter"]["forecasts"] == 15
    assert s["month"]["model"]["mape"] < 0.5 and s["quarter"]["model"]["mape"] < 0.3  # sane, not a claim of skill
    text = backtest_markdown(bt)
    assert "#### Forecast to the end of the month" in text and "| quarter | run rate | 15 |" in text


def test_the_backtest_is_one_command(maven):
    app = typer.Typer()
    app.command()(forecast_command)
    r = CliRunner().invoke(app, ["--maven", str(maven), "--draws", "200", "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert len(data["rows"]) == 33 and data["summary"]["quarter"]["forecasts"] == 15
