"""The service-level agreement between marketing and sales, and the clock that measures both sides (R4).

Model
    A versioned agreement (``SlaTerms``) says, in business time on one calendar:
      * how fast sales responds to a handed-over lead, per priority (e.g. hot: 1 business hour,
        warm: 1 business day);
      * how many attempts sales makes within a window (e.g. 3 attempts within 3 business days);
      * what marketing delivers per month (MQLs, and sales-accepted leads);
      * when a handoff counts as at risk (a share of its response time used, default 75 %).

    The clock of a handoff starts when it is handed over and stops at the first sales touch (a call,
    e-mail or meeting logged as a touchpoint, or an accept). Status, at a moment ``now``:
      * ``worked_in_time`` / ``worked_late``: stopped, before / after the due time;
      * ``open``: running, less than the at-risk share used;
      * ``at_risk``: running, past the at-risk point, not yet due;
      * ``breached``: running, past the due time.

Escalation
    At the at-risk point the rep is told; at the due time the rep and their manager are told. Each
    escalation has a stable key (``handoff:level``) so it is sent once however often the clock ticks.

Marketing's side
    Month-to-date pacing = delivered / (commitment × business days elapsed / business days in month);
    1.0 means on pace. The projection to month end scales what was delivered by the same ratio.

Worked example (Mon–Fri 09:00–17:00 Berlin, hot = 1 business hour, at risk at 75 %)
    A hot lead handed over on Friday 16:30 is at risk from Monday 09:15 and due at 09:30. A call logged
    at 09:20 stops the clock: worked in time, response time 50 business minutes.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from statistics import median

from revteam.domain.business_hours import BusinessCalendar
from revteam.errors import InvalidInput

PRIORITIES = ("hot", "warm", "cold")


@dataclass(frozen=True)
class SlaTerms:
    version: int
    calendar: BusinessCalendar
    response: dict[str, timedelta]
    min_attempts: int = 3
    attempts_within: timedelta = timedelta(hours=24)
    at_risk_share: float = 0.75
    mqls_per_month: int = 0
    sals_per_month: int = 0

    def __post_init__(self) -> None:
        if not self.response:
            raise InvalidInput("The SLA needs a response time for at least one priority.", code="bad_sla")
        for p, d in self.response.items():
            if d <= timedelta(0):
                raise InvalidInput(f"Response time for {p!r} must be positive.", code="bad_sla")
        if not 0 < self.at_risk_share < 1:
            raise InvalidInput("at_risk_share must be between 0 and 1 (e.g. 0.75).", code="bad_sla")
        if self.min_attempts < 0 or self.mqls_per_month < 0 or self.sals_per_month < 0:
            raise InvalidInput("SLA counts cannot be negative.", code="bad_sla")

    def response_for(self, priority: str) -> timedelta:
        if priority not in self.response:
            raise InvalidInput(f"The SLA has no response time for priority {priority!r}; it covers "
                               f"{', '.join(self.response)}.", code="unknown_priority")
        return self.response[priority]


@dataclass(frozen=True)
class Clock:
    handed_at: datetime
    at_risk_at: datetime
    due_at: datetime


@dataclass(frozen=True)
class ClockReading:
    status: str  # worked_in_time | worked_late | open | at_risk | breached
    elapsed: timedelta  # business time from handoff to first touch, or to now while running
    due_at: datetime
    at_risk_at: datetime


@dataclass(frozen=True)
class Escalation:
    key: str
    level: str  # at_risk | breached
    notify: tuple[str, ...]  # rep | manager
    at: datetime


def start_clock(terms: SlaTerms, priority: str, handed_at: datetime) -> Clock:
    target = terms.response_for(priority)
    return Clock(handed_at, terms.calendar.add(handed_at, target * terms.at_risk_share),
                 terms.calendar.add(handed_at, target))


def read_clock(terms: SlaTerms, clock: Clock, *, first_touch_at: datetime | None, now: datetime) -> ClockReading:
    cal = terms.calendar
    if first_touch_at is not None and first_touch_at <= now:
        stop = max(first_touch_at, clock.handed_at)
        status = "worked_in_time" if stop <= clock.due_at else "worked_late"
        return ClockReading(status, cal.between(clock.handed_at, stop), clock.due_at, clock.at_risk_at)
    if now >= clock.due_at:
        status = "breached"
    elif now >= clock.at_risk_at:
        status = "at_risk"
    else:
        status = "open"
    return ClockReading(status, cal.between(clock.handed_at, now), clock.due_at, clock.at_risk_at)


def escalations_due(handoff_id: int, clock: Clock, *, first_touch_at: datetime | None, now: datetime,
                    sent: Iterable[str] = ()) -> list[Escalation]:
    """Escalations whose time has come and that were not sent yet (idempotent under repeated ticks)."""
    sent = set(sent)
    out = []
    stopped = first_touch_at is not None and first_touch_at <= now
    candidates = [("at_risk", ("rep",), clock.at_risk_at), ("breached", ("rep", "manager"), clock.due_at)]
    for level, notify, at in candidates:
        key = f"handoff:{handoff_id}:{level}"
        if key in sent or now < at:
            continue
        if stopped and first_touch_at is not None and first_touch_at <= at:
            continue  # worked before this level was reached
        out.append(Escalation(key, level, notify, at))
    return out


def attempts_status(terms: SlaTerms, handed_at: datetime, attempts: Sequence[datetime], *, now: datetime) -> str:
    """``met`` once ``min_attempts`` sales touches happened within the window, ``missed`` after it, else ``pending``."""
    window_end = terms.calendar.add(handed_at, terms.attempts_within)
    in_window = sorted(a for a in attempts if handed_at <= a <= window_end)
    if len(in_window) >= terms.min_attempts:
        return "met"
    return "missed" if now > window_end else "pending"


@dataclass(frozen=True)
class Compliance:
    handoffs: int
    worked_in_time: int
    breached: int  # worked late, or still running past due
    share_in_time: float | None
    median_response: timedelta | None


def compliance(readings: Iterable[ClockReading]) -> Compliance:
    """Share of handoffs whose clock is due or stopped that were worked in time; median response time.

    Handoffs still running and not yet due are left out: they can still go either way.
    """
    decided = [r for r in readings if r.status != "open" and r.status != "at_risk"]
    in_time = sum(r.status == "worked_in_time" for r in decided)
    breached = sum(r.status in ("worked_late", "breached") for r in decided)
    worked = [r.elapsed for r in decided if r.status.startswith("worked")]
    return Compliance(len(decided), in_time, breached, in_time / len(decided) if decided else None,
                      timedelta(seconds=median(w.total_seconds() for w in worked)) if worked else None)


@dataclass(frozen=True)
class Pacing:
    committed: int
    delivered: int
    expected_to_date: float
    pace: float | None  # delivered / expected_to_date
    projected: float


def month_pacing(terms: SlaTerms, committed: int, delivered: int, *, now: datetime) -> Pacing:
    """Marketing's month-to-date delivery against its commitment, paced by business days."""
    cal = terms.calendar
    local = now.astimezone(cal.zone)
    first = datetime.combine(local.date().replace(day=1), time(0), tzinfo=cal.zone)
    last_day = _calendar.monthrange(local.year, local.month)[1]
    end = datetime.combine(date(local.year, local.month, last_day), time(23, 59, 59), tzinfo=cal.zone)
    total = cal.between(first.astimezone(timezone.utc), end.astimezone(timezone.utc))
    so_far = cal.between(first.astimezone(timezone.utc), now)
    share = so_far / total if total else 1.0
    expected = committed * share
    pace = delivered / expected if expected > 0 else None
    projected = delivered / share if share > 0 else float(delivered)
    return Pacing(committed, delivered, expected, pace, projected)
