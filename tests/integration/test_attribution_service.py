"""Attribution from the database: journeys at three grains, sourced vs influenced, per-deal explanations."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy.orm import Session

from revteam.errors import InvalidInput
from revteam.analytics.attribution import (
    credit_rows,
    explain_deal,
    revenue_journeys,
    sourced_and_influenced,
)
from revteam.analytics.stage_journeys import stage_journeys
from revteam.store.models import StageChange
from tests.factories import make_account, make_campaign, make_contact, make_content, make_deal, make_touch


def at(month: int, day: int, hour: int = 10, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=timezone.utc)


@pytest.fixture
def acme(sqlite_engine) -> Session:
    """The worked example of analytics/attribution.py, plus a lost deal, a deal with no touch, and noise."""
    with Session(sqlite_engine) as s:
        acme_company(s)
        yield s


def acme_company(s: Session) -> None:
    """Build the ``acme`` fixture's company in ``s`` (committed)."""
    account = make_account(s, name="Acme Rockets")
    ana = make_contact(s, first_name="Ana", email="ana@acme-rockets.com")
    ben = make_contact(s, first_name="Ben", email="ben@acme-rockets.com")
    s.add(StageChange(contact_id=ana.id, from_stage="subscriber", to_stage="lead", changed_at=at(1, 12, 11)))
    s.add(StageChange(contact_id=ana.id, from_stage="lead", to_stage="mql", changed_at=at(1, 20, 12)))
    webinar = make_campaign(s, name="Pricing 101 webinar", channel="webinar")
    ebook = make_content(s, title="What does a CRM really cost?")
    make_touch(s, ana, type="ad_click", at=at(1, 5), channel="paid_search")
    make_touch(s, ana, type="webinar_attended", at=at(1, 12), channel="webinar", campaign_id=webinar.id)
    make_touch(s, ben, type="content_download", at=at(1, 20), channel="email", content_id=ebook.id)
    make_touch(s, ana, type="demo_request", at=at(2, 1), channel="direct")
    make_touch(s, ben, type="email_click", at=at(3, 1), channel="email", content_id=ebook.id)
    make_touch(s, ana, type="page_view", at=at(3, 15), channel="organic_search")  # after the close: out
    make_touch(s, ana, type="page_view", at=at(1, 5, year=2025), channel="display")  # > 365 days before: out
    make_deal(s, account, name="Acme platform", amount="24000", outcome="won", contacts=[ana, ben],
              created_on=date(2026, 2, 1), closed_on=date(2026, 3, 10), source="paid_search")
    # a lost deal: Cleo read the ebook and saw an ad, then went elsewhere
    cleo = make_contact(s, first_name="Cleo", email="cleo@globex.example")
    make_touch(s, cleo, type="ad_click", at=at(2, 2), channel="paid_search")
    make_touch(s, cleo, type="content_download", at=at(2, 9), channel="email", content_id=ebook.id)
    make_deal(s, make_account(s, name="Globex"), name="Globex pilot", amount="9000", outcome="lost",
              contacts=[cleo], created_on=date(2026, 2, 3), closed_on=date(2026, 3, 2))
    # a won deal whose contact never touched anything: unattributed, never credited
    dan = make_contact(s, first_name="Dan", email="dan@initech.example")
    make_deal(s, make_account(s, name="Initech"), name="Initech renewal", amount="5000", outcome="won",
              contacts=[dan], created_on=date(2026, 1, 10), closed_on=date(2026, 3, 5))
    s.commit()


def test_a_won_deal_is_the_time_ordered_touches_of_its_contacts_before_close(acme):
    js = revenue_journeys(acme, grain="channel")
    j = js.journeys
    deals = [s["name"] for s in js.subjects]
    assert deals == ["Globex pilot", "Acme platform"]  # in close order; Initech has no touch
    acme_row = deals.index("Acme platform")
    assert j.path(acme_row) == ["paid_search", "webinar", "email", "direct", "email"]
    assert j.conversions.tolist() == [0, 1] and j.value.tolist() == [0, 24000]
    start = int(j.starts[acme_row])
    assert int(j.lead[acme_row]) - start == 1  # the webinar, just before Ana became a lead
    assert int(j.opportunity[acme_row]) - start == 3  # the demo on the deal's creation day
    assert j.direct[start + 3] and not j.direct[start]
    assert [u["name"] for u in js.unattributed] == ["Initech renewal"]
    assert "no touch of its contacts in the 365 days before its close on 2026-03-05" in js.unattributed[0]["reason"]


def test_w_shaped_credit_of_the_worked_example(acme):
    js = revenue_journeys(acme, grain="channel")
    rows = {r["key"]: r["credit"] for r in credit_rows(js, "w_shaped")}
    assert rows == pytest.approx({"paid_search": 7200, "webinar": 7200, "direct": 7200, "email": 2400})
    assert sum(rows.values()) == pytest.approx(24000)  # Initech's 5,000 is unattributed, not spread


def test_campaign_and_content_grains_keep_touches_without_one_under_none(acme):
    campaign = revenue_journeys(acme, grain="campaign")
    rows = {r["label"]: r["credit"] for r in credit_rows(campaign, "linear")}
    assert rows == pytest.approx({"(none)": 24000 * 4 / 5, "Pricing 101 webinar": 24000 / 5})
    content = revenue_journeys(acme, grain="content")
    rows = {r["label"]: r["credit"] for r in credit_rows(content, "linear")}
    assert rows == pytest.approx({"(none)": 24000 * 3 / 5, "What does a CRM really cost?": 24000 * 2 / 5})
    with pytest.raises(InvalidInput, match="Unknown grain"):
        revenue_journeys(acme, grain="persona")


def test_sourced_versus_influenced(acme):
    js = revenue_journeys(acme, grain="channel")
    rows = {r["key"]: r for r in sourced_and_influenced(js)}
    assert rows["paid_search"]["sourced"] == 24000 and rows["paid_search"]["sourced_deals"] == 1
    assert {k: r["influenced"] for k, r in rows.items()} == {"paid_search": 24000, "webinar": 24000,
                                                              "email": 24000, "direct": 24000}
    assert sum(r["sourced"] for r in rows.values()) == 24000
    recorded = {r["key"]: r["sourced"] for r in sourced_and_influenced(js, sourced_by="deal_source")}
    assert recorded["paid_search"] == 24000


def test_explain_deal_lists_every_touch_with_its_credit_and_reason(acme):
    deal_id = next(s["id"] for s in revenue_journeys(acme).subjects if s["name"] == "Acme platform")
    out = explain_deal(acme, deal_id, model="w_shaped")
    assert [(r["key"], r["roles"], r["credit"]) for r in out["rows"]] == [
        ("paid_search", ["first"], pytest.approx(7200)), ("webinar", ["lead"], pytest.approx(7200)),
        ("email", [], pytest.approx(1200)), ("direct", ["opportunity"], pytest.approx(7200)),
        ("email", ["close"], pytest.approx(1200))]
    assert out["rows"][2]["reason"] == "1 of 2 touches without a role, sharing 10.0%: 5.0%"
    assert out["rows"][0]["type"] == "ad_click" and out["rows"][0]["occurred_at"] == at(1, 5)
    markov = explain_deal(acme, deal_id, model="markov")
    assert sum(r["credit"] for r in markov["rows"]) == pytest.approx(24000)
    nothing = explain_deal(acme, next(u["id"] for u in revenue_journeys(acme).unattributed), model="linear")
    assert nothing["rows"] == [] and "no touch" in nothing["unattributed"]


def test_markov_and_shapley_learn_from_the_lost_deal(acme):
    js = revenue_journeys(acme, grain="channel")
    markov = {r["key"]: r["credit"] for r in credit_rows(js, "markov")}
    # chain: start→paid_search; paid_search→webinar ½, →email ½ (Cleo); email→direct, null, conversion ⅓ each;
    # p = ½. Removal effects: paid_search 1, email 1 (every walk passes), webinar ½, direct ⅓ (sum 17/6)
    re = {"paid_search": 1, "email": 1, "webinar": 1 / 2, "direct": 1 / 3}
    assert markov == pytest.approx({k: 24000 * v / (17 / 6) for k, v in re.items()})
    # Shapley: only the full set {paid_search, webinar, email, direct} converts (rate 1), every subset is
    # worth 0, so each key is the last to join in a quarter of the orders: a quarter of the conversion each
    shapley = {r["key"]: r["credit"] for r in credit_rows(js, "shapley", measure="conversions")}
    assert shapley == pytest.approx({k: 0.25 for k in re})


def test_stage_conversions_end_at_the_first_move_to_the_stage(acme):
    js = stage_journeys(acme, "mql", grain="channel", start=at(1, 1), end=at(3, 31))
    j = js.journeys
    converting = [i for i in range(j.n_journeys) if j.converted[i]]
    assert len(converting) == 1  # Ana became an MQL on 01-20 at noon
    assert j.path(converting[0]) == ["paid_search", "webinar"]
    assert int(j.lead[converting[0]]) - int(j.starts[converting[0]]) == 1
    others = [j.path(i) for i in range(j.n_journeys) if not j.converted[i]]
    assert sorted(map(tuple, others)) == [("email", "email"), ("paid_search", "email")]  # Ben and Cleo
    rows = {r["key"]: r["credit"] for r in credit_rows(js, "u_shaped", measure="conversions")}
    assert rows == pytest.approx({"paid_search": 0.5, "webinar": 0.5, "email": 0.0})


def test_an_empty_database_gives_empty_answers(sqlite_engine):
    with Session(sqlite_engine) as s:
        js = revenue_journeys(s, grain="content")
        assert js.journeys.n_journeys == 0 and js.unattributed == []
        assert credit_rows(js, "markov") == [] and sourced_and_influenced(js) == []
