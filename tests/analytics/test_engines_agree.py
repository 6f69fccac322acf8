"""Every engine gives DuckDB's answers: the funnel, content ROI, attribution journeys, revenue and the handoff
reports on the demo company, asked of the engine under test and of DuckDB in the same run. On the cluster
tier it also checks that the work really ran on the cluster: the session's master is the cluster's, and the
master lists revteam as an application with an executor on the worker."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from revteam.analytics import attribution as A
from revteam.analytics.content import ContentSpec
from revteam.analytics.engines import spark_session
from revteam.analytics.funnel import FunnelSpec
from revteam.analytics.handoff_table import rejection_analytics_on, sla_compliance_on
from revteam.analytics.paths import revenue_journeys_on, stage_journeys_on
from revteam.analytics.revenue import load_targets
from revteam.analytics.revenue_months import revenue_report_on
from revteam.analytics.runner import Analytics
from revteam.analytics.stage_journeys import day_bounds
from revteam.config import get_settings
from revteam.store.db import make_engine
from tests.analytics.conftest import DEMO_NOW
from tests.analytics.test_revenue_table import same
from tests.integration.test_attribution_cache import same_journeys


@pytest.fixture(scope="module")
def on_duckdb(demo_url):
    a = Analytics(make_engine(demo_url), "duckdb")
    yield a
    a.close()


def questions(a: Analytics, session: Session) -> dict[str, object]:
    today = DEMO_NOW.date()
    start, end = day_bounds(today - timedelta(days=89), today)
    return {
        "funnel": a.funnel(FunnelSpec(stages=("lead", "mql", "sql", "customer"), breakdown="source",
                                      start=date(2025, 6, 1), end=date(2026, 3, 1))).derived,
        "content": {n: q.rows for n, q in a.content_roi(ContentSpec(start=date(2025, 9, 1))).queries.items()},
        "revenue": revenue_report_on(a, load_targets(session), today=today),
        "sla": sla_compliance_on(a, session, now=DEMO_NOW, days=90, by="team"),
        "rejections": rejection_analytics_on(a, now=DEMO_NOW, days=365, by="reason"),
        "revenue_journeys": revenue_journeys_on(a, grain="campaign"),
        "stage_journeys": stage_journeys_on(a, "sql", start=start, end=end),
    }


def test_the_engine_agrees_with_duckdb_on_the_demo_company(demo, on_duckdb, request):
    with Session(demo.sql_engine) as session:
        got, want = questions(demo, session), questions(on_duckdb, session)
    for name in ("revenue_journeys", "stage_journeys"):
        same_journeys(got.pop(name), want.pop(name))  # type: ignore[arg-type]
    same(got, want)
    assert got["funnel"]["conversion"] and got["content"]["pieces"] and got["rejections"]
    if request.node.callspec.params["engine_name"] == "spark_cluster":
        cluster = request.getfixturevalue("spark_cluster")
        s = get_settings()
        session = spark_session(s.spark_master, remote=s.spark_remote, conf=s.spark_conf)
        assert session.sparkContext.master == cluster.master_url
        status = cluster.status()
        apps = [app for app in status["activeapps"] if app["name"] == "revteam"]
        assert apps and apps[0]["cores"] >= 1, status
        assert status["aliveworkers"] == 1 and status["coresused"] >= 1


def test_a_model_answer_is_the_same_on_every_engine(demo, on_duckdb):
    js, ref = revenue_journeys_on(demo, grain="channel"), revenue_journeys_on(on_duckdb, grain="channel")
    for model in ("w_shaped", "markov", "shapley"):
        assert A.credit_rows(js, model, **A.model_params(model)) == A.credit_rows(ref, model, **A.model_params(model))
