"""Revenue against target, the forecast and its backtests as questions to the analytics desk (the rest of
the questions, and what they all share, are in ``analytics/questions.py``).

``--from``/``--to`` and ``--as-of`` take YYYY-MM-DD or YYYY-MM (a month: its first day, or its last for
``--to``); defaults that depend on the day take ``today`` explicitly. A forecast's random draws come from
its ``seed``, the desk's (``REVTEAM_ANALYTICS_SEED``) when it names none: ``Forecast(today=d, period="month")``
is the question the revenue page, ``revteam forecast`` and ``/api/v1/analytics/forecast`` all ask on day
``d``, so they show the same P10/P50/P90.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from revteam.analytics.questions import Question, check_seed, label, one_of
from revteam.domain.days import check_year
from revteam.domain.revenue import PERIODS, month_span
from revteam.errors import InvalidInput

FORECAST_WINDOWS = ("auto", "same_point", "sliding")
MIN_DRAWS = 100


def month_or_day(value: str | None, field: str, style: str, *, month_end: bool = False) -> date | None:
    """YYYY-MM-DD, or YYYY-MM for a month (its first day, or its last with ``month_end``)."""
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value + "-01" if len(value) == 7 else value)
    except ValueError:
        raise InvalidInput(f"{label(field, style)} {value!r} is not a date; use YYYY-MM-DD or YYYY-MM.",
                           code="bad_date") from None
    check_year(parsed, label(field, style), value)
    return month_span(parsed)[1] if month_end and len(value) == 7 else parsed



@dataclass(frozen=True)
class Revenue(Question[Any]):
    """Won revenue and new customers against target by month, quarter and team, with win rate and cycle,
    from ``first`` (default: 11 months before ``last``) to ``last`` (default: ``today``)."""

    name: ClassVar[str] = "revenue"
    today: date = date(1970, 1, 1)
    first: date | None = None
    last: date | None = None

    def __post_init__(self) -> None:
        if self.first and self.last and self.first > self.last:
            raise InvalidInput(f"--from {self.first} is after --to {self.last}.", code="revenue_bad_range")

    @classmethod
    def parse(cls, *, today: date, first: str | None = None, last: str | None = None,
              label_style: str = "option") -> Revenue:
        return cls(today, month_or_day(first, "from", label_style),
                   month_or_day(last, "to", label_style, month_end=True))


@dataclass(frozen=True)
class Forecast(Question[Any]):
    """Won revenue to the end of the month or quarter holding ``as_of`` (data through the end of that day):
    P10/P50/P90 from ``draws`` simulated futures, the target, and the ``top`` open deals in the way."""

    name: ClassVar[str] = "forecast"
    today: date = date(1970, 1, 1)
    period: str = "month"
    as_of: date | None = None  # None: today
    draws: int = 10_000
    seed: int | None = None
    top: int = 10
    windows: str = "auto"

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise InvalidInput(f"--period {self.period!r}: use month or quarter.", code="bad_period")
        if self.draws < MIN_DRAWS:
            raise InvalidInput(f"Simulate at least {MIN_DRAWS} futures (draws).", code="bad_draws")
        if self.top < 1:
            raise InvalidInput("List at least one open deal (top).", code="bad_top")
        one_of(self.windows, FORECAST_WINDOWS, "windows", "bad_forecast_config")
        check_seed(self.seed)

    @property
    def day(self) -> date:
        return self.as_of or self.today

    @classmethod
    def parse(cls, *, today: date, period: str = "month", as_of: str | None = None, draws: int = 10_000,
              seed: int | None = None, top: int = 10, windows: str = "auto", label_style: str = "option") -> Forecast:
        return cls(today, period, month_or_day(as_of, "as_of", label_style), draws, seed, top, windows)


@dataclass(frozen=True)
class Backtest(Question[Any]):
    """Forecasts made on the 1st and 15th of every month before ``today``, for the month and the quarter, against
    what happened and beside the baselines, on this database."""

    name: ClassVar[str] = "forecast/backtest"
    today: date = date(1970, 1, 1)
    draws: int = 10_000
    seed: int | None = None
    windows: str = "auto"

    def __post_init__(self) -> None:
        if self.draws < MIN_DRAWS:
            raise InvalidInput(f"Simulate at least {MIN_DRAWS} futures (draws).", code="bad_draws")
        one_of(self.windows, FORECAST_WINDOWS, "windows", "bad_forecast_config")
        check_seed(self.seed)


@dataclass(frozen=True)
class MavenBacktest(Question[Any]):
    """The same backtest on the Maven CRM export in the directory ``maven`` (CSV files: the database is not read,
    so nothing is kept per data fingerprint)."""

    name: ClassVar[str] = "forecast/backtest/maven"
    cached: ClassVar[bool] = False
    maven: str = ""
    draws: int = 10_000
    seed: int | None = None
    windows: str = "auto"

    def __post_init__(self) -> None:
        Backtest(draws=self.draws, seed=self.seed, windows=self.windows)  # the same checks


@dataclass(frozen=True)
class Outlook(Question[Any]):
    """The revenue page: revenue against target for the last twelve months and the forecast of this month and
    this quarter as of ``today`` (each the ``Forecast`` question with its defaults: the same numbers)."""

    name: ClassVar[str] = "outlook"
    today: date = date(1970, 1, 1)
    seed: int | None = None

    def __post_init__(self) -> None:
        check_seed(self.seed)
