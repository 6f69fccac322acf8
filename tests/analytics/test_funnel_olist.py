"""Funnel and velocity on the real Olist data equal a hand-written pandas computation, on every engine."""

from __future__ import annotations

import pandas as pd
import pytest

from revteam.analytics.funnel import FunnelSpec
from tests.conftest import DATASETS

pytestmark = pytest.mark.datasets


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    d = DATASETS / "olist_marketing_funnel"
    mql = pd.read_csv(d / "olist_marketing_qualified_leads_dataset.csv", parse_dates=["first_contact_date"])
    won = pd.read_csv(d / "olist_closed_deals_dataset.csv", parse_dates=["won_date"])
    df = mql.merge(won[["mql_id", "won_date"]], on="mql_id", how="left")
    df["origin"] = df["origin"].fillna("(none)")
    return df


def test_mql_to_won_overall_and_per_origin(olist, reference):
    r = olist.funnel(FunnelSpec(stages=("mql", "customer"), breakdown="source"))
    ours = {row["group"]: (row["entered"], row["converted"]) for row in r.rows("conversion")}
    ref = reference.groupby("origin").agg(entered=("mql_id", "count"), converted=("won_date", "count"))
    assert ours == {k: (int(v.entered), int(v.converted)) for k, v in ref.iterrows()}
    overall = olist.funnel(FunnelSpec(stages=("mql", "customer")))
    [row] = overall.rows("conversion")
    assert (row["entered"], row["converted"]) == (len(reference), int(reference["won_date"].notna().sum()))
    assert row["rate"] == pytest.approx(842 / 8000)


def test_median_days_from_mql_to_won(olist, reference):
    [v] = olist.funnel(FunnelSpec(stages=("mql", "customer"))).rows("velocity")
    # reaching MQL = first contact, or the win if that came first (one deal is won 2 days before its
    # lead's first contact: progress is monotone, so that lead reached MQL when it was won)
    won = reference.dropna(subset=["won_date"])
    won_day = won["won_date"].dt.normalize()  # a deal closes on a date: the customer move is at its midnight
    mql_at = pd.concat([won["first_contact_date"], won_day], axis=1).min(axis=1)
    days = (won_day - mql_at).dt.total_seconds() / 86400
    assert v["contacts"] == 842
    assert v["median_days"] == pytest.approx(days.median(), abs=1e-9)
    assert v["mean_days"] == pytest.approx(days.mean(), abs=1e-9)
    assert round(v["median_days"]) == 14  # the dataset's documented median lag


def test_monthly_cohorts_add_up(olist, reference):
    r = olist.funnel(FunnelSpec(stages=("mql", "customer"), breakdown="month"))
    rows = r.rows("conversion")
    assert sum(x["entered"] for x in rows) == 8000 and sum(x["converted"] for x in rows) == 842
    first = pd.concat([reference["first_contact_date"], reference["won_date"].dt.normalize()], axis=1).min(axis=1)
    ref = reference.assign(m=first.dt.to_period("M").astype(str))
    ref = ref.groupby("m").agg(entered=("mql_id", "count"))
    assert {x["group"][:7]: x["entered"] for x in rows} == {k: int(v.entered) for k, v in ref.iterrows()}


def test_every_answer_shows_its_sql(olist):
    r = olist.funnel(FunnelSpec(stages=("mql", "customer")))
    assert all("SELECT" in q.sql for q in r.queries.values())
    out = r.to_dict(with_sql=True)
    # one statement answers entered, conversion and velocity; on DuckDB it reads the kept progress table,
    # and the statement that made it is shown too
    assert set(out["sql"]) == ({"progress", "funnel"} if r.engine == "duckdb" else {"funnel"})
    assert {"entered", "conversion", "velocity"} <= set(out) and "funnel" not in out
