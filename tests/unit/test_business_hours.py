"""Hand-computed business-hours cases: nights, weekends, holidays, time zones and daylight saving."""

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from revteam.domain.business_hours import BusinessCalendar
from revteam.errors import InvalidInput

BERLIN = ZoneInfo("Europe/Berlin")
NY = ZoneInfo("America/New_York")
cal = BusinessCalendar(tz="Europe/Berlin")  # Mon–Fri 09:00–17:00


def local(y, m, d, h, mi=0, tz=BERLIN):
    return datetime(y, m, d, h, mi, tzinfo=tz)


def test_inside_one_day():
    assert cal.add(local(2026, 3, 2, 10), timedelta(hours=1)) == local(2026, 3, 2, 11)


def test_overnight_carries_to_next_morning():
    # Monday 16:30 + 1h = 30 min Monday + 30 min Tuesday
    assert cal.add(local(2026, 3, 2, 16, 30), timedelta(hours=1)) == local(2026, 3, 3, 9, 30)


def test_friday_evening_carries_over_the_weekend():
    assert cal.add(local(2026, 3, 6, 16, 30), timedelta(hours=1)) == local(2026, 3, 9, 9, 30)
    assert cal.between(local(2026, 3, 6, 16, 30), local(2026, 3, 9, 10)) == timedelta(hours=1, minutes=30)


def test_a_clock_started_at_night_or_on_sunday_starts_at_the_next_opening():
    assert cal.add(local(2026, 3, 3, 22), timedelta(minutes=15)) == local(2026, 3, 4, 9, 15)
    assert cal.add(local(2026, 3, 8, 11), timedelta(hours=8)) == local(2026, 3, 9, 17)


def test_one_business_day_is_one_window():
    assert cal.day_length == timedelta(hours=8)
    assert cal.add(local(2026, 3, 4, 13), cal.day_length) == local(2026, 3, 5, 13)


def test_holidays_are_skipped():
    easter = BusinessCalendar(tz="Europe/Berlin", holidays=frozenset({date(2026, 4, 3), date(2026, 4, 6)}))
    # Thursday 16:00 before Good Friday + 2h → Tuesday after Easter Monday 10:00
    assert easter.add(local(2026, 4, 2, 16), timedelta(hours=2)) == local(2026, 4, 7, 10)


def test_spring_forward_day_keeps_a_full_window():
    # Berlin switches to summer time on Sunday 2026-03-29; a Saturday–Monday span is unaffected in
    # business time and Monday 09:00 is 07:00 UTC (not 08:00).
    due = cal.add(local(2026, 3, 27, 16), timedelta(hours=2))
    assert due == local(2026, 3, 30, 10)
    assert due.astimezone(timezone.utc) == datetime(2026, 3, 30, 8, 0, tzinfo=timezone.utc)


def test_dst_change_on_a_working_day_in_new_york():
    # New York falls back on Sunday 2026-11-01: 01:00–02:00 happens twice, so a Sunday window of
    # 01:00–05:00 local lasts 5 real hours that day, and business time counts real time.
    sunday = BusinessCalendar(tz="America/New_York", weekdays=frozenset({6}), opens=time(1), closes=time(5))
    start = datetime(2026, 11, 1, 1, 0, tzinfo=NY)
    assert sunday.between(start, start + timedelta(days=1)) == timedelta(hours=5)


def test_time_zones_are_respected():
    ny = BusinessCalendar(tz="America/New_York")
    # 14:00 UTC Monday = 09:00 New York (EST): the window has just opened
    assert ny.add(datetime(2026, 3, 2, 14, 0, tzinfo=timezone.utc), timedelta(hours=8)) == datetime(2026, 3, 2, 22, 0, tzinfo=timezone.utc)
    assert not ny.is_open(datetime(2026, 3, 2, 13, 59, tzinfo=timezone.utc))
    assert ny.is_open(datetime(2026, 3, 2, 14, 0, tzinfo=timezone.utc))


def test_bad_calendars_and_naive_times_are_refused():
    with pytest.raises(InvalidInput, match="time zone"):
        BusinessCalendar(tz="Mars/Olympus")
    with pytest.raises(InvalidInput, match="close after"):
        BusinessCalendar(opens=time(17), closes=time(9))
    with pytest.raises(InvalidInput, match="non-empty"):
        BusinessCalendar(weekdays=frozenset())
    with pytest.raises(InvalidInput, match="timezone-aware"):
        cal.add(datetime(2026, 3, 2, 10), timedelta(hours=1))


@given(
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(timezone.utc)),
    minutes=st.integers(min_value=0, max_value=60 * 60),
)
def test_add_and_between_are_inverse(start, minutes):
    due = cal.add(start, timedelta(minutes=minutes))
    assert cal.between(start, due) == timedelta(minutes=minutes)
