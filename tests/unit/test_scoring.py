"""Hand-computed scoring cases: fit, decay, caps, negative rules, fast track, reasons, TOML."""

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revteam.domain.scoring import (
    ContactTable,
    FitRule,
    ScoringModel,
    TouchRule,
    TouchTable,
    model_from_toml,
    model_to_toml,
    score_batch,
)
from revteam.errors import InvalidInput

NOW = datetime(2026, 3, 16, 12, 0, tzinfo=timezone.utc)

MODEL = ScoringModel(
    name="Acme B2B",
    version=1,
    mql_threshold=60,
    half_life_days=30,
    fit=(
        FitRule("senior title", "title", "regex", r"\b(vp|director|head|chief)\b", 20),
        FitRule("mid-market size", "employees", "range", (100, 1000), 10),
        FitRule("competitor", "email_domain", "in", ("rivalcrm.com",), -100),
        FitRule("student", "title", "contains", "student", -40),
    ),
    engagement=(
        TouchRule("attended webinar", 20, type=("webinar_attended",)),
        TouchRule("page view", 5, type=("page_view",), cap=15),
        TouchRule("pricing page", 10, type=("page_view",), url_pattern=r"/pricing", decay=False),
        TouchRule("unsubscribed", -30, type=("unsubscribe",), decay=False),
    ),
    fast_track=(TouchRule("asked for a demo", type=("demo_request", "pricing_request")),),
)


def score(contacts: list[dict], touches: list[dict], model=MODEL):
    ids = np.arange(1, len(contacts) + 1)
    fields = {k: [c.get(k) for c in contacts] for k in ("title", "employees", "email_domain")}
    tt = TouchTable(
        contact=np.array([t["c"] for t in touches], dtype=np.int64),
        occurred_at=np.array([np.datetime64((NOW - timedelta(days=t.get("days", 0))).replace(tzinfo=None), "s") for t in touches],
                             dtype="datetime64[s]"),
        type=[t["type"] for t in touches],
        channel=[t.get("channel") for t in touches],
        campaign=[t.get("campaign") for t in touches],
        content_category=[t.get("category") for t in touches],
        url=[t.get("url") for t in touches],
        detail=[t.get("detail") for t in touches],
    )
    return score_batch(model, ContactTable(ids, fields), tt, now=NOW)


def test_the_worked_example_of_the_module_docstring():
    b = score([{"title": "VP Operations", "employees": 250}],
              [{"c": 0, "type": "webinar_attended", "days": 3, "detail": "Pricing 101"}]
              + [{"c": 0, "type": "page_view", "days": d, "url": "/blog/x"} for d in range(6)])
    assert b.fit[0] == 30
    webinar = 20 * 0.5 ** (3 / 30)
    assert b.engagement[0] == pytest.approx(webinar + 15)  # six page views = 5×(decayed) > 15 → capped at 15
    assert b.total[0] == pytest.approx(30 + webinar + 15) and b.is_mql[0]
    texts = [r.text for r in b.reasons(0)]
    assert "+18.7 attended webinar 'Pricing 101' 3 days ago, decayed from +20" in texts
    assert any(t.startswith("+15 from 6× page view") and t.endswith("capped at 15") for t in texts)
    assert "+20 fit: senior title (title 'VP Operations')" in texts


def test_decay_halves_points_every_half_life():
    b = score([{}, {}, {}], [{"c": 0, "type": "webinar_attended", "days": 0},
                             {"c": 1, "type": "webinar_attended", "days": 30},
                             {"c": 2, "type": "webinar_attended", "days": 60}])
    assert list(b.engagement) == pytest.approx([20, 10, 5])


def test_future_touches_do_not_earn_more_than_full_points():
    b = score([{}], [{"c": 0, "type": "webinar_attended", "days": -5}])
    assert b.engagement[0] == pytest.approx(20)


def test_non_decaying_rule_and_overlapping_rules_both_count():
    # a pricing page view 90 days ago matches "page view" (decayed 5 → 0.625) and "pricing page" (10, no decay)
    b = score([{}], [{"c": 0, "type": "page_view", "days": 90, "url": "https://acme.com/pricing"}])
    assert b.engagement[0] == pytest.approx(5 * 0.125 + 10)


def test_negative_fit_and_negative_engagement_pull_the_score_down():
    b = score([{"title": "Head of Sales", "email_domain": "rivalcrm.com"}, {"title": "MBA student"}],
              [{"c": 1, "type": "unsubscribe", "days": 10}])
    assert b.fit[0] == 20 - 100 and not b.is_mql[0]
    assert b.total[1] == -40 - 30
    assert any("competitor" in r.text and r.points == -100 for r in b.reasons(0))


def test_negative_cap_limits_the_magnitude():
    model = ScoringModel("m", 1, 50, engagement=(TouchRule("bounce", -20, type=("email_bounce",), cap=25, decay=False),))
    b = score([{}], [{"c": 0, "type": "email_bounce"}] * 3, model=model)
    assert b.engagement[0] == -25


def test_fast_track_makes_an_mql_whatever_the_score_but_only_when_recent():
    b = score([{}, {}], [{"c": 0, "type": "demo_request", "days": 2, "detail": "Book a demo"},
                         {"c": 1, "type": "pricing_request", "days": 45}])
    assert b.total[0] == 0 and b.is_mql[0]
    assert b.reasons(0)[0].text == "fast track: asked for a demo 'Book a demo' 2 days ago"
    assert not b.is_mql[1]  # older than fast_track_days (30)


def test_threshold_is_inclusive():
    model = ScoringModel("m", 1, 20, engagement=(TouchRule("webinar", 20, type=("webinar_attended",), decay=False),))
    assert score([{}], [{"c": 0, "type": "webinar_attended", "days": 9}], model=model).is_mql[0]


def test_contacts_without_touches_score_on_fit_only():
    b = score([{"title": "Director of IT", "employees": 5000}], [])
    assert (b.fit[0], b.engagement[0]) == (20, 0)


def test_toml_round_trip_keeps_the_model():
    text = model_to_toml(MODEL)
    again = model_from_toml(text)
    assert again == MODEL


@pytest.mark.parametrize("toml,words", [
    ("mql_threshold = 50\n[[fit]]\nlabel='x'\nfield='shoe_size'\nvalue='9'\npoints=1\n", "unknown field"),
    ("mql_threshold = 50\n[[fit]]\nlabel='x'\nfield='title'\nmatch='regex'\nvalue='(('\npoints=1\n", "not a valid regular expression"),
    ("mql_threshold = 50\n[[engagement]]\nlabel='everything'\npoints=1\n", "matches every touch"),
    ("half_life_days = 30\n", "missing 'mql_threshold'"),
    ("mql_threshold = 50\nhalf_life_days = 0\n", "half_life_days must be positive"),
    ("mql_threshold = [", "not valid TOML"),
])
def test_bad_models_are_refused_with_what_to_fix(toml, words):
    with pytest.raises(InvalidInput, match=words):
        model_from_toml(toml)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.sampled_from(["page_view", "webinar_attended", "unsubscribe", "demo_request"]),
                          st.integers(0, 200)), max_size=40))
def test_batch_scores_equal_scoring_each_contact_alone(rows):
    touches = [{"c": c, "type": t, "days": d, "url": "/pricing" if d % 2 else "/blog"} for c, t, d in rows]
    contacts = [{"title": "VP Sales" if i % 2 else "Analyst", "employees": 100 * i} for i in range(5)]
    batch = score(contacts, touches)
    for i in range(5):
        alone = score([contacts[i]], [{**t, "c": 0} for t in touches if t["c"] == i])
        assert alone.total[0] == pytest.approx(batch.total[i])
        assert alone.is_mql[0] == batch.is_mql[i]
        assert [r.text for r in alone.reasons(0)] == [r.text for r in batch.reasons(i)]
