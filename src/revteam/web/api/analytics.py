"""The analytics desk over the JSON API: ``GET /api/v1/analytics/<question>``.

Every endpoint reads its query parameters (named like the page's form fields and the CLI's options) into
one question (``analytics/questions.py``, ``revenue_questions.py``, ``report_questions.py``), asks the desk and returns the
answer's ``to_dict()``: the very JSON ``revteam ... --json`` prints, kept per data fingerprint like the
pages' answers. ``?sql=true`` adds the SQL the answer ran. Bad input is the usual JSON error with the
question's code (422: ``bad_breakdown``, ``bad_grain``, ``bad_attribution_model``, ``bad_date`` ...); a deal,
content piece or campaign that does not exist is 404. Bearer token, and the roles of the matching pages
(``web/policy.py``). Random draws (the forecast, sampled Shapley) use ``REVTEAM_ANALYTICS_SEED`` unless
``?seed=`` says otherwise, like the pages and the CLI.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from revteam.analytics.questions import (
    DEFAULT_MODEL,
    Attribution,
    ContentPiece,
    ContentRoi,
    DealAttribution,
    Funnel,
    StageAttribution,
)
from revteam.analytics.report_questions import CampaignFollowup, Rejections, SlaBoard, SlaCompliance, Unworked
from revteam.analytics.revenue_questions import Backtest, Forecast, Outlook, Revenue
from revteam.web.api import analytics_models as M
from revteam.domain.ids import MAX_ID
from revteam.web.api.models import ERROR_RESPONSES, IdPath, not_found
from revteam.web.deps import NowDep, RuntimeDep

router = APIRouter(prefix="/analytics", responses={**ERROR_RESPONSES, **not_found("No such deal, piece or campaign")})

Text = Annotated[str | None, Query()]
Sql = Annotated[bool, Query(description="Also return the SQL the answer ran")]
Seed = Annotated[int | None, Query(ge=0, description="Seed of the random draws (default: REVTEAM_ANALYTICS_SEED)")]
Day = Annotated[str | None, Query(description="YYYY-MM-DD")]


def _json(answer: Any, sql: bool, runtime: Any) -> JSONResponse:
    """The answer's JSON; with ``out_of_range`` when the data holds rows the analytics left out (dates outside
    1900-2199: ``Desk.out_of_range``), so a program sees why a number may be short."""
    out = answer.to_dict(with_sql=sql)
    left_out = runtime.desk.out_of_range()
    if left_out and isinstance(out, dict):
        out["out_of_range"] = left_out
    return JSONResponse(out)


def _ok(model: type, summary: str) -> dict[str, Any]:
    return {"response_class": JSONResponse, "responses": {200: {"model": model, "description": summary}},
            "summary": summary}


# --- funnel and attribution ----------------------------------------------------------------------
@router.get("/funnel", name="api.analytics.funnel", **_ok(M.FunnelOut, "Conversion and velocity between stages"))
def funnel(runtime: RuntimeDep, start: Day = None, end: Annotated[str | None, Query(description="YYYY-MM-DD, exclusive")] = None,
           mode: str = "cohort", by: Text = None, stages: Annotated[str, Query(description="Comma-separated")] = "",
           window: Annotated[int | None, Query(le=36_600, description="Count B only within N days of reaching A")] = None,
           sql: Sql = False) -> JSONResponse:
    q = Funnel.parse(stages=stages, start=start, end=end, mode=mode, window_days=window, by=by, label_style="query")
    return _json(runtime.desk.ask(q), sql, runtime)


@router.get("/attribution", name="api.analytics.attribution",
            **_ok(M.AttributionOut, "Won revenue credited per channel, campaign or piece under every model"))
def attribution(runtime: RuntimeDep, grain: str = "channel", model: str = DEFAULT_MODEL, start: Day = None,
                end: Annotated[str | None, Query(description="YYYY-MM-DD, inclusive")] = None, seed: Seed = None,
                sql: Sql = False) -> JSONResponse:
    q = Attribution.parse(grain=grain, model=model, start=start, end=end, seed=seed, label_style="query")
    return _json(runtime.desk.ask(q), sql, runtime)


@router.get("/attribution/stage", name="api.analytics.attribution_stage",
            **_ok(M.AttributionOut, "Conversions to a lifecycle stage credited per key under every model"))
def attribution_stage(runtime: RuntimeDep, now: NowDep, stage: Annotated[str, Query(description="A main stage")] = "mql",
                      grain: str = "channel", model: str = DEFAULT_MODEL, start: Day = None,
                      end: Annotated[str | None, Query(description="YYYY-MM-DD, inclusive (default: today)")] = None,
                      seed: Seed = None, sql: Sql = False) -> JSONResponse:
    q = StageAttribution.parse(stage=stage, today=now.date(), grain=grain, model=model, start=start, end=end,
                               seed=seed, label_style="query")
    return _json(runtime.desk.ask(q), sql, runtime)


@router.get("/attribution/deals/{deal_id}", name="api.analytics.attribution_deal",
            **_ok(M.DealAttributionOut, "One won deal's touches and the credit each got, and why"))
def attribution_deal(runtime: RuntimeDep, deal_id: IdPath, grain: str = "channel", model: str = DEFAULT_MODEL,
                     seed: Seed = None, sql: Sql = False) -> JSONResponse:
    return _json(runtime.desk.ask(DealAttribution(deal_id, model, grain, seed)), sql, runtime)


# --- content -------------------------------------------------------------------------------------
@router.get("/content", name="api.analytics.content",
            **_ok(M.ContentRoiOut, "Content ROI: every piece with the revenue each model credits to it"))
def content(runtime: RuntimeDep, now: NowDep, start: Day = None,
            end: Annotated[str | None, Query(description="YYYY-MM-DD, exclusive")] = None,
            sort: str = "influenced_revenue", model: str = DEFAULT_MODEL,
            month: Annotated[str | None, Query(description="YYYY-MM: its top five by revenue")] = None,
            seed: Seed = None, sql: Sql = False) -> JSONResponse:
    q = ContentRoi.parse(start=start, end=end, sort=sort, model=model, month=month, today=now.date(), seed=seed,
                         label_style="query")
    return _json(runtime.desk.ask(q), sql, runtime)


@router.get("/content/{content_id}", name="api.analytics.content_piece",
            **_ok(M.ContentPieceOut, "One content piece and its credit under every model"))
def content_piece(runtime: RuntimeDep, content_id: IdPath, start: Day = None, end: Day = None,
                  seed: Seed = None) -> JSONResponse:
    q = ContentPiece.parse(content_id, start=start, end=end, seed=seed, label_style="query")
    return _json(runtime.desk.ask(q), False, runtime)


# --- revenue and the forecast --------------------------------------------------------------------
@router.get("/revenue", name="api.analytics.revenue",
            **_ok(M.RevenueOut, "Won revenue and new customers against target by month, quarter and team"))
def revenue(runtime: RuntimeDep, now: NowDep,
            first: Annotated[str | None, Query(alias="from", description="YYYY-MM (or YYYY-MM-DD)")] = None,
            to: Annotated[str | None, Query(description="YYYY-MM (or YYYY-MM-DD)")] = None,
            sql: Sql = False) -> JSONResponse:
    q = Revenue.parse(today=now.date(), first=first, last=to, label_style="query")
    return _json(runtime.desk.ask(q), sql, runtime)


@router.get("/forecast", name="api.analytics.forecast",
            **_ok(M.ForecastOut, "Won revenue to the end of the month or quarter: P10/P50/P90 and what is in the way"))
def forecast(runtime: RuntimeDep, now: NowDep, period: str = "month", as_of: Day = None,
             draws: Annotated[int, Query(ge=100, le=100_000)] = 10_000, seed: Seed = None,
             top: Annotated[int, Query(ge=1, le=100)] = 10, windows: str = "auto", sql: Sql = False) -> JSONResponse:
    q = Forecast.parse(today=now.date(), period=period, as_of=as_of, draws=draws, seed=seed, top=top,
                       windows=windows, label_style="query")
    return _json(runtime.desk.ask(q), sql, runtime)


@router.get("/forecast/backtest", name="api.analytics.backtest",
            **_ok(M.BacktestOut, "Past forecasts against what happened, beside the baselines (seconds)"))
def backtest(runtime: RuntimeDep, now: NowDep, as_of: Day = None,
             draws: Annotated[int, Query(ge=100, le=100_000)] = 10_000, seed: Seed = None, windows: str = "auto",
             sql: Sql = False) -> JSONResponse:
    day = Forecast.parse(today=now.date(), as_of=as_of, label_style="query").day
    return _json(runtime.desk.ask(Backtest(today=day, draws=draws, seed=seed, windows=windows)), sql, runtime)


@router.get("/outlook", name="api.analytics.outlook",
            **_ok(M.OutlookOut, "The revenue page: revenue against target, this month's and quarter's forecast"))
def outlook(runtime: RuntimeDep, now: NowDep, seed: Seed = None, sql: Sql = False) -> JSONResponse:
    return _json(runtime.desk.ask(Outlook(today=now.date(), seed=seed)), sql, runtime)


# --- handoff reports -----------------------------------------------------------------------------
Days = Annotated[int, Query(ge=1, le=366, description="The period: the last N days")]
Rep = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this rep (user id)")]


@router.get("/reports/compliance", name="api.analytics.compliance",
            **_ok(M.ComplianceReportOut, "SLA compliance per rep or team, and marketing's delivery"))
def compliance(runtime: RuntimeDep, now: NowDep, days: Days = 30, by: str = "rep", sql: Sql = False) -> JSONResponse:
    return _json(runtime.desk.ask(SlaCompliance(now=now, days=days, by=by)), sql, runtime)


@router.get("/reports/board", name="api.analytics.board",
            **_ok(M.BoardReportOut, "The SLA board: leads at risk or overdue now, compliance, delivery"))
def board(runtime: RuntimeDep, now: NowDep, days: Days = 30, rep: Rep = None, sql: Sql = False) -> JSONResponse:
    return _json(runtime.desk.ask(SlaBoard(now=now, days=days, rep_id=rep)), sql, runtime)


@router.get("/reports/unworked", name="api.analytics.unworked",
            **_ok(M.UnworkedReportOut, "Leads handed over with no touch yet, per rep"))
def unworked(runtime: RuntimeDep, now: NowDep, days: Days = 7, rep: Rep = None, sql: Sql = False) -> JSONResponse:
    return _json(runtime.desk.ask(Unworked(now=now, days=days, rep_id=rep)), sql, runtime)


@router.get("/reports/rejections", name="api.analytics.rejections",
            **_ok(M.RejectionsReportOut, "Rejection rates by source, campaign, reason or rep"))
def rejections(runtime: RuntimeDep, now: NowDep, days: Days = 90, by: str = "source",
               sql: Sql = False) -> JSONResponse:
    return _json(runtime.desk.ask(Rejections(now=now, days=days, by=by)), sql, runtime)


@router.get("/reports/followup", name="api.analytics.followup",
            **_ok(M.FollowupReportOut, "What happened to everyone a campaign touched (default: the latest)"))
def followup(runtime: RuntimeDep, campaign: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
             sql: Sql = False) -> JSONResponse:
    return _json(runtime.desk.ask(CampaignFollowup(campaign)), sql, runtime)
