"""Where a handoff's SLA clock stands, in the words the inbox and the API show, and the inbox's order
(``services/handoff/inbox.py``; moved from the web)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from revteam.domain.disputes import majority
from revteam.services.handoff.inbox import ClockView, LeadRow, clock_of, duration_text, minutes_text, urgency

TEN = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)  # Monday 10:00 in New York


@dataclass
class FakeHandoff:
    """The fields of a handoff the clock reads."""

    id: int = 1
    priority: str = "warm"
    handed_at: datetime = TEN - timedelta(hours=1)
    due_at: datetime | None = TEN + timedelta(minutes=35)
    at_risk_at: datetime | None = TEN + timedelta(minutes=20)
    first_touch_at: datetime | None = None


def _row(h: FakeHandoff, now: datetime = TEN) -> LeadRow:
    contact: Any = None
    return LeadRow(h, contact, None, None, None, clock_of(h, now))  # type: ignore[arg-type]


def test_durations_in_words() -> None:
    assert duration_text(timedelta(seconds=20)) == "less than a minute"
    assert duration_text(timedelta(minutes=35)) == "35 min"
    assert duration_text(timedelta(minutes=125)) == "2 h 5 min"
    assert duration_text(timedelta(hours=50)) == "2 days 2 h"
    assert duration_text(timedelta(days=-4)) == "4 days"
    assert minutes_text(None) == "–" and minutes_text(90) == "1 h 30 min"


def test_the_clock_open_at_risk_breached_worked_none() -> None:
    assert clock_of(FakeHandoff(), TEN) == ClockView("open", "due in 35 min", TEN + timedelta(minutes=35))
    assert clock_of(FakeHandoff(), TEN + timedelta(minutes=25)).state == "at_risk"
    late = clock_of(FakeHandoff(), TEN + timedelta(hours=2))
    assert (late.state, late.text, late.live) == ("breached", "overdue by 1 h 25 min", True)
    worked = clock_of(FakeHandoff(first_touch_at=TEN + timedelta(hours=1)), TEN + timedelta(hours=2),
                      ZoneInfo("America/New_York"))
    assert (worked.state, worked.text, worked.live) == ("worked", "worked Mon 11:00 (late)", False)
    assert clock_of(FakeHandoff(due_at=None, at_risk_at=None), TEN) == ClockView("none", "no SLA clock", None)


def test_the_most_urgent_lead_comes_first() -> None:
    overdue = FakeHandoff(id=1, priority="cold", due_at=TEN - timedelta(minutes=5))
    hot_soon = FakeHandoff(id=2, priority="hot", due_at=TEN + timedelta(minutes=10))
    warm_soon = FakeHandoff(id=3, priority="warm", due_at=TEN + timedelta(minutes=10))
    no_clock = FakeHandoff(id=4, priority="hot", due_at=None, at_risk_at=None)
    rows = sorted((_row(h) for h in (no_clock, warm_soon, hot_soon, overdue)), key=urgency)
    assert [r.handoff.id for r in rows] == [1, 2, 3, 4]


def test_a_dispute_needs_a_strict_majority_of_the_committee() -> None:
    assert [majority(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 2, 3, 3]
