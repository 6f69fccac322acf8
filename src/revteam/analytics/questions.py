"""The questions a revenue team asks the analytics desk: one frozen dataclass per question.

A question is checked once, when it is made (``__post_init__``), and raises ``InvalidInput`` with the code
the pages, the CLI and the JSON API all show (``bad_breakdown``, ``bad_grain``, ``bad_attribution_model``,
``bad_attribution_period``, ``bad_sort``, ``bad_month``, ``bad_date``, ``bad_period``, ...). Faces that
receive text call ``parse`` (the classmethods below), which reads days and months and names the field the
way the face calls it: ``Start`` on a page form, ``--start`` on the command line, ``start`` in a query
string (``label_style``). What a question cannot check on its own, the desk checks when it answers: the
funnel's stages and the stage to credit against the installation's lifecycle, whether a deal or a campaign
exists. Defaults that depend on the day take ``today`` explicitly; nothing here reads a clock.

Equal questions are the same question: the desk keeps one answer per (question, data fingerprint). A
``seed`` left ``None`` is the desk's (``REVTEAM_ANALYTICS_SEED``), filled in before the question is asked,
so the page, the API and the CLI without ``--seed`` ask the very same question. Revenue, the forecast and
its backtests are in ``analytics/revenue_questions.py``, the handoff reports in
``analytics/report_questions.py``.

Worked example: ``Attribution.parse(grain="content", model="linear", start="2026-01-01", end="2026-03-31")``
is the question "won revenue of the deals closed in Q1 2026, credited to content pieces, sorted by the
linear model"; ``end="2026-13-01"`` raises ``InvalidInput("End '2026-13-01' is not a date; use
YYYY-MM-DD.", code="bad_date")`` on a page and the same with ``--end`` on the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Generic, TypeVar

from revteam.analytics.attribution import GRAINS, check_period
from revteam.analytics.content import ContentSpec
from revteam.analytics.errors import AnalyticsSpecError
from revteam.analytics.funnel import BREAKDOWNS, MODES, FunnelSpec
from revteam.analytics.stage_journeys import stage_period
from revteam.domain.attribution import MODELS
from revteam.domain.days import check_year, parse_day
from revteam.errors import InvalidInput

A = TypeVar("A")

DEFAULT_MODEL = "w_shaped"
CONTENT_SORTS = {"traffic": "Traffic", "mqls": "MQLs", "deals_influenced": "Deals influenced", "won_deals": "Won",
                 "influenced_revenue": "Influenced revenue", "credited": "Revenue credited",
                 "used_in_deals": "Used in deals", "helpful_share": "Helpful share"}


def label(field: str, style: str) -> str:
    """How a face names a field in its messages: ``Start`` (form), ``--start`` (option), ``start`` (query)."""
    if style == "option":
        return "--" + field.replace("_", "-")
    if style == "query":
        return field
    return field.replace("_", " ").capitalize()


def day(value: str | None, field: str, style: str) -> date | None:
    return parse_day(value, label(field, style))


def parse_month(value: str | None) -> date | None:
    """YYYY-MM → its first day; empty → None."""
    if not value:
        return None
    try:
        first = date.fromisoformat(f"{value}-01")
    except ValueError:
        raise InvalidInput(f"Month {value!r} is not a month; use YYYY-MM.", code="bad_month") from None
    return check_year(first, "Month", value)


def one_of(value: str, allowed: Any, what: str, code: str) -> None:
    if value not in allowed:
        raise InvalidInput(f"Unknown {what} {value!r}; pick one of: {', '.join(allowed)}.", code=code)


def check_model(model: str | None) -> None:
    if model is not None:
        one_of(model, MODELS, "model", "bad_attribution_model")


def check_seed(seed: int | None) -> None:
    if seed is not None and seed < 0:
        raise InvalidInput(f"The seed is a whole number, 0 or more (not {seed}).", code="bad_seed")


@dataclass(frozen=True)
class Question(Generic[A]):
    """What every question shares: ``name`` is its path under ``/api/v1/analytics/``; ``cached`` says whether
    the desk keeps its answer per data fingerprint (questions on the handoff clocks are read fresh)."""

    name: ClassVar[str] = ""
    cached: ClassVar[bool] = True


# --- funnel and velocity -------------------------------------------------------------------------
@dataclass(frozen=True)
class Funnel(Question[Any]):
    """Conversion between the lifecycle stages and the days it takes; ``end`` is exclusive."""

    name: ClassVar[str] = "funnel"
    stages: tuple[str, ...] = ()  # empty: every main stage, in order (checked against them by the desk)
    start: date | None = None
    end: date | None = None
    mode: str = "cohort"
    window_days: int | None = None
    by: str | None = None

    def __post_init__(self) -> None:
        if self.by is not None:
            one_of(self.by, BREAKDOWNS, "breakdown", "bad_breakdown")
        if self.mode not in MODES:
            raise AnalyticsSpecError(f"Mode is one of {', '.join(MODES)}.", code="funnel_bad_mode")
        if self.start and self.end and self.end <= self.start:
            raise AnalyticsSpecError("The period must end after it starts.", code="funnel_bad_period")
        if self.window_days is not None and self.window_days <= 0:
            raise AnalyticsSpecError("The conversion window must be a positive number of days.",
                                     code="funnel_bad_window")

    @classmethod
    def parse(cls, *, stages: str = "", start: str | None = None, end: str | None = None, mode: str = "cohort",
              window_days: int | None = None, by: str | None = None, label_style: str = "form") -> Funnel:
        return cls(tuple(s.strip() for s in (stages or "").split(",") if s.strip()), day(start, "start", label_style),
                   day(end, "end", label_style), mode or "cohort", window_days, by or None)

    @property
    def spec(self) -> FunnelSpec:
        return FunnelSpec(self.stages, self.start, self.end, self.mode, self.window_days, self.by)


# --- attribution ---------------------------------------------------------------------------------
def _attribution_checks(grain: str, model: str | None, seed: int | None) -> None:
    one_of(grain, GRAINS, "grain", "bad_grain")
    check_model(model)
    check_seed(seed)


@dataclass(frozen=True)
class Attribution(Question[Any]):
    """Won revenue of the deals closed from ``start`` to ``end`` (inclusive) credited per channel, campaign or
    content piece under every model, with sourced and influenced revenue; rows sorted by ``model`` (None: by
    influenced revenue)."""

    name: ClassVar[str] = "attribution"
    grain: str = "channel"
    model: str | None = DEFAULT_MODEL
    start: date | None = None
    end: date | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        _attribution_checks(self.grain, self.model, self.seed)
        check_period(self.start, self.end)

    @classmethod
    def parse(cls, *, grain: str = "channel", model: str | None = DEFAULT_MODEL, start: str | None = None,
              end: str | None = None, seed: int | None = None, label_style: str = "form") -> Attribution:
        return cls(grain, model or None, day(start, "start", label_style), day(end, "end", label_style), seed)


@dataclass(frozen=True)
class StageAttribution(Question[Any]):
    """Conversions to ``stage`` (a contact's first move to it or beyond) from ``start`` to ``end``, both
    inclusive, credited per key under every model; rows sorted by ``model`` (None: linear)."""

    name: ClassVar[str] = "attribution/stage"
    stage: str = "mql"
    grain: str = "channel"
    model: str | None = DEFAULT_MODEL
    start: date = date(1970, 1, 1)
    end: date = date(1970, 1, 1)
    seed: int | None = None

    def __post_init__(self) -> None:
        _attribution_checks(self.grain, self.model, self.seed)
        check_period(self.start, self.end)

    @classmethod
    def of(cls, stage: str, *, today: date, grain: str = "channel", model: str | None = DEFAULT_MODEL,
           start: date | None = None, end: date | None = None, seed: int | None = None) -> StageAttribution:
        """The period defaults to the 90 days up to ``end`` (or ``today``): ``stage_journeys.stage_period``."""
        _attribution_checks(grain, model, seed)
        first, last = stage_period(start, end, today)
        return cls(stage, grain, model, first, last, seed)

    @classmethod
    def parse(cls, *, stage: str, today: date, grain: str = "channel", model: str | None = DEFAULT_MODEL,
              start: str | None = None, end: str | None = None, seed: int | None = None,
              label_style: str = "form") -> StageAttribution:
        _attribution_checks(grain, model or None, seed)
        return cls.of(stage, today=today, grain=grain, model=model or None, start=day(start, "start", label_style),
                      end=day(end, "end", label_style), seed=seed)


@dataclass(frozen=True)
class DealAttribution(Question[Any]):
    """One won deal: which of its touches got how much credit under ``model``, and why."""

    name: ClassVar[str] = "attribution/deals"
    deal_id: int = 0
    model: str = DEFAULT_MODEL
    grain: str = "channel"
    seed: int | None = None

    def __post_init__(self) -> None:
        _attribution_checks(self.grain, self.model, self.seed)


def attribution_question(*, today: date, grain: str = "channel", model: str | None = DEFAULT_MODEL,
                         start: str | None = None, end: str | None = None, stage: str | None = None,
                         deal: int | None = None, seed: int | None = None,
                         label_style: str = "form") -> Attribution | StageAttribution | DealAttribution:
    """The one attribution question these inputs ask: a deal's explanation, conversions to a stage, or won
    revenue (a deal's explanation is about its revenue, so it takes no stage)."""
    if stage and deal is not None:
        raise InvalidInput(f"{label('deal', label_style)} explains a won deal's revenue; leave out "
                           f"{label('stage', label_style)}.", code="bad_attribution_stage")
    if deal is not None:
        return DealAttribution(deal, model or DEFAULT_MODEL, grain, seed)
    if stage:
        return StageAttribution.parse(stage=stage, today=today, grain=grain, model=model, start=start, end=end,
                                      seed=seed, label_style=label_style)
    return Attribution.parse(grain=grain, model=model, start=start, end=end, seed=seed, label_style=label_style)


# --- content ROI ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ContentRoi(Question[Any]):
    """What every content piece did in [start, end) and the won revenue each model credits to it (deals closed
    in the window); the top five by traffic of a week and by won revenue of ``month`` (None: the latest with
    revenue). Pieces sorted by ``sort`` (``credited``: by ``model``'s credit); ``today`` picks this week's top
    five when it has traffic (else the latest week's)."""

    name: ClassVar[str] = "content"
    start: date | None = None
    end: date | None = None
    content_id: int | None = None
    sort: str = "influenced_revenue"
    model: str = DEFAULT_MODEL
    month: date | None = None
    today: date | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        one_of(self.sort, CONTENT_SORTS, "sort", "bad_sort")
        check_model(self.model)
        check_seed(self.seed)
        if self.start and self.end and self.end <= self.start:
            raise AnalyticsSpecError("The window must end after it starts.", code="content_bad_window")

    @classmethod
    def parse(cls, *, start: str | None = None, end: str | None = None, content_id: int | None = None,
              sort: str = "influenced_revenue", model: str = DEFAULT_MODEL, month: str | None = None,
              today: date | None = None, seed: int | None = None, label_style: str = "form") -> ContentRoi:
        one_of(sort, CONTENT_SORTS, "sort", "bad_sort")
        check_model(model)
        return cls(day(start, "start", label_style), day(end, "end", label_style), content_id, sort, model,
                   parse_month(month), today, seed)

    @property
    def spec(self) -> ContentSpec:
        return ContentSpec(self.start, self.end, self.content_id)


@dataclass(frozen=True)
class ContentCredit(Question[Any]):
    """The content ROI table as the engine returns it, with every model's credit on each piece and on each
    month's top five: what ``ContentRoi`` and ``ContentPiece`` sort and cut (kept once per window)."""

    name: ClassVar[str] = "content/credit"
    start: date | None = None
    end: date | None = None
    content_id: int | None = None
    seed: int | None = None

    @property
    def spec(self) -> ContentSpec:
        return ContentSpec(self.start, self.end, self.content_id)


@dataclass(frozen=True)
class ContentPiece(Question[Any]):
    """One content piece's row of the content ROI table and its credit under every model."""

    name: ClassVar[str] = "content/pieces"
    content_id: int = 0
    start: date | None = None
    end: date | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        check_seed(self.seed)
        if self.start and self.end and self.end <= self.start:
            raise AnalyticsSpecError("The window must end after it starts.", code="content_bad_window")

    @classmethod
    def parse(cls, content_id: int, *, start: str | None = None, end: str | None = None, seed: int | None = None,
              label_style: str = "form") -> ContentPiece:
        return cls(content_id, day(start, "start", label_style), day(end, "end", label_style), seed)
