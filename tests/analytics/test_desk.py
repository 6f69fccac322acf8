"""The analytics desk: questions are checked once when made (with the codes the faces show), one ``ask``
answers every question, and one cache keeps each answer per (question, data fingerprint)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from revteam.analytics.desk import ANSWERS, Desk
from revteam.analytics.questions import (
    Attribution,
    ContentPiece,
    ContentRoi,
    DealAttribution,
    Funnel,
    StageAttribution,
    attribution_question,
)
from revteam.analytics.revenue_questions import Backtest, Forecast, Outlook, Revenue
from revteam.errors import InvalidInput, NotFound
from revteam.store.models import Deal
from tests.integration.test_attribution_service import acme  # noqa: F401  (the worked-example fixture)

TODAY = date(2026, 3, 16)


@pytest.fixture
def desk(acme: Session) -> Any:  # noqa: F811
    engine = acme.get_bind()
    d = Desk(engine, sessionmaker(bind=engine, expire_on_commit=False), seed=0)
    yield d
    d.close()


@pytest.mark.parametrize("make,code,message", [
    (lambda: Funnel(by="shoe_size"), "bad_breakdown", "Unknown breakdown 'shoe_size'; pick one of: source"),
    (lambda: Funnel(mode="sideways"), "funnel_bad_mode", "Mode is one of cohort, period."),
    (lambda: Funnel.parse(start="2026-13-01"), "bad_date", "Start '2026-13-01' is not a date; use YYYY-MM-DD."),
    (lambda: Funnel.parse(end="tomorrow", label_style="option"), "bad_date", "--end 'tomorrow' is not a date"),
    (lambda: Attribution(grain="planet"), "bad_grain", "Unknown grain 'planet'"),
    (lambda: Attribution(model="astrology"), "bad_attribution_model", "Unknown model 'astrology'"),
    (lambda: Attribution(start=date(2026, 3, 1), end=date(2026, 2, 1)), "bad_attribution_period",
     "The period ends (2026-02-01) before it starts (2026-03-01)"),
    (lambda: StageAttribution.of("mql", today=TODAY, start=date(2026, 3, 1), end=date(2026, 2, 1)),
     "bad_attribution_period", "before it starts"),
    (lambda: attribution_question(today=TODAY, stage="mql", deal=1, label_style="option"), "bad_attribution_stage",
     "--deal explains a won deal's revenue; leave out --stage."),
    (lambda: ContentRoi(sort="vibes"), "bad_sort", "Unknown sort 'vibes'"),
    (lambda: ContentRoi.parse(month="March"), "bad_month", "Month 'March' is not a month; use YYYY-MM."),
    (lambda: ContentRoi(start=date(2026, 3, 10), end=date(2026, 3, 1)), "content_bad_window", "must end after it"),
    (lambda: Revenue.parse(today=TODAY, first="2026-13"), "bad_date", "--from '2026-13' is not a date"),
    (lambda: Revenue(today=TODAY, first=date(2026, 5, 1), last=date(2026, 4, 1)), "revenue_bad_range", "is after"),
    (lambda: Forecast(today=TODAY, period="year"), "bad_period", "use month or quarter"),
    (lambda: Forecast(today=TODAY, draws=10), "bad_draws", "at least 100"),
    (lambda: Backtest(today=TODAY, seed=-1), "bad_seed", "0 or more"),
])
def test_a_question_is_checked_when_it_is_made(make: Any, code: str, message: str) -> None:
    with pytest.raises(InvalidInput) as e:
        make()
    assert e.value.code == code and message in e.value.message


def test_every_question_has_an_answer() -> None:
    assert {Funnel, Attribution, StageAttribution, DealAttribution, ContentRoi, ContentPiece, Revenue, Forecast,
            Backtest, Outlook} <= set(ANSWERS)


def test_one_cache_per_data_fingerprint(desk: Any, acme: Session) -> None:  # noqa: F811
    first = desk.ask(Attribution("channel", model="w_shaped"))
    assert first.keys[0]["credit"]["w_shaped"] == max(r["credit"]["w_shaped"] for r in first.keys)
    assert desk.ask(Attribution("channel", model="w_shaped")) is first  # the same question: kept
    assert desk.ask(Attribution("channel", model="w_shaped", seed=0)) is first  # its seed is the desk's
    assert desk.cached(Attribution("channel"))
    assert first.total("linear") == pytest.approx(24000)
    globex = acme.query(Deal).filter_by(name="Globex pilot").one()  # a lost deal is won after all: the data move
    globex.outcome, globex.stage = "won", "won"
    acme.commit()
    assert not desk.cached(Attribution("channel"))
    again = desk.ask(Attribution("channel", model="w_shaped"))
    assert again is not first and again.total("linear") == pytest.approx(24000 + 9000)


def test_the_seed_setting_seeds_what_a_question_does_not(acme: Session) -> None:  # noqa: F811
    engine = acme.get_bind()
    desk = Desk(engine, sessionmaker(bind=engine), seed=5)
    try:
        assert desk.resolve(Forecast(today=TODAY)) == Forecast(today=TODAY, seed=5)
        assert desk.resolve(Forecast(today=TODAY, seed=2)).seed == 2
        assert desk.resolve(Funnel()) == Funnel()  # no random draws, no seed
        assert desk.ask(Attribution("content")).seed == 5
    finally:
        desk.close()


def test_answers_carry_their_sql_and_one_json(desk: Any) -> None:
    a = desk.ask(Attribution("campaign", model=None))
    data = a.to_dict(with_sql=True)
    assert data["credit"] == "won_revenue" and data["seed"] == 0 and data["deals"] == a.journeys
    assert any("FROM touchpoints" in s for s in data["sql"]) and "sql" not in a.to_dict()
    stage = desk.ask(StageAttribution.of("mql", today=date(2026, 3, 31), grain="channel", start=date(2026, 1, 1)))
    assert stage.conversions == 1 and stage.stage_label
    assert any("FROM stage_changes" in s for s in stage.sql)  # cut from the snapshot: the statements that read it
    with pytest.raises(InvalidInput, match="'disqualified' is a side state"):
        desk.ask(StageAttribution.of("disqualified", today=TODAY))


def test_a_deal_and_a_piece_that_do_not_exist_are_not_found(desk: Any) -> None:
    with pytest.raises(NotFound):
        desk.ask(DealAttribution(999_999))
    with pytest.raises(NotFound):
        desk.ask(ContentPiece(999_999))


def test_content_questions_share_the_credited_table(desk: Any) -> None:
    by_traffic = desk.ask(ContentRoi(sort="traffic"))
    by_credit = desk.ask(ContentRoi(sort="credited", model="linear"))
    assert by_traffic.result is by_credit.result  # one credited table, cut two ways
    linear = [p["credited"]["linear"] for p in by_credit.pieces]
    assert linear == sorted(linear, reverse=True)
    piece = desk.ask(ContentPiece(by_traffic.pieces[0]["content_id"]))
    assert {c["model"]: c["credit"] for c in piece.credits} == by_traffic.pieces[0]["credited"]
