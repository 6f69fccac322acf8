"""Content ROI with revenue credited under each model: the worked example of analytics/content_credit.py,
computed by hand, through the analytics runner (every engine) and the attribution cache."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy.orm import sessionmaker

from revteam.analytics.content import ContentSpec
from revteam.analytics.runner import Analytics
from revteam.analytics.snapshot import fingerprint
from revteam.domain.attribution import MODELS
from revteam.analytics.attribution_cache import AttributionCache
from revteam.analytics.content_credit import content_roi, deals_closed_in, merge_credit
from revteam.services.record.lifecycle import seed_default_stages
from revteam.store.db import make_engine, make_session_factory
from revteam.store.models import Base, StageChange
from tests.factories import make_account, make_contact, make_content, make_deal, make_touch


def at(m: int, d: int, h: int = 10) -> datetime:
    return datetime(2026, m, d, h, tzinfo=timezone.utc)


def test_merge_puts_every_model_on_every_piece_and_skips_none() -> None:
    pieces = [{"content_id": 1, "title": "Pricing article"}, {"content_id": 2, "title": "Old post"}]
    credits = {"linear": {"1": 9600.0, "(none)": 4800.0}, "w_shaped": {"1": 8400.0, "(none)": 1200.0}}
    merged = merge_credit(pieces, credits)
    assert merged == [{"content_id": 1, "title": "Pricing article", "credited": {"linear": 9600.0, "w_shaped": 8400.0}},
                      {"content_id": 2, "title": "Old post", "credited": {"linear": 0.0, "w_shaped": 0.0}}]
    assert "credited" not in pieces[0]  # the runner's cached rows are left alone


def test_a_content_window_credits_the_deals_closed_in_it() -> None:
    assert deals_closed_in(ContentSpec(start=date(2026, 3, 1), end=date(2026, 4, 1))) == (date(2026, 3, 1),
                                                                                          date(2026, 3, 31))
    assert deals_closed_in(ContentSpec()) == (None, None)


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory, engine_name: str):
    """Deal "Acme platform" $24,000 won 10 March; Ana's touches: pricing article (5 Jan, first), webinar
    recording (12 Jan, then she becomes a lead), a page with no content (20 Jan), case study (1 Feb, the
    deal's creation day), pricing article again (1 March, close). "Old post" is never read."""
    url = f"sqlite:///{tmp_path_factory.mktemp('credit') / 'credit.db'}"
    eng = make_engine(url)
    Base.metadata.create_all(eng)
    with make_session_factory(eng)() as s:
        seed_default_stages(s)
        pricing = make_content(s, title="Pricing article")
        webinar = make_content(s, title="Webinar recording", type="webinar_recording")
        case = make_content(s, title="Case study", type="case_study")
        old = make_content(s, title="Old post", category="best_of")
        acc = make_account(s)
        ana = make_contact(s, first_name="Ana", account_id=acc.id)
        make_touch(s, ana, type="content_download", at=at(1, 5), content_id=pricing.id)
        make_touch(s, ana, type="webinar_attended", at=at(1, 12), content_id=webinar.id)
        s.add(StageChange(contact_id=ana.id, from_stage="subscriber", to_stage="lead", changed_at=at(1, 12, 11)))
        make_touch(s, ana, type="page_view", at=at(1, 20))
        make_touch(s, ana, type="content_download", at=at(2, 1), content_id=case.id)
        make_touch(s, ana, type="page_view", at=at(3, 1), content_id=pricing.id)
        make_deal(s, acc, name="Acme platform", amount="24000", outcome="won", contacts=[ana],
                  created_on=date(2026, 2, 1), closed_on=date(2026, 3, 10))
        s.commit()
        ids = {"pricing": pricing.id, "webinar": webinar.id, "case": case.id, "old": old.id}
    analytics = Analytics(eng, engine_name)
    cache = AttributionCache(sessionmaker(bind=eng), lambda: fingerprint(eng))
    yield analytics, cache, ids
    analytics.close()
    eng.dispose()


def test_revenue_credited_to_each_piece_under_each_model(acme) -> None:
    analytics, cache, ids = acme
    result = content_roi(analytics, cache, ContentSpec())
    by_id = {p["content_id"]: p for p in result.rows("pieces")}
    assert result.meta["models"] == list(MODELS)
    assert set(by_id[ids["pricing"]]["credited"]) == set(MODELS)
    w = {name: by_id[i]["credited"]["w_shaped"] for name, i in ids.items()}
    assert w == pytest.approx({"pricing": 8400, "webinar": 7200, "case": 7200, "old": 0})  # (none) gets 1,200
    linear = {name: by_id[i]["credited"]["linear"] for name, i in ids.items()}
    assert linear == pytest.approx({"pricing": 9600, "webinar": 4800, "case": 4800, "old": 0})
    first = {name: by_id[i]["credited"]["first_touch"] for name, i in ids.items()}
    assert first == pytest.approx({"pricing": 24000, "webinar": 0, "case": 0, "old": 0})
    last = {name: by_id[i]["credited"]["last_touch"] for name, i in ids.items()}
    assert last == pytest.approx({"pricing": 24000, "webinar": 0, "case": 0, "old": 0})
    # the other columns are the runner's, untouched
    assert by_id[ids["pricing"]]["traffic"] == 2 and by_id[ids["pricing"]]["influenced_revenue"] == 24000
    assert "credited" not in analytics.content_roi(ContentSpec()).rows("pieces")[0]


def test_a_window_without_the_close_credits_nothing(acme) -> None:
    analytics, cache, ids = acme
    feb = content_roi(analytics, cache, ContentSpec(start=date(2026, 2, 1), end=date(2026, 3, 10)))  # ends 9 March
    assert all(v == 0 for p in feb.rows("pieces") for v in p["credited"].values())
    march = content_roi(analytics, cache, ContentSpec(start=date(2026, 3, 10), end=date(2026, 3, 11)))
    by_id = {p["content_id"]: p for p in march.rows("pieces")}
    assert by_id[ids["webinar"]]["credited"]["w_shaped"] == pytest.approx(7200)  # read in January, credited in March
    assert by_id[ids["webinar"]]["traffic"] == 0
