"""SLA clock, escalation timing, attempts, compliance, pacing; disputes; rejection reviews."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from revteam.domain.business_hours import BusinessCalendar
from revteam.domain.disputes import Vote, check_vote, decide
from revteam.domain.rejections import WeekCount, reviews_due
from revteam.domain.sla import (
    ClockReading,
    SlaTerms,
    attempts_status,
    compliance,
    escalations_due,
    month_pacing,
    read_clock,
    start_clock,
)
from revteam.errors import Forbidden, InvalidInput

B = ZoneInfo("Europe/Berlin")
TERMS = SlaTerms(version=1, calendar=BusinessCalendar(tz="Europe/Berlin"),
                 response={"hot": timedelta(hours=1), "warm": timedelta(hours=8)},
                 min_attempts=3, attempts_within=timedelta(hours=24), mqls_per_month=200)
FRI_1630 = datetime(2026, 3, 6, 16, 30, tzinfo=B)


def at(d, h, m=0):
    return datetime(2026, 3, d, h, m, tzinfo=B)


def test_worked_example_friday_evening_hot_lead():
    clock = start_clock(TERMS, "hot", FRI_1630)
    assert clock.at_risk_at == at(9, 9, 15) and clock.due_at == at(9, 9, 30)
    r = read_clock(TERMS, clock, first_touch_at=at(9, 9, 20), now=at(9, 12))
    assert (r.status, r.elapsed) == ("worked_in_time", timedelta(minutes=50))


@pytest.mark.parametrize("now,status", [(at(6, 16, 45), "open"), (at(9, 9, 15), "at_risk"), (at(9, 9, 29), "at_risk"),
                                        (at(9, 9, 30), "breached"), (at(10, 9), "breached")])
def test_status_while_the_clock_runs(now, status):
    assert read_clock(TERMS, start_clock(TERMS, "hot", FRI_1630), first_touch_at=None, now=now).status == status


def test_a_late_touch_is_worked_late_and_a_future_touch_does_not_stop_the_clock_yet():
    clock = start_clock(TERMS, "hot", FRI_1630)
    assert read_clock(TERMS, clock, first_touch_at=at(9, 11), now=at(9, 12)).status == "worked_late"
    assert read_clock(TERMS, clock, first_touch_at=at(9, 11), now=at(9, 10)).status == "breached"


def test_escalations_fire_once_each_in_order():
    clock = start_clock(TERMS, "hot", FRI_1630)
    assert escalations_due(7, clock, first_touch_at=None, now=at(9, 9, 10)) == []
    [risk] = escalations_due(7, clock, first_touch_at=None, now=at(9, 9, 16))
    assert (risk.key, risk.notify) == ("handoff:7:at_risk", ("rep",))
    due = escalations_due(7, clock, first_touch_at=None, now=at(9, 10), sent={risk.key})
    assert [(e.level, e.notify) for e in due] == [("breached", ("rep", "manager"))]
    assert escalations_due(7, clock, first_touch_at=None, now=at(9, 11), sent={risk.key, due[0].key}) == []


def test_no_escalation_when_worked_before_the_point():
    clock = start_clock(TERMS, "hot", FRI_1630)
    assert escalations_due(7, clock, first_touch_at=at(9, 9, 5), now=at(9, 12)) == []
    late = escalations_due(7, clock, first_touch_at=at(9, 9, 20), now=at(9, 12))
    assert [e.level for e in late] == ["at_risk"]  # it was at risk before the call, never breached


def test_attempts_within_the_window():
    start = at(2, 10)  # Monday; window of 24 business hours ends Thursday 10:00
    assert attempts_status(TERMS, start, [at(2, 11), at(3, 9), at(4, 16)], now=at(4, 17)) == "met"
    assert attempts_status(TERMS, start, [at(2, 11)], now=at(4, 17)) == "pending"
    assert attempts_status(TERMS, start, [at(2, 11), at(6, 10), at(6, 11)], now=at(6, 12)) == "missed"


def test_compliance_counts_only_decided_handoffs():
    due = at(9, 9)
    readings = [ClockReading("worked_in_time", timedelta(minutes=20), due, due),
                ClockReading("worked_in_time", timedelta(minutes=40), due, due),
                ClockReading("worked_late", timedelta(hours=3), due, due),
                ClockReading("breached", timedelta(hours=5), due, due),
                ClockReading("open", timedelta(minutes=5), due, due)]
    c = compliance(readings)
    assert (c.handoffs, c.worked_in_time, c.breached, c.share_in_time) == (4, 2, 2, 0.5)
    assert c.median_response == timedelta(minutes=40)
    assert compliance([]).share_in_time is None


def test_month_pacing_by_business_days():
    # March 2026 has 22 business days; by Monday 16 March 09:00 Berlin 10 full days have passed
    p = month_pacing(TERMS, 220, 80, now=at(16, 9).astimezone(timezone.utc))
    assert p.expected_to_date == pytest.approx(100)
    assert p.pace == pytest.approx(0.8) and p.projected == pytest.approx(176)


def test_sla_terms_are_validated():
    with pytest.raises(InvalidInput, match="no response time for priority 'cold'"):
        start_clock(TERMS, "cold", FRI_1630)
    with pytest.raises(InvalidInput, match="at least one priority"):
        SlaTerms(1, TERMS.calendar, {})
    with pytest.raises(InvalidInput, match="at_risk_share"):
        SlaTerms(1, TERMS.calendar, {"hot": timedelta(hours=1)}, at_risk_share=1.5)


COMMITTEE = (1, 2, 3, 4)


def test_dispute_worked_example_tie_upholds_the_rejection():
    votes = [Vote(1, "return_to_sales", "fits ICP"), Vote(2, "return_to_sales", "budget confirmed")]
    assert decide(COMMITTEE, votes).outcome is None
    votes.append(Vote(3, "uphold_rejection", "student"))
    assert decide(COMMITTEE, votes).outcome is None
    votes.append(Vote(4, "uphold_rejection", "no budget"))
    d = decide(COMMITTEE, votes)
    assert d.outcome == "uphold_rejection" and "tie 2–2" in d.summary


def test_a_strict_majority_decides_early():
    d = decide((1, 2, 3), [Vote(1, "return_to_sales", "a"), Vote(3, "return_to_sales", "b")])
    assert (d.outcome, d.votes_for_return) == ("return_to_sales", 2)


def test_votes_are_checked():
    with pytest.raises(Forbidden):
        check_vote(COMMITTEE, [], Vote(9, "return_to_sales", "x"))
    with pytest.raises(InvalidInput, match="already voted"):
        check_vote(COMMITTEE, [Vote(1, "return_to_sales", "x")], Vote(1, "uphold_rejection", "y"))
    with pytest.raises(InvalidInput, match="Say why"):
        check_vote(COMMITTEE, [], Vote(1, "uphold_rejection", "  "))
    with pytest.raises(InvalidInput, match="not one of"):
        check_vote(COMMITTEE, [], Vote(1, "abstain", "x"))


def test_review_due_after_three_high_weeks_with_enough_volume():
    weeks = [WeekCount("2026-W10", 40, 10), WeekCount("2026-W11", 35, 9), WeekCount("2026-W12", 50, 12)]
    [r] = reviews_due({("paid_social", "student"): weeks})
    assert r.weeks == ("2026-W10", "2026-W11", "2026-W12") and "paid_social" in r.summary
    dip = weeks[:2] + [WeekCount("2026-W12", 50, 5)]
    small = [WeekCount(w.week, 10, 5) for w in weeks]
    assert reviews_due({("paid_social", "student"): dip}) == []
    assert reviews_due({("paid_social", "student"): small}) == []
    assert reviews_due({("paid_social", "student"): weeks[:2]}) == []
