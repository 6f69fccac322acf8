"""Business-hours arithmetic for SLA clocks.

Model
    A calendar is a time zone, the working weekdays, one daily window (e.g. 09:00–17:00 local) and a set
    of holidays. Business time only passes inside windows. Windows are built in local wall-clock time and
    converted to UTC per day through ``zoneinfo``, so a day on which daylight saving changes is handled
    by the zone rules: the window 09:00–17:00 is still 8 hours long and starts at 09:00 local.

Assumptions
    * One window per day; the window does not cross midnight.
    * Times handed in must be timezone-aware; results are UTC.
    * A clock started outside business hours starts at the next window opening.

Worked example (Europe/Berlin, Mon–Fri 09:00–17:00)
    A hot lead handed over on Friday 16:30 with a 1-business-hour response target is due on Monday at
    09:30 local: 30 minutes pass on Friday, the other 30 on Monday morning.
    ``business_time_between(Fri 16:30, Mon 10:00)`` is 1 h 30 min.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from revteam.errors import InvalidInput

MAX_DAYS_AHEAD = 3660  # ten years: a calendar with no working day at all is refused before this matters


@dataclass(frozen=True)
class BusinessCalendar:
    tz: str = "UTC"
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(f"Unknown time zone {self.tz!r}; use an IANA name like Europe/Berlin.", code="bad_timezone") from None
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise InvalidInput("Business days must be a non-empty set of weekdays 0 (Mon) to 6 (Sun).", code="bad_weekdays")
        if self.closes <= self.opens:
            raise InvalidInput("Business hours must close after they open on the same day.", code="bad_hours")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def day_length(self) -> timedelta:
        """Length of one business day (``1 business day`` in an SLA)."""
        return datetime.combine(date(2000, 1, 3), self.closes) - datetime.combine(date(2000, 1, 3), self.opens)

    def windows_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Business windows (UTC) that end after ``start``, in order."""
        _aware(start)
        day = start.astimezone(self.zone).date()
        for _ in range(MAX_DAYS_AHEAD):
            if day.weekday() in self.weekdays and day not in self.holidays:
                lo = datetime.combine(day, self.opens, tzinfo=self.zone).astimezone(timezone.utc)
                hi = datetime.combine(day, self.closes, tzinfo=self.zone).astimezone(timezone.utc)
                if hi > start:
                    yield max(lo, start), hi
            day += timedelta(days=1)

    def is_open(self, at: datetime) -> bool:
        _aware(at)
        local = at.astimezone(self.zone)
        return (local.weekday() in self.weekdays and local.date() not in self.holidays
                and self.opens <= local.time().replace(tzinfo=None) < self.closes)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment when ``duration`` of business time has passed since ``start``."""
        if duration < timedelta(0):
            raise InvalidInput("A business duration cannot be negative.", code="negative_duration")
        remaining = duration
        for lo, hi in self.windows_from(start):
            if remaining <= hi - lo:
                return lo + remaining
            remaining -= hi - lo
        raise InvalidInput("The calendar has no business hours in the next ten years.", code="calendar_closed")

    def between(self, a: datetime, b: datetime) -> timedelta:
        """Business time elapsed from ``a`` to ``b`` (zero if ``b`` is not after ``a``)."""
        _aware(b)
        total = timedelta(0)
        if b <= a:
            return total
        for lo, hi in self.windows_from(a):
            if lo >= b:
                break
            total += min(hi, b) - lo
        return total


def _aware(dt: datetime) -> None:
    if dt.tzinfo is None:
        raise InvalidInput("Business-hours arithmetic needs timezone-aware times.", code="naive_datetime")
