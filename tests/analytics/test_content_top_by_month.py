"""Top five pieces by revenue each month (``analytics.content.top_by_month``) on a hand-computed case, on every
engine, with each model's credit for the month merged by ``services.content_credit``."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy.orm import sessionmaker

from revteam.analytics.content import INFLUENCE_LOOKBACK_DAYS, ContentSpec
from revteam.analytics.runner import Analytics
from revteam.analytics.snapshot import fingerprint
from revteam.domain.attribution import MODELS
from revteam.analytics.attribution import DEFAULT_LOOKBACK_DAYS
from revteam.analytics.attribution_cache import AttributionCache
from revteam.analytics.content_credit import content_roi, month_closes
from revteam.services.record.lifecycle import seed_default_stages
from revteam.store.db import make_engine, make_session_factory
from revteam.store.models import Base
from tests.factories import make_account, make_contact, make_content, make_deal, make_touch


def at(y: int, m: int, d: int, h: int = 12) -> datetime:
    return datetime(y, m, d, h, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, engine_name: str):
    """January: "Starter" ($5,000, closed 15 Jan) touched six guides: the five with the lowest ids make the top.
    February: "Platform" ($48,000, closed 1 Feb): Ana read the pricing guide (3 Jan) and the case study (20 Jan);
    "Expansion" ($10,000, closed 20 Feb): Ben read the pricing guide (10 Feb), Cleo read it too (12 Feb) and
    watched the webinar on the close day at 23:00. "Pilot" ($30,000) was lost in February (Cleo's colleague read
    the old post). March: "Renewal" ($20,000, closed 5 March): Dan read the old post on 5 March 2025 (365 days
    before: in), guide 5 on 4 March 2025 (366 days: out), the case study on 6 March 2026 (after the close: out)
    and a page with no piece. An open deal's reads count nowhere."""
    url = f"sqlite:///{tmp_path_factory.mktemp('monthly') / 'monthly.db'}"
    eng = make_engine(url)
    Base.metadata.create_all(eng)
    with make_session_factory(eng)() as s:
        seed_default_stages(s)
        guides = [make_content(s, title=f"Guide {i}") for i in range(6)]
        pricing = make_content(s, title="Pricing guide")
        case = make_content(s, title="Case study", type="case_study")
        webinar = make_content(s, title="Webinar recording", type="webinar_recording")
        old = make_content(s, title="Old post", category="best_of")
        acc = make_account(s)
        eve, ana, ben, cleo, dora, dan, fay = (make_contact(s, first_name=n, account_id=acc.id)
                                               for n in ("Eve", "Ana", "Ben", "Cleo", "Dora", "Dan", "Fay"))
        for i, g in enumerate(guides):
            make_touch(s, eve, type="content_download", at=at(2026, 1, 2 + i), content_id=g.id)
        make_deal(s, acc, name="Starter", amount="5000", outcome="won", contacts=[eve], created_on=date(2026, 1, 1),
                  closed_on=date(2026, 1, 15))
        make_touch(s, ana, type="content_download", at=at(2026, 1, 3), content_id=pricing.id)
        make_touch(s, ana, type="page_view", at=at(2026, 1, 20), content_id=case.id)
        make_deal(s, acc, name="Platform", amount="48000", outcome="won", contacts=[ana], created_on=date(2026, 1, 10),
                  closed_on=date(2026, 2, 1))
        make_touch(s, ben, type="page_view", at=at(2026, 2, 10), content_id=pricing.id)
        make_touch(s, cleo, type="page_view", at=at(2026, 2, 12), content_id=pricing.id)
        make_touch(s, cleo, type="webinar_attended", at=at(2026, 2, 20, 23), content_id=webinar.id)
        make_deal(s, acc, name="Expansion", amount="10000", outcome="won", contacts=[ben, cleo],
                  created_on=date(2026, 2, 5), closed_on=date(2026, 2, 20))
        make_touch(s, dora, type="page_view", at=at(2026, 2, 2), content_id=old.id)
        make_deal(s, acc, name="Pilot", amount="30000", outcome="lost", contacts=[dora], created_on=date(2026, 1, 25),
                  closed_on=date(2026, 2, 25))
        make_touch(s, dan, type="page_view", at=at(2025, 3, 5), content_id=old.id)
        make_touch(s, dan, type="page_view", at=at(2025, 3, 4), content_id=guides[5].id)
        make_touch(s, dan, type="page_view", at=at(2026, 3, 6), content_id=case.id)
        make_touch(s, dan, type="page_view", at=at(2026, 3, 1))
        make_deal(s, acc, name="Renewal", amount="20000", outcome="won", contacts=[dan], created_on=date(2026, 2, 1),
                  closed_on=date(2026, 3, 5))
        make_touch(s, fay, type="page_view", at=at(2026, 3, 2), content_id=case.id)
        make_deal(s, acc, name="Open", amount="90000", outcome="open", contacts=[fay], created_on=date(2026, 3, 1))
        s.commit()
        ids = {"guides": [g.id for g in guides], "pricing": pricing.id, "case": case.id, "webinar": webinar.id,
               "old": old.id}
    analytics = Analytics(eng, engine_name)
    cache = AttributionCache(sessionmaker(bind=eng), lambda: fingerprint(eng))
    yield analytics, cache, ids
    analytics.close()
    eng.dispose()


def months(rows: list[dict]) -> list[tuple[str, int, str, float, int]]:
    return [(r["month"][:7], r["rank"], r["title"], r["won_revenue"], r["won_deals"]) for r in rows]


def test_top_five_by_won_revenue_of_each_month(shop) -> None:
    analytics, _cache, _ids = shop
    rows = analytics.content_roi(ContentSpec()).rows("top_by_month")
    assert months(rows) == [
        # six guides tie at $5,000: the five lowest ids
        ("2026-01", 1, "Guide 0", 5000, 1), ("2026-01", 2, "Guide 1", 5000, 1), ("2026-01", 3, "Guide 2", 5000, 1),
        ("2026-01", 4, "Guide 3", 5000, 1), ("2026-01", 5, "Guide 4", 5000, 1),
        # Platform and Expansion for the pricing guide (Expansion once, though two of its contacts read it);
        # the webinar was watched on the close day; the lost Pilot counts nowhere
        ("2026-02", 1, "Pricing guide", 58000, 2), ("2026-02", 2, "Case study", 48000, 1),
        ("2026-02", 3, "Webinar recording", 10000, 1),
        # read 365 days before the close: in; 366 days before, or after the close: out
        ("2026-03", 1, "Old post", 20000, 1)]
    assert rows[0]["month"][:10] == "2026-01-01"


def test_the_window_picks_the_months_by_close_date(shop) -> None:
    analytics, _cache, _ids = shop
    feb = analytics.content_roi(ContentSpec(start=date(2026, 2, 1), end=date(2026, 3, 1))).rows("top_by_month")
    assert [(m, title, rev) for m, _r, title, rev, _d in months(feb)] == [
        ("2026-02", "Pricing guide", 58000), ("2026-02", "Case study", 48000), ("2026-02", "Webinar recording", 10000)]
    # a window ending on 1 February leaves out Platform (closed that day); its reads in January do not matter
    jan = analytics.content_roi(ContentSpec(end=date(2026, 2, 1))).rows("top_by_month")
    assert {r["month"][:7] for r in jan} == {"2026-01"}
    # half of February: only Expansion (20 Feb)
    late = analytics.content_roi(ContentSpec(start=date(2026, 2, 2), end=date(2026, 2, 21))).rows("top_by_month")
    assert [(title, rev) for _m, _r, title, rev, _d in months(late)] == [("Pricing guide", 10000),
                                                                        ("Webinar recording", 10000)]


def test_each_month_carries_every_models_credit_from_its_closes(shop) -> None:
    analytics, cache, ids = shop
    result = content_roi(analytics, cache, ContentSpec())
    feb = {r["content_id"]: r for r in result.rows("top_by_month") if r["month"].startswith("2026-02")}
    assert set(feb[ids["pricing"]]["credited"]) == set(MODELS)
    # linear: Platform's two reads get $24,000 each; Expansion's three touches $3,333.33 each (two of the pricing guide)
    linear = {i: r["credited"]["linear"] for i, r in feb.items()}
    assert linear == pytest.approx({ids["pricing"]: 24000 + 20000 / 3, ids["case"]: 24000,
                                    ids["webinar"]: 10000 / 3})
    first = {i: r["credited"]["first_touch"] for i, r in feb.items()}
    assert first == pytest.approx({ids["pricing"]: 58000, ids["case"]: 0, ids["webinar"]: 0})
    march = next(r for r in result.rows("top_by_month") if r["month"].startswith("2026-03"))
    assert march["credited"]["linear"] == pytest.approx(10000)  # Dan's page with no piece takes the other half
    assert "credited" not in analytics.content_roi(ContentSpec()).rows("top_by_month")[0]  # the cached rows untouched


def test_influenced_by_month_is_attributions_influenced_revenue_at_content_grain(shop) -> None:
    analytics, cache, _ids = shop
    assert INFLUENCE_LOOKBACK_DAYS == DEFAULT_LOOKBACK_DAYS
    rows = analytics.content_roi(ContentSpec()).rows("top_by_month")
    for month in ("2026-02", "2026-03"):
        first = date.fromisoformat(f"{month}-01")
        influenced = {r["key"]: (r["influenced"], r["influenced_deals"])
                      for r in cache.sourced_and_influenced("content", *month_closes(first, ContentSpec()))
                      if r["key"] != "(none)" and r["influenced"] > 0}  # the lost Pilot's piece: 0
        assert {str(r["content_id"]): (r["won_revenue"], r["won_deals"]) for r in rows
                if r["month"].startswith(month)} == influenced


def test_month_closes_are_cut_to_the_window() -> None:
    assert month_closes(date(2026, 2, 1), ContentSpec()) == (date(2026, 2, 1), date(2026, 2, 28))
    assert month_closes(date(2024, 12, 1), ContentSpec()) == (date(2024, 12, 1), date(2024, 12, 31))
    spec = ContentSpec(start=date(2026, 2, 10), end=date(2026, 2, 21))
    assert month_closes(date(2026, 2, 1), spec) == (date(2026, 2, 10), date(2026, 2, 20))
