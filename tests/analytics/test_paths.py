"""Attribution journeys built by the engine (``analytics/paths.py``) equal the database builders
(``analytics/attribution.revenue_journeys``, ``analytics/stage_journeys.stage_journeys``), journey for journey,
touch for touch, with the same credits, on every engine: the worked example, a seeded random company and
the Olist data."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from revteam.analytics import attribution as A
from revteam.analytics.paths import revenue_journeys_on, stage_journeys_on
from revteam.analytics.runner import Analytics
from revteam.analytics.stage_journeys import day_bounds, stage_journeys
from revteam.domain.attribution import MODELS
from revteam.errors import InvalidInput
from revteam.services.record.lifecycle import seed_default_stages
from revteam.store.db import make_engine
from revteam.store.models import Base
from tests.analytics.conftest import cases
from tests.integration.test_attribution_cache import same_journeys
from tests.integration.test_attribution_service import acme_company
from tests.integration.test_stage_journeys import PERIODS, random_company

WINDOWS = [(None, None), (date(2026, 3, 1), None), (None, date(2026, 3, 5)), (date(2026, 3, 3), date(2026, 3, 10)),
           (date(2026, 4, 1), date(2026, 4, 30))]
STAGES = ("lead", "mql", "opportunity", "customer")


def _company(tmp_path_factory, name, build, engine_name):
    eng = make_engine(f"sqlite:///{tmp_path_factory.mktemp(name) / 'company.db'}")
    Base.metadata.create_all(eng)
    with Session(eng) as s:
        seed_default_stages(s)
        s.commit()
        build(s)
    a = Analytics(eng, engine_name)
    return eng, a


@pytest.fixture(scope="module")
def acme(tmp_path_factory, engine_name):
    eng, a = _company(tmp_path_factory, "acme", acme_company, engine_name)
    with Session(eng) as s:
        yield s, a
    a.close()
    eng.dispose()


@pytest.fixture(scope="module")
def randomco(tmp_path_factory, engine_name):
    eng, a = _company(tmp_path_factory, "random", random_company, engine_name)
    with Session(eng) as s:
        yield s, a
    a.close()
    eng.dispose()


def same_answers(got: A.JourneySet, want: A.JourneySet, measure: str = "value") -> None:
    same_journeys(got, want)
    for model in MODELS:
        assert A.credit_rows(got, model, measure, **A.model_params(model)) == \
            A.credit_rows(want, model, measure, **A.model_params(model)), model


@pytest.mark.parametrize("grain", A.GRAINS)
def test_revenue_journeys_on_the_engine_equal_the_database_build(acme, grain):
    session, analytics = acme
    for start, end in cases(analytics.engine_name, WINDOWS, [WINDOWS[0], WINDOWS[3]]):
        got = revenue_journeys_on(analytics, grain=grain, start=start, end=end)
        same_answers(got, A.revenue_journeys(session, grain=grain, start=start, end=end))
    won_only = revenue_journeys_on(analytics, grain=grain, include_lost=False, lookback_days=30)
    same_journeys(won_only, A.revenue_journeys(session, grain=grain, include_lost=False, lookback_days=30))
    assert A.sourced_and_influenced(revenue_journeys_on(analytics, grain=grain)) == \
        A.sourced_and_influenced(A.revenue_journeys(session, grain=grain))


def test_the_worked_example_on_the_engine(acme):
    _session, analytics = acme
    js = revenue_journeys_on(analytics)
    row = [s["name"] for s in js.subjects].index("Acme platform")
    assert js.journeys.path(row) == ["paid_search", "webinar", "email", "direct", "email"]
    assert {r["key"]: r["credit"] for r in A.credit_rows(js, "w_shaped")} == pytest.approx(
        {"paid_search": 7200, "webinar": 7200, "direct": 7200, "email": 2400})
    assert [u["name"] for u in js.unattributed] == ["Initech renewal"]


@pytest.mark.parametrize("grain", A.GRAINS)
def test_stage_journeys_on_the_engine_equal_the_database_build(acme, randomco, grain):
    q1 = (date(2026, 1, 1), date(2026, 3, 31))
    for session, analytics in (acme, randomco):
        periods = PERIODS if session is randomco[0] else [PERIODS[0], q1]  # the worked example: Q1 2026
        every = [(stage, period) for stage in STAGES for period in (periods if q1 in periods else periods + [q1])]
        spark = [(st, p) for st in ("mql", "customer") for p in (PERIODS[0], q1)] if grain == "channel" else \
            [("customer", PERIODS[0])]
        for stage, (first, last) in cases(analytics.engine_name, every, spark):
            start, end = day_bounds(first, last)
            got = stage_journeys_on(analytics, stage, grain=grain, start=start, end=end)
            same_answers(got, stage_journeys(session, stage, grain=grain, start=start, end=end), "conversions")


def test_revenue_journeys_of_the_random_company(randomco):
    session, analytics = randomco
    for grain in A.GRAINS:
        same_answers(revenue_journeys_on(analytics, grain=grain), A.revenue_journeys(session, grain=grain))


def test_the_engine_builders_refuse_what_the_database_builders_refuse(acme):
    _session, analytics = acme
    start, end = day_bounds(date(2026, 1, 1), date(2026, 1, 31))
    with pytest.raises(InvalidInput, match="Unknown grain"):
        revenue_journeys_on(analytics, grain="persona")
    with pytest.raises(InvalidInput, match="'recycled' is a side state"):
        stage_journeys_on(analytics, "recycled", start=start, end=end)
    with pytest.raises(InvalidInput, match="The period must end after it starts"):
        stage_journeys_on(analytics, "mql", start=end, end=start)
    with pytest.raises(InvalidInput, match="before it starts"):
        revenue_journeys_on(analytics, start=date(2026, 2, 1), end=date(2026, 1, 1))


@pytest.mark.datasets
def test_olist_journeys_on_the_engine_equal_the_database_build(olist):
    with Session(olist.sql_engine) as session:
        start, end = day_bounds(date(2017, 1, 1), date(2018, 12, 31))
        for grain in cases(olist.engine_name, list(A.GRAINS), ["channel", "content"]):
            same_answers(revenue_journeys_on(olist, grain=grain), A.revenue_journeys(session, grain=grain))
            got = stage_journeys_on(olist, "customer", grain=grain, start=start, end=end)
            same_answers(got, stage_journeys(session, "customer", grain=grain, start=start, end=end), "conversions")
