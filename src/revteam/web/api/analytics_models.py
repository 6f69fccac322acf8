"""What ``/api/v1/analytics/...`` returns, for the OpenAPI description.

The endpoints return the desk's answers exactly as ``to_dict()`` makes them (the JSON ``revteam ... --json``
prints), so these models document the shape and do not reshape it: each lists the fields a program can rely
on and allows more (``extra="allow"``: forecasts carry what was learned, rows carry every model by name).
Money is in the deals' currency, dates are ISO text, shares are 0-1.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class OutOfRangeOut(_Open):
    table: str
    columns: list[str]
    left_out: int = Field(description="Rows not counted: a required date outside 1900-2199")
    read_as_none: int = Field(description="Rows counted with an optional date outside 1900-2199 read as none")
    ids: list[int] = Field(description="The first 20 of those rows' ids")
    message: str


class WithSql(_Open):
    sql: Any = Field(None, description="With `?sql=true`: the SQL the answer ran (by query, or a list)")
    out_of_range: list[OutOfRangeOut] | None = Field(
        None, description="Only when the data holds dates outside 1900-2199: the rows left out of this answer")


# --- funnel --------------------------------------------------------------------------------------
class FunnelEnteredOut(_Open):
    group: str = Field(description="`all`, or the breakdown's value")
    stage: str
    contacts: int


class FunnelConversionOut(_Open):
    group: str
    from_stage: str
    to_stage: str
    entered: int
    converted: int
    rate: float | None


class FunnelVelocityOut(_Open):
    group: str
    from_stage: str
    to_stage: str
    median_days: float | None
    p75_days: float | None
    p90_days: float | None


class FunnelOut(WithSql):
    kind: str = Field(examples=["funnel"])
    engine: str = Field(description="`duckdb` or `spark`")
    stages: list[str]
    mode: str
    breakdown: str | None
    start: str | None
    end: str | None = Field(description="Exclusive")
    entered: list[FunnelEnteredOut]
    conversion: list[FunnelConversionOut]
    velocity: list[FunnelVelocityOut]


# --- attribution ---------------------------------------------------------------------------------
class AttributionKeyOut(_Open):
    key: str = Field(description="The channel, or the campaign or content id as text; `(none)` for no key")
    label: str
    sourced: float | None = Field(None, description="Won revenue: first touch was this key (revenue only)")
    influenced: float | None = Field(None, description="Won revenue of the deals it touched (revenue only)")


class AttributionOut(WithSql):
    credit: str = Field(description="`won_revenue` or `conversions`")
    grain: str
    model: str | None = Field(description="The model the keys are sorted by")
    models: list[str] = Field(description="Every model; each key row has a field per model with its credit")
    seed: int
    start: str | None
    end: str | None
    deals: int | None = Field(None, description="Won revenue: closed deals in the period")
    stage: str | None = Field(None, description="Conversions: the stage credited")
    conversions: int | None = None
    non_converting: int | None = None
    unattributed: list[dict[str, Any]] = Field(description="Subjects with no touch to credit (never credited)")
    keys: list[AttributionKeyOut]


class DealTouchOut(_Open):
    touch_id: int
    occurred_at: str
    type: str
    key: str
    label: str
    roles: list[str]
    share: float
    credit: float
    reason: str


class DealAttributionOut(WithSql):
    deal_id: int
    name: str
    amount: float
    currency: str
    closed_on: str
    model: str
    grain: str
    rows: list[DealTouchOut]
    unattributed: str | None = Field(None, description="Why the deal has no touch to credit")


# --- content -------------------------------------------------------------------------------------
class ContentPieceRowOut(_Open):
    content_id: int
    title: str
    traffic: int
    mqls: int
    deals_influenced: int
    won_deals: int
    influenced_revenue: float
    credited: dict[str, float] = Field(description="Won revenue credited to the piece, per model")
    used_in_deals: int
    helpful_share: float | None


class ContentRoiOut(WithSql):
    kind: str
    start: str | None
    end: str | None = Field(description="Exclusive")
    models: list[str]
    seed: int
    sort: str
    model: str
    week: str | None
    month: str | None
    pieces: list[ContentPieceRowOut]
    top_by_week: list[dict[str, Any]]
    top_by_month: list[dict[str, Any]]


class ContentPieceCreditOut(BaseModel):
    model: str
    label: str
    definition: str
    credit: float


class ContentPieceOut(_Open):
    piece: ContentPieceRowOut
    credits: list[ContentPieceCreditOut]
    start: str | None
    end: str | None


# --- revenue and the forecast --------------------------------------------------------------------
class RevenueOut(WithSql):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    from_: str = Field(alias="from")
    to: str
    today: str
    months: list[dict[str, Any]] = Field(description="Won revenue, target, attainment, new customers per month")
    quarters: list[dict[str, Any]]
    teams: list[dict[str, Any]]
    unified_kpi: dict[str, Any]
    win_rate: float | None
    sales_cycle_days: dict[str, Any]


class ForecastOut(WithSql):
    period: str
    period_start: str
    period_end: str
    as_of: str
    days_left: int
    won_so_far: float
    expected: float
    p10: float
    p50: float
    p90: float
    target: float | None
    seed: int
    what_stands_in_the_way: dict[str, Any]
    baselines: dict[str, Any]


class BacktestOut(WithSql):
    source: str
    draws: int
    seed: int
    rows: list[dict[str, Any]]
    summary: dict[str, Any]


class OutlookOut(WithSql):
    revenue: dict[str, Any] = Field(description="As /analytics/revenue with its defaults")
    forecasts: list[dict[str, Any]] = Field(description="The month's and the quarter's forecast, as "
                                            "/analytics/forecast; `{period, error, code}` when one cannot be made")
    seed: int


# --- handoff reports -----------------------------------------------------------------------------
class ComplianceReportOut(WithSql):
    by: str
    days: int
    sales: list[dict[str, Any]] = Field(description="Per rep or team, then `all`: handoffs, worked in time, share")
    marketing: dict[str, Any] | None = Field(description="MQLs and SALs this month against the SLA; null without one")


class BoardReportOut(WithSql):
    days: int
    at_risk: list[dict[str, Any]]
    breached: list[dict[str, Any]]
    reps: list[dict[str, Any]]
    teams: list[dict[str, Any]]
    overall: dict[str, Any] | None
    headline: dict[str, Any] | None
    delivery: dict[str, Any] | None
    time_zone: str
    agreement_version: int | None


class UnworkedReportOut(WithSql):
    days: int
    handed: int
    unworked: int
    rows: list[dict[str, Any]]


class RejectionsReportOut(WithSql):
    by: str
    days: int
    review_rate: float = Field(description="Rates above it are flagged for a scoring review")
    totals: dict[str, Any]
    rows: list[dict[str, Any]] = Field(description="key, label, handed, decided, rejected, rejection_rate, share, flag")


class FollowupReportOut(WithSql):
    campaign_id: int | None
    name: str | None = None
    people: int | None = None
    contacted: int | None = None
    reached: dict[str, int] | None = None
    pipeline: float | None = None
    revenue: float | None = None
    never_contacted: list[dict[str, Any]] | None = None
    campaigns: list[dict[str, Any]] = Field(description="The campaigns to choose from, the most recently active first")
