"""The demo's clock: times are float days since the start of the history, turned into UTC at the end.

The generator never reads the wall clock. ``DemoCalendar(now)`` fixes the year that ends at ``now``;
every event is a float ``day`` (0.0 = the start of that year, ``horizon`` = now, negative = the
warm-up quarter before it). Working in floats keeps the hot loops cheap; ``to_datetime`` turns a day
into an aware UTC ``datetime`` only when rows are built.

Sign-ups follow a calendar: fewer at weekends, in August and late December, growing through the year
(``shape.MONTH_WEIGHT``, ``shape.WEEKEND_WEIGHT``, ``shape.GROWTH_OVER_YEAR``). Sales work happens
on weekdays between 08:00 and 18:00 (``business``).
"""

from __future__ import annotations

import bisect
import random
from datetime import date, datetime, timedelta, timezone

from revteam.demo import shape

SECONDS_PER_DAY = 86_400.0


class DemoCalendar:
    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("the demo needs a timezone-aware `now`")
        self.now = now.astimezone(timezone.utc).replace(microsecond=0)
        self.start = self.now - timedelta(days=shape.HISTORY_DAYS)
        self.horizon = float(shape.HISTORY_DAYS)  # "now" as a day offset
        # the weekday (Mon=0) of day 0's date, and day 0's time-of-day offset
        self._start_midnight = datetime.combine(self.start.date(), datetime.min.time(), tzinfo=timezone.utc)
        self._offset = (self.start - self._start_midnight).total_seconds() / SECONDS_PER_DAY
        self._start_weekday = self.start.date().weekday()
        self._base_ts = self.start.timestamp()
        self._naive_start = self.start.replace(tzinfo=None)
        self._signup_days, self._signup_cum = self._signup_curve()

    # --- conversions ------------------------------------------------------------------------------
    def to_datetime(self, day: float) -> datetime:
        """Day offset → aware UTC datetime, to the second."""
        return datetime.fromtimestamp(round(self._base_ts + day * SECONDS_PER_DAY), tz=timezone.utc)

    def to_naive_utc(self, day: float) -> datetime:
        """Day offset → naive UTC datetime (what ``UTCDateTime`` stores; skips a conversion per row)."""
        return self._naive_start + timedelta(seconds=round(day * SECONDS_PER_DAY))

    def to_date(self, day: float) -> date:
        return self.to_datetime(day).date()

    def day_of(self, d: date) -> float:
        """A calendar date (its midnight UTC) as a day offset."""
        return (datetime.combine(d, datetime.min.time(), tzinfo=timezone.utc) - self.start).total_seconds() / SECONDS_PER_DAY

    def weekday(self, day: float) -> int:
        return (self._start_weekday + int((day + self._offset) // 1)) % 7

    # --- business hours ---------------------------------------------------------------------------
    def business(self, day: float, rng: random.Random, first_thing: bool = False) -> float:
        """The first working moment at or after ``day``: a weekday between 08:00 and 18:00 UTC. Work
        moved to a morning starts between 08:00 and 11:00 (``first_thing``: before 08:40)."""
        local = day + self._offset  # days since day 0's midnight
        d = int(local // 1)
        frac = local - d
        moved = False
        late = 8 / 24 + 2 / 3 / 24 if first_thing else 11 / 24
        if frac < 8 / 24:
            frac, moved = rng.uniform(8 / 24, late), True
        elif frac >= 18 / 24:
            d, frac, moved = d + 1, rng.uniform(8 / 24, late), True
        wd = (self._start_weekday + d) % 7
        if wd >= 5:
            d, frac, moved = d + 7 - wd, rng.uniform(8 / 24, late), True
        return max(day, d + frac - self._offset) if moved else day

    # --- when contacts sign up --------------------------------------------------------------------
    def _signup_curve(self) -> tuple[list[int], list[float]]:
        days: list[int] = []
        cum: list[float] = []
        total = 0.0
        for d in range(-shape.WARMUP_DAYS, shape.HISTORY_DAYS):
            dt = self._start_midnight + timedelta(days=d)
            w = shape.MONTH_WEIGHT[dt.month]
            if dt.weekday() >= 5:
                w *= shape.WEEKEND_WEIGHT
            if dt.month == 12 and dt.day >= 20:
                w *= 0.5
            if d < 0:
                w *= shape.WARMUP_WEIGHT
            else:
                w *= 1.0 + shape.GROWTH_OVER_YEAR * d / shape.HISTORY_DAYS
            total += w
            days.append(d)
            cum.append(total)
        return days, cum

    def signup_day(self, rng: random.Random) -> float:
        """A sign-up moment following the seasonal, weekly and growth curve (warm-up days included)."""
        i = bisect.bisect_left(self._signup_cum, rng.random() * self._signup_cum[-1])
        return self._signup_days[min(i, len(self._signup_days) - 1)] - self._offset + rng.random()

    # --- quarters ---------------------------------------------------------------------------------
    def quarter_bounds(self, day: float) -> tuple[float, float]:
        """(start, end) day offsets of the calendar quarter holding ``day``."""
        d = self.to_date(day)
        q0 = date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
        q1 = date(q0.year + (q0.month == 10), (q0.month + 3 - 1) % 12 + 1, 1)
        return self.day_of(q0), self.day_of(q1)
