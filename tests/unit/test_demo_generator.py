"""The demo generator's pure parts: its calendar, its weighted draws, and building for any "now"."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from revteam.demo import generate_company
from revteam.demo.draw import Weighted
from revteam.demo.timebase import DemoCalendar

NOW = datetime(2026, 3, 16, 14, 30, tzinfo=timezone.utc)


def test_the_calendar_ends_at_now_and_round_trips():
    cal = DemoCalendar(NOW)
    assert cal.to_datetime(cal.horizon) == NOW
    assert cal.to_datetime(0) == NOW - timedelta(days=365)
    assert cal.to_naive_utc(10.5) == cal.to_datetime(10.5).replace(tzinfo=None)
    with pytest.raises(ValueError):
        DemoCalendar(NOW.replace(tzinfo=None))


def test_sales_work_happens_on_weekdays_in_office_hours():
    cal, rng = DemoCalendar(NOW), random.Random(1)
    for i in range(2_000):
        day = rng.uniform(-90, 365)
        at = cal.business(day, rng)
        assert at >= day
        dt = cal.to_datetime(at)
        assert dt.weekday() < 5 and 8 <= dt.hour < 18, dt
        assert cal.weekday(at) == dt.weekday()


def test_quarter_bounds():
    cal = DemoCalendar(NOW)
    q0, q1 = cal.quarter_bounds(cal.horizon)
    assert cal.to_datetime(q0) == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert cal.to_datetime(q1) == datetime(2026, 4, 1, tzinfo=timezone.utc)


def test_weighted_draws_match_random_choices():
    pairs = [("a", 0.5), ("b", 0.3), ("c", 0.2)]
    w = Weighted(pairs)
    r1, r2 = random.Random(7), random.Random(7)
    keys, weights = zip(*pairs)
    assert [w.pick(r1) for _ in range(500)] == [r2.choices(keys, weights)[0] for _ in range(500)]


@pytest.mark.parametrize("now", [
    datetime(2026, 11, 21, 23, 59, tzinfo=timezone.utc),  # a Saturday night
    datetime(2026, 11, 23, 0, 1, tzinfo=timezone.utc),  # just after a weekend
    datetime(2026, 12, 31, 23, 0, tzinfo=timezone.utc),  # a year's and a quarter's last hour
    datetime(2027, 1, 1, 0, 30, tzinfo=timezone.utc),  # a quarter's first hour
    datetime(2028, 2, 29, 12, 0, tzinfo=timezone.utc),  # a leap day
])
def test_any_now_gives_a_company_whose_history_ends_before_it(now):
    company = generate_company(seed=2, now=now, scale=0.02)
    naive_now = now.replace(tzinfo=None)
    assert max(r[7] for r in company.tables["touchpoints"]) <= naive_now
    assert max(r[4] for r in company.tables["stage_changes"]) <= naive_now
    assert max(r[13] for r in company.tables["contacts"]) <= now
    assert all(r[12] is None or r[12] <= now.date() for r in company.tables["deals"])


def test_scale_must_be_positive():
    from revteam.errors import InvalidInput

    with pytest.raises(InvalidInput):
        generate_company(seed=1, now=NOW, scale=0)


def test_video_titles_name_one_real_topic():
    from revteam.demo.catalogue import TOPICS, _titles

    topics = {t for ts in TOPICS.values() for t in ts}
    videos = [title for title, kind, _ in _titles(random.Random(20261125), []) if kind == "video"]
    assert videos
    for title in videos:  # "Sales engagement platforms in 7 minutes (episode 10)"
        topic = title.split(" in ")[0]
        assert topic[:1].lower() + topic[1:] in topics or topic in topics, title


@pytest.mark.parametrize("hours", range(0, 7 * 24, 5))  # every few hours of a week: weekends snap to Monday
def test_the_second_head_signs_each_sla_version_after_the_first(hours):
    """Business time moves a weekend signature to Monday morning with a random minute; the sales head must
    still sign after marketing, or the version would come into force at the earlier moment."""
    from revteam.demo.handoffs import sla_plan

    now = datetime(2026, 12, 4, 20, 0, tzinfo=timezone.utc) + timedelta(hours=hours)  # a Friday evening on
    for v in sla_plan(DemoCalendar(now), 0.02, random.Random(hours)):
        (_, _, first), (_, _, second) = v.signatures
        assert first < second and v.in_force_at == second
