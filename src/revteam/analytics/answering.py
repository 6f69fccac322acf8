"""How the desk answers each analytics question: one small function per question, listed in ``ANSWERS``.

Each function receives the ``Workbench`` (the desk's runner, attribution cache, sessions and SQL recorder)
and a question whose seed is already filled in, calls the computation that answers it, and wraps the
result in its typed answer (``analytics/answers.py``). This is the one place where a question meets its
computation: moving a computation onto the engine changes one function here and nothing in the faces.
Composite questions (content ROI, the revenue page) ask the desk for their parts, so the parts are kept in
the same cache and the CLI, the pages and the API get the same numbers for them.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from revteam.analytics import content_credit as CC
from revteam.analytics import revenue as R
from revteam.analytics.answers import (
    AttributionAnswer,
    BacktestAnswer,
    ContentAnswer,
    ContentPieceAnswer,
    CreditedContent,
    OutlookAnswer,
    Report,
    compact_statements,
)
from revteam.analytics.attribution_cache import AttributionCache
from revteam.analytics.questions import (
    Attribution,
    ContentCredit,
    ContentPiece,
    ContentRoi,
    DealAttribution,
    Funnel,
    Question,
    StageAttribution,
)
from revteam.analytics.revenue_months import revenue_report_on
from revteam.analytics.revenue_questions import Backtest, Forecast, MavenBacktest, Outlook, Revenue
from revteam.analytics.runner import Analytics, AnalyticsResult
from revteam.analytics.snapshot import TABLES
from revteam.domain.attribution import MODELS
from revteam.domain.forecast import ForecastConfig
from revteam.errors import InvalidInput, NotFound
from revteam.services.record.lifecycle import load_stages, stage_labels

A = TypeVar("A")
STAGE_JOURNEY_TABLES = ("touchpoints", "stage_changes", "deals", "deal_contacts")  # stage_journeys.stage_data_from_tables
FORECAST_PERIODS = ("month", "quarter")


class Workbench(Protocol):
    """What an answering function may use (the desk is one)."""

    engine: SqlEngine
    sessions: sessionmaker[Session]
    runner: Analytics
    attribution: AttributionCache

    def ask(self, question: Question[A]) -> A: ...

    def reading(self) -> AbstractContextManager[list[str]]: ...


def compact_sql(statements: list[str]) -> tuple[str, ...]:
    return tuple(compact_statements(statements))


def snapshot_reads(engine: SqlEngine, names: tuple[str, ...]) -> list[str]:
    """The statements that read ``names`` into the analytics snapshot (what a journey cut from it came from)."""
    return [str(select(*(getattr(model, c) for c in cols)).compile(engine))
            for name, (model, cols) in TABLES.items() if name in names]


# --- funnel ---------------------------------------------------------------------------------------
def funnel(w: Workbench, q: Funnel) -> AnalyticsResult:
    return w.runner.funnel(q.spec)


# --- attribution ----------------------------------------------------------------------------------
def _stage_menu(w: Workbench) -> tuple[tuple[str, ...], dict[str, str]]:
    with w.sessions() as s:
        return tuple(load_stages(s).main), stage_labels(s)


def _sort(rows: list[dict[str, Any]], model: str | None) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (-r["credit"][model], r["label"])) if model else rows


def revenue_attribution(w: Workbench, q: Attribution) -> AttributionAnswer:
    assert q.seed is not None
    with w.reading() as sql:
        js = w.attribution.journeys(q.grain, q.start, q.end)
        credits = w.attribution.credits(q.grain, q.start, q.end, seed=q.seed)
        keyed = w.attribution.sourced_and_influenced(q.grain, q.start, q.end)
    rows = [{**r, "credit": {m: credits[m].get(r["key"], 0.0) for m in MODELS}} for r in keyed]
    attributed = sorted((d for d in js.subjects if d.get("kind") == "deal"), key=lambda d: -d.get("amount", 0))
    main, labels = _stage_menu(w)
    return AttributionAnswer("won_revenue", q.grain, q.model, tuple(MODELS), q.seed, q.start, q.end, None, None,
                             int(js.journeys.n_journeys), int(js.journeys.converted.sum()), _sort(rows, q.model),
                             attributed, js.unattributed, labels, main, compact_sql(sql))


def stage_attribution(w: Workbench, q: StageAttribution) -> AttributionAnswer:
    """Conversions have no amount to source or to count as influenced; nothing to share out without one."""
    assert q.seed is not None
    with w.reading() as sql:
        js = w.attribution.journeys(q.grain, q.start, q.end, stage=q.stage)  # checks the stage
        credits = w.attribution.credits(q.grain, q.start, q.end, stage=q.stage, seed=q.seed)
    converted = int(js.journeys.converted.sum())
    rows = [{"key": k, "label": js.label(k), "credit": {m: credits[m].get(k, 0.0) for m in MODELS}}
            for k in js.journeys.keys] if converted else []
    if w.attribution.tables is not None:
        sql = [f"-- cut from the analytics snapshot of {', '.join(STAGE_JOURNEY_TABLES)}, read by:",
               *snapshot_reads(w.engine, STAGE_JOURNEY_TABLES), *sql]
    main, labels = _stage_menu(w)
    return AttributionAnswer("conversions", q.grain, q.model, tuple(MODELS), q.seed, q.start, q.end, q.stage,
                             labels.get(q.stage, q.stage), int(js.journeys.n_journeys), converted,
                             _sort(rows, q.model or "linear"), [], js.unattributed, labels, main, compact_sql(sql))


def deal_attribution(w: Workbench, q: DealAttribution) -> Report:
    assert q.seed is not None
    with w.sessions() as s, w.reading() as sql:
        data = w.attribution.explain_deal(s, q.deal_id, model=q.model, grain=q.grain, seed=q.seed)
    return Report("attribution/deal", data, compact_sql(sql))


# --- content ROI ----------------------------------------------------------------------------------
def content_credit(w: Workbench, q: ContentCredit) -> CreditedContent:
    assert q.seed is not None
    result = w.runner.content_roi(q.spec)
    with w.reading() as sql:
        credited = CC.credit_result(result, w.attribution, q.spec, seed=q.seed)
    return CreditedContent(credited, compact_sql(sql))


def _week(weeks: list[dict[str, Any]], today: date | None) -> tuple[str | None, str | None, list[dict[str, Any]]]:
    """This week's top five by traffic when it has traffic, else the latest week's."""
    this_week = str(today - timedelta(days=today.weekday())) if today else None
    key = next((k for k in ("week", "week_start") if weeks and k in weeks[0]), None)
    if key is None:
        return None, this_week, []
    found = sorted({str(w[key])[:10] for w in weeks})
    latest = this_week if this_week in found else (found[-1] if found else None)
    return latest, this_week, [w for w in weeks if str(w[key])[:10] == latest][:5]


def content_roi(w: Workbench, q: ContentRoi) -> ContentAnswer:
    base = w.ask(ContentCredit(q.start, q.end, q.content_id, q.seed))
    result = base.result

    def value(p: dict[str, Any]) -> float:
        return p["credited"][q.model] if q.sort == "credited" else (p[q.sort] or 0)

    pieces = sorted(result.rows("pieces"), key=lambda p: -value(p))
    week, this_week, top_week = _week(result.rows("top_by_week"), q.today)
    by_month = result.rows("top_by_month")
    months = tuple(sorted({str(r["month"])[:7] for r in by_month}))
    month = q.month.isoformat()[:7] if q.month else (months[-1] if months else None)
    top_month = [{**r, "credit": r["credited"][q.model]} for r in by_month if str(r["month"])[:7] == month][:5]
    return ContentAnswer(result, pieces, q.sort, q.model, week, this_week, top_week, month, months, top_month,
                         base.credited_sql)


def content_piece(w: Workbench, q: ContentPiece) -> ContentPieceAnswer:
    base = w.ask(ContentCredit(q.start, q.end, None, q.seed))  # the whole table: kept with the list page's
    piece = next((p for p in base.result.rows("pieces") if p.get("content_id") == q.content_id), None)
    if piece is None:
        raise NotFound(f"No content piece {q.content_id}.", code="content_not_found")
    credits = [{"model": name, "label": m.label, "definition": m.definition,
                "credit": float(piece["credited"].get(name, 0.0))} for name, m in MODELS.items()]
    return ContentPieceAnswer(piece, credits, q.start, q.end)


# --- revenue, the forecast, the backtest ----------------------------------------------------------
def revenue(w: Workbench, q: Revenue) -> Report:
    with w.sessions() as s, w.reading() as sql:  # the deal scans on the engine; targets are a few rows
        data = revenue_report_on(w.runner, R.load_targets(s), today=q.today, first=q.first, last=q.last)
    return Report("revenue", data, compact_sql(sql))


def forecast(w: Workbench, q: Forecast) -> Report:
    config = ForecastConfig(draws=q.draws, windows=q.windows)
    with w.sessions() as s, w.reading() as sql:
        data = R.forecast_report_on(w.runner, R.load_targets(s), as_of=q.day, period=q.period,
                                    rng=np.random.default_rng(q.seed), config=config, top=q.top, today=q.today)
    return Report("forecast", {**data, "seed": q.seed}, compact_sql(sql))


def maven_backtest(w: Workbench, q: MavenBacktest) -> BacktestAnswer:
    assert q.seed is not None  # CSV files: no SQL
    rng, config = np.random.default_rng(q.seed), ForecastConfig(draws=q.draws, windows=q.windows)
    return BacktestAnswer(R.backtest_maven(Path(q.maven), rng=rng, config=config), f"Maven CRM export ({q.maven})",
                          q.draws, q.seed)


def backtest(w: Workbench, q: Backtest) -> BacktestAnswer:
    assert q.seed is not None
    rng, config = np.random.default_rng(q.seed), ForecastConfig(draws=q.draws, windows=q.windows)
    with w.reading() as sql:
        bt = R.backtest_on(w.runner, today=q.today, rng=rng, config=config)
    return BacktestAnswer(bt, w.engine.url.render_as_string(hide_password=True), q.draws, q.seed, compact_sql(sql))


def outlook(w: Workbench, q: Outlook) -> OutlookAnswer:
    report = w.ask(Revenue(today=q.today))
    forecasts: list[dict[str, Any]] = []
    sql = list(report.sql)
    for period in FORECAST_PERIODS:
        try:
            f = w.ask(Forecast(today=q.today, period=period, seed=q.seed))
        except InvalidInput as e:  # too little history to learn from: say so in that card, keep the rest
            forecasts.append({"period": period, "error": e.message, "code": e.code})
            continue
        forecasts.append(f.data)
        sql += f.sql
    assert q.seed is not None
    return OutlookAnswer(report.data, forecasts, q.seed, tuple(dict.fromkeys(sql)))


ANSWERS: dict[type, Callable[[Any, Any], Any]] = {
    Funnel: funnel,
    Attribution: revenue_attribution,
    StageAttribution: stage_attribution,
    DealAttribution: deal_attribution,
    ContentCredit: content_credit,
    ContentRoi: content_roi,
    ContentPiece: content_piece,
    Revenue: revenue,
    Forecast: forecast,
    Backtest: backtest,
    MavenBacktest: maven_backtest,
    Outlook: outlook,
}
