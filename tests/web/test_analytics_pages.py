"""The analytics pages (issue #4): funnel, attribution (and one deal), content ROI (and one piece), revenue
and the forecast. Each renders its key numbers from a small seeded record; bad input comes back as a
clear message in the form (422), never a stack trace.
"""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from revteam.runtime import Runtime
from revteam.web.deps import get_now
from revteam.store.models import Account, Contact, ContentAsset, StageChange, Target, User
from tests.factories import make_deal, make_touch
from tests.web.conftest import NOW, T0, Record, session_client


def plain(page: str) -> str:
    """The page's <main> as text, tags dropped and white space squeezed."""
    main = page[page.find("<main"):page.find("</main>")]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main))).strip()


@pytest.fixture
def seeded(runtime: Runtime, people: dict[str, User], record: Record) -> dict[str, int]:
    """On top of the record: Ben (Acme) touched by search, the CRM-cost article and a webinar, then a
    30,000 deal won on 10 March; a March target of 100,000."""
    with runtime.sessions() as s:
        ben = s.get(Contact, record.contact_id)
        acme = s.get(Account, record.account_id)
        content = s.scalar(select(ContentAsset).where(ContentAsset.external_id == "cnt-crm-cost"))
        make_touch(s, ben, type="page_view", at=T0 - timedelta(days=20), channel="paid_search")
        make_touch(s, ben, type="content_download", at=T0 - timedelta(days=10), channel="email", content_id=content.id)
        make_touch(s, ben, type="meeting", at=T0 + timedelta(days=3), channel="direct")
        s.add(StageChange(contact_id=ben.id, from_stage="lead", to_stage="mql", changed_at=T0 - timedelta(days=9),
                          actor_rule="scoring", reason="score"))
        s.add(StageChange(contact_id=ben.id, from_stage="mql", to_stage="opportunity",
                          changed_at=T0 - timedelta(days=5), actor_rule="manual", reason="demo"))
        won = make_deal(s, acme, amount="30000", outcome="won", contacts=[ben], owner_id=people["ae"].id,
                        name="Acme expansion", closed_on=date(2026, 3, 10), created_on=date(2026, 2, 20))
        s.add(Target(metric="won_revenue", period_start=date(2026, 3, 1), period_end=date(2026, 3, 31),
                     value=Decimal("100000")))
        s.commit()
        return {"deal_id": won.id, "content_id": content.id, "open_deal_id": record.deal_id,
                "account_id": record.account_id}


@pytest.fixture
def leader(app: FastAPI, runtime: Runtime, people: dict[str, User]) -> Any:
    app.dependency_overrides[get_now] = lambda: NOW  # the pages' "today" is 16 March 2026
    return session_client(app, runtime, people["leader"])


def test_funnel_shows_stages_conversion_and_sql(leader: Any, seeded: dict[str, int]) -> None:
    r = leader.get("/funnel")
    assert r.status_code == 200
    text = plain(r.text)
    # Ana and Ben reached MQL; Ben went on (50 %), four days later
    assert "Marketing-qualified (MQL) 2 ↓ 50% reach Sales-accepted (SAL) · median 4.0 days" in text
    assert "Opportunity 1 ↓ 0% reach Customer" in text
    assert "<summary>Show SQL</summary>" in r.text and "SELECT" in r.text.upper()


def test_funnel_breakdown_shows_a_row_per_group(leader: Any, seeded: dict[str, int]) -> None:
    r = leader.get("/funnel", params={"by": "source", "mode": "period"})
    assert r.status_code == 200
    text = plain(r.text)
    assert "By source" in text and "paid_search" in text and "webinar" in text
    assert r.text.count('class="minibar-fill"') == 2 * 8  # two sources, eight stages
    assert '<option value="period" selected>' in r.text


@pytest.mark.parametrize("params,message", [
    ({"by": "shoe_size"}, "Unknown breakdown"),
    ({"mode": "sideways"}, "Mode is one of cohort, period"),
    ({"start": "2026-13-01"}, "is not a date"),
])
def test_funnel_bad_input_is_a_message_in_the_form(leader: Any, params: dict[str, str], message: str) -> None:
    r = leader.get("/funnel", params=params)
    assert r.status_code == 422
    assert 'role="alert"' in r.text and message in html.unescape(r.text)


def test_attribution_every_model_side_by_side(leader: Any, seeded: dict[str, int]) -> None:
    r = leader.get("/attribution", params={"grain": "channel", "model": "first_touch"})
    assert r.status_code == 200
    text = plain(r.text)
    assert "1 won deal attributed" in text and "First touch credit by channel" in text
    # sourced, influenced, then every model: first touch, last touch, last non-direct, linear, ...
    assert "paid_search $30,000 $30,000 $30,000 $0 $0 $10,000" in text
    assert "direct $0 $30,000 $0 $30,000 $0 $10,000" in text
    assert "Globex starter · $12,500" in text  # won with no touch: listed, never credited
    assert f'href="/attribution/deals/{seeded["deal_id"]}?grain=channel&amp;model=first_touch"' in r.text
    for model in ("linear", "shapley"):  # Shapley gets a seeded generator (sampled when there are many keys)
        r = leader.get("/attribution", params={"grain": "content", "model": model})
        assert r.status_code == 200 and "What does a CRM really cost?" in r.text


def test_attribution_unknown_model_is_a_message(leader: Any) -> None:
    r = leader.get("/attribution", params={"model": "astrology"})
    assert r.status_code == 422 and "Unknown model" in r.text and "astrology" in r.text
    r = leader.get("/attribution", params={"grain": "planet"})
    assert r.status_code == 422 and "Unknown grain" in r.text


def test_attribution_of_conversions_to_a_stage(leader: Any, seeded: dict[str, int]) -> None:
    """Ana and Ben became MQLs in the last 90 days (Ben on 21 February, after a paid search visit and the CRM
    article by email): two conversions shared out, no sourced or influenced columns, no deal list."""
    r = leader.get("/attribution", params={"stage": "mql", "model": "linear"})
    assert r.status_code == 200
    text = plain(r.text)
    assert "Credited: conversions to Marketing-qualified (MQL) , from 2025-12-17 to 2026-03-16 (the last 90 days)" in text
    assert "2 conversions to Marketing-qualified (MQL) credited" in text
    assert "Linear credit by channel: conversions to Marketing-qualified (MQL)" in text
    assert "organic_search 1.0 email 0.5 paid_search 0.5" in text  # the bars
    assert "email 0.0 1.0 1.0 0.5" in text  # first touch, last touch, last non-direct, linear, ...
    assert "Sourced" not in text and "Influenced" not in text and "Won deals" not in text
    assert '<option value="mql" selected>Conversions to Marketing-qualified (MQL)</option>' in r.text
    assert '<option value="recycled"' not in r.text  # side states do not convert
    r = leader.get("/attribution", params={"stage": "mql", "grain": "content", "start": "2026-02-01",
                                           "end": "2026-02-28"})
    text = plain(r.text)
    assert "from 2026-02-01 to 2026-02-28, to each content piece" in text and "(the last 90 days)" not in text
    assert "1 conversion to Marketing-qualified (MQL) credited" in text  # Ben's
    assert "What does a CRM really cost? 0.0 1.0 1.0 0.5" in text
    r = leader.get("/attribution", params={"stage": "customer"})
    text = plain(r.text)
    assert "0 conversions to Customer credited 2 contacts touched who did not get there" in text
    assert "Nobody with a touch reached Customer in this period." in text and "side by side:" not in text
    r = leader.get("/attribution", params={"grain": "channel"})
    assert "Credited: won revenue of the deals closed in the period" in plain(r.text)


@pytest.mark.parametrize("params,message", [
    ({"stage": "recycled"}, "&#39;recycled&#39; is a side state, a step out of the funnel, not a conversion"),
    ({"stage": "won"}, "Unknown stage &#39;won&#39;; credit conversions to one of: subscriber, lead, mql"),
    ({"stage": "mql", "start": "2026-03-01", "end": "2026-02-01"},
     "The period ends (2026-02-01) before it starts (2026-03-01); pick an end on or after the start."),
    ({"start": "2026-03-01", "end": "2026-02-01"}, "The period ends (2026-02-01) before it starts"),
])
def test_attribution_bad_stage_or_period_is_a_message(leader: Any, params: dict[str, str], message: str) -> None:
    r = leader.get("/attribution", params=params)
    assert r.status_code == 422 and 'role="alert"' in r.text and message in r.text


def test_attribution_of_one_deal(leader: Any, seeded: dict[str, int]) -> None:
    r = leader.get(f"/attribution/deals/{seeded['deal_id']}", params={"model": "linear"})
    assert r.status_code == 200
    text = plain(r.text)
    assert "Acme expansion" in text and "USD $30,000, won 2026-03-10" in text
    assert "2026-02-20 Content download email Lead, Opportunity 33% $10,000" in text
    open_deal = leader.get(f"/attribution/deals/{seeded['open_deal_id']}")
    assert open_deal.status_code == 422 and "is not won" in open_deal.text


def test_content_roi_table_and_drill_down(leader: Any, seeded: dict[str, int]) -> None:
    r = leader.get("/content", params={"sort": "influenced_revenue"})
    assert r.status_code == 200
    text = plain(r.text)
    assert "Top 5 by traffic" in text and "Pieces, by influenced revenue" in text
    # title, category, traffic 2, MQLs 1, deals influenced 2, won 1, influenced revenue, credited (W-shaped), used 0
    assert "Credited (W-shaped)" in text
    assert "What does a CRM really cost? pricing 2 1 2 1 $30,000 $18,000 0" in text
    r = leader.get("/content", params={"model": "linear", "sort": "credited"})
    assert r.status_code == 200
    text = plain(r.text)
    assert "Pieces, by revenue credited" in text and "Credited (Linear)" in text
    assert "What does a CRM really cost? pricing 2 1 2 1 $30,000 $10,000 0" in text
    assert '<option value="linear" selected>' in r.text
    r = leader.get(f"/content/{seeded['content_id']}")
    assert r.status_code == 200
    text = plain(r.text)
    assert "2 traffic (2 people)" in text and "$30K influenced revenue" in text
    assert "Linear $10,000" in text and "W-shaped $18,000" in text
    assert leader.get("/content/999999").status_code == 404


def test_content_top_five_by_revenue_of_a_month(leader: Any, seeded: dict[str, int]) -> None:
    r = leader.get("/content")
    assert r.status_code == 200
    text = plain(r.text)
    # the latest month with won revenue: March (Acme expansion, 30,000, closed 10 March, after Ben read the
    # article); W-shaped gives the article 18,000 of it
    assert "Top 5 by revenue, March 2026 (the latest with revenue)" in text
    assert "What does a CRM really cost? $30K ($18K)" in text
    assert '<option value="2026-03">Mar 2026</option>' in r.text
    r = leader.get("/content", params={"month": "2026-03", "model": "linear"})
    text = plain(r.text)
    assert "Top 5 by revenue, March 2026" in text and "(the latest with revenue)" not in text
    assert "What does a CRM really cost? $30K ($10K)" in text and "what Linear credits" in text
    assert '<option value="2026-03" selected>' in r.text
    r = leader.get("/content", params={"month": "2026-02"})
    assert r.status_code == 200
    assert "No won deal closed in February 2026 touched a content piece." in plain(r.text)
    r = leader.get("/content", params={"month": "March"})
    assert r.status_code == 422 and "Month &#39;March&#39; is not a month; use YYYY-MM." in r.text


def test_content_bad_window_is_a_message(leader: Any) -> None:
    r = leader.get("/content", params={"start": "2026-03-10", "end": "2026-03-01"})
    assert r.status_code == 422 and "must end after it starts" in r.text
    r = leader.get("/content", params={"model": "coin_flip"})
    assert r.status_code == 422 and "Unknown model &#39;coin_flip&#39;" in r.text


def test_forecast_revenue_against_target(leader: Any, seeded: dict[str, int]) -> None:
    r = leader.get("/forecast")
    assert r.status_code == 200
    text = plain(r.text)
    assert "Mar 2026 $42.5K of $100K · 42%" in text  # 12,500 + 30,000 won in March
    # two weeks of closed deals cannot forecast the rest of the month: the card says so
    assert "No forecast yet: A forecast 15 days ahead" in text


def test_forecast_fan_chart_with_history(runtime: Runtime, leader: Any, seeded: dict[str, int]) -> None:
    with runtime.sessions() as s:
        acme = s.get(Account, seeded["account_id"])
        for i in range(24):  # two years of won (and some lost) deals, then a few open ones
            closed = date(2024, 3, 5) + timedelta(days=30 * i)
            make_deal(s, acme, amount=str(20000 + 1000 * (i % 5)), outcome="won" if i % 3 else "lost",
                      name=f"History {i}", created_on=closed - timedelta(days=35), closed_on=closed)
        for i in range(4):
            make_deal(s, acme, amount=str(40000 + 5000 * i), outcome="open", name=f"Open {i}",
                      created_on=date(2026, 2, 1) + timedelta(days=5 * i))
        s.commit()
    r = leader.get("/forecast")
    assert r.status_code == 200
    text = plain(r.text)
    assert "This month: 2026-03-01 to 2026-03-31" in text and "Won so far $42,500" in text
    assert "Forecast (P50)" in text and "Range P10–P90" in text and "Target $100,000" in text
    assert r.text.count('<svg class="fan"') == 2 and r.text.count('class="fan-band"') == 2
    assert "What stands in the way" in text and "Open 3" in text


def test_an_update_shows_on_the_next_page_load(leader: Any, runtime: Runtime, seeded: dict[str, int],
                                                people: dict[str, User]) -> None:
    """Updates change no row count and no highest id; the data versions still tell every cache."""
    from revteam.store.models import Deal

    before = {path: plain(leader.get(path, params=params).text) for path, params in (
        ("/content", {"sort": "influenced_revenue"}), ("/attribution", {"model": "linear"}),
        ("/funnel", {"by": "rep"}))}
    assert "1 won deal attributed" in before["/attribution"]
    assert "What does a CRM really cost? pricing 2 1 2 1 $30,000" in before["/content"]
    assert "AE Person" in before["/funnel"]
    with runtime.sessions() as s:  # the open Acme platform deal (Ben, 48,000) closes won; Ben moves to the SDR
        deal = s.get(Deal, seeded["open_deal_id"])
        deal.outcome, deal.stage, deal.closed_on = "won", "won", date(2026, 3, 12)
        s.get(Contact, record_contact_id(s)).owner_id = people["sdr"].id
        s.commit()
    content = plain(leader.get("/content", params={"sort": "influenced_revenue"}).text)
    assert "What does a CRM really cost? pricing 2 1 2 2 $78,000" in content  # two won now: 30,000 + 48,000
    attribution = plain(leader.get("/attribution", params={"model": "linear"}).text)
    assert "2 won deals attributed" in attribution
    funnel = plain(leader.get("/funnel", params={"by": "rep"}).text)
    assert "AE Person" not in funnel and "SDR Person" in funnel


def record_contact_id(s: Any) -> int:
    return s.scalar(select(Contact.id).where(Contact.email == "ben@acme-rockets.com"))


def test_the_forecast_page_is_kept_until_the_data_changes(leader: Any, runtime: Runtime, seeded: dict[str, int]) -> None:
    first = plain(leader.get("/forecast").text)
    assert "Mar 2026 $42.5K of $100K · 42%" in first
    assert plain(leader.get("/forecast").text) == first
    with runtime.sessions() as s:  # raising the March target is an UPDATE of a table the page reads
        target = s.scalar(select(Target).where(Target.metric == "won_revenue"))
        target.value = Decimal("85000")
        s.commit()
    assert "Mar 2026 $42.5K of $85K · 50%" in plain(leader.get("/forecast").text)
