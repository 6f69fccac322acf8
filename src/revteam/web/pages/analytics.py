"""Issue #4, read-only for everyone: the funnel, the attribution explorer, content ROI, revenue and the
forecast. Numbers come from ``runtime.analytics`` (funnel, content ROI: Ibis on the warm snapshot),
``runtime.attribution`` (journeys and model credit in NumPy) and ``revteam.analytics.revenue``; the first
two keep their answers per data fingerprint, and ``web/warm.py`` computes the pages' default questions
in the background when the app starts and after the data changes. These routes read the inputs, turn a
bad one into a message in the form (422) and lay the numbers out as bars and SVG.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from revteam.analytics.content import ContentSpec
from revteam.analytics.funnel import FunnelSpec
from revteam.domain.attribution import MODELS
from revteam.domain.days import parse_day
from revteam.errors import InvalidInput, NotFound
from revteam.analytics.content_credit import content_roi, deals_closed_in
from revteam.services.record.lifecycle import load_stages, stage_labels
from revteam.analytics.stage_journeys import DEFAULT_PERIOD_DAYS, check_stage, stage_period
from revteam.analytics.revenue import forecast_report, revenue_report
from revteam.web.deps import NowDep, RuntimeDep, SessionDep
from revteam.web.templating import money, render

router = APIRouter(include_in_schema=False)

BREAKDOWNS = ("source", "campaign", "persona", "segment", "region", "industry", "rep", "channel", "landing_page",
              "content", "month")
MODES = ("cohort", "period")
GRAINS = ("channel", "campaign", "content")
GRAIN_NOUNS = {"channel": "channel", "campaign": "campaign", "content": "content piece"}
TOP_GROUPS = 10
CONTENT_SORTS = {"traffic": "Traffic", "mqls": "MQLs", "deals_influenced": "Deals influenced", "won_deals": "Won",
                 "influenced_revenue": "Influenced revenue", "credited": "Revenue credited", "used_in_deals": "Used in deals",
                 "helpful_share": "Helpful share"}
FORECAST_SEED = 7  # the same page shows the same forecast for the same data
DEFAULT_MODEL = "w_shaped"

Text = Annotated[str, Query()]


def _max(values: Any) -> float:
    return max([float(v or 0) for v in values] + [1e-9])


# --- funnel --------------------------------------------------------------------------------------
def _funnel_view(result: Any, by: str | None) -> dict[str, Any]:
    stages = list(result.meta["stages"])
    entered = {(r["group"], r["stage"]): r["contacts"] for r in result.rows("entered")}
    conv = {(r["group"], r["from_stage"], r["to_stage"]): r for r in result.rows("conversion")}
    vel = {(r["group"], r["from_stage"], r["to_stage"]): r for r in result.rows("velocity")}
    groups = list(dict.fromkeys(r["group"] for r in result.rows("entered")))

    def steps(group: Any) -> list[dict[str, Any]]:
        top = _max(entered.get((group, s), 0) for s in stages)
        out = []
        for a, b in zip(stages, [*stages[1:], None]):
            c, v = conv.get((group, a, b)), vel.get((group, a, b))
            n = entered.get((group, a), 0) or 0
            out.append({"stage": a, "next": b, "contacts": n, "share": n / top,
                        "rate": c["rate"] if c else None, "median_days": v["median_days"] if v else None,
                        "p90_days": v["p90_days"] if v else None})
        return out

    if by:
        first = stages[0] if stages else None
        groups.sort(key=lambda g: -(entered.get((g, first), 0) or 0))
        shown = groups[:TOP_GROUPS]
        overall_max = _max(entered.get((g, s), 0) for g in shown for s in stages)
        rows = [{"group": g, "steps": [{**st, "share": st["contacts"] / overall_max} for st in steps(g)]}
                for g in shown]
        return {"stages": stages, "overall": None, "groups": rows, "more_groups": max(0, len(groups) - TOP_GROUPS)}
    return {"stages": stages, "overall": steps(groups[0]) if groups else [], "groups": [], "more_groups": 0}


@router.get("/funnel", name="funnel.page", response_class=HTMLResponse)
def funnel_page(request: Request, runtime: RuntimeDep, start: Text = "", end: Text = "", mode: Text = "cohort",
                by: Text = "") -> HTMLResponse:
    form = {"start": start, "end": end, "mode": mode, "by": by}
    ctx: dict[str, Any] = {"form": form, "breakdowns": BREAKDOWNS, "modes": MODES, "error": None, "view": None,
                           "queries": {}}
    try:
        if by and by not in BREAKDOWNS:
            raise InvalidInput(f"Unknown breakdown {by!r}; pick one of: {', '.join(BREAKDOWNS)}.",
                               code="bad_breakdown")
        spec = FunnelSpec(start=parse_day(start, "Start"), end=parse_day(end, "End"), mode=mode, breakdown=by or None)
        result = runtime.analytics.funnel(spec)
    except InvalidInput as e:  # AnalyticsSpecError is one
        ctx["error"] = e.message if hasattr(e, "message") else str(e)
        return render(request, "funnel.html", ctx, status=422)
    ctx["view"] = _funnel_view(result, by or None)
    ctx["queries"] = {name: q.sql for name, q in result.queries.items()}
    return render(request, "funnel.html", ctx)


# --- attribution ---------------------------------------------------------------------------------
def _check_attribution(grain: str, model: str) -> None:
    if grain not in GRAINS:
        raise InvalidInput(f"Unknown grain {grain!r}; pick one of: {', '.join(GRAINS)}.", code="bad_grain")
    if model not in MODELS:
        raise InvalidInput(f"Unknown model {model!r}; pick one of: {', '.join(MODELS)}.", code="bad_attribution_model")


@router.get("/attribution", name="attribution.page", response_class=HTMLResponse)
def attribution_page(request: Request, runtime: RuntimeDep, db: SessionDep, now: NowDep, grain: Text = "channel",
                     model: Text = DEFAULT_MODEL, start: Text = "", end: Text = "", stage: Text = "") -> HTMLResponse:
    """Won revenue (no ``stage``) or conversions to ``stage`` credited per key under every model."""
    form = {"grain": grain, "model": model, "start": start, "end": end, "stage": stage}
    stages, labels = load_stages(db), stage_labels(db)
    ctx: dict[str, Any] = {"form": form, "grains": GRAINS, "models": MODELS, "error": None, "rows": [],
                           "deals": 0, "unattributed": [], "attributed": [], "grain_noun": GRAIN_NOUNS.get(grain, grain),
                           "stages": [(key, labels.get(key, key)) for key in stages.main], "stage_label": None}
    try:
        _check_attribution(grain, model)
        window = (parse_day(start, "Start"), parse_day(end, "End"))
        if stage:
            check_stage(stages, stage)
            window = stage_period(*window, now.date())
        js = runtime.attribution.journeys(grain, *window, stage=stage or None)
    except InvalidInput as e:
        ctx["error"] = e.message
        return render(request, "attribution.html", ctx, status=422)
    credits = runtime.attribution.credits(grain, *window, stage=stage or None)
    converted = int(js.journeys.converted.sum())
    if stage:  # conversions: no amount to source or to count as influenced; nothing to share out without one
        rows = [{"key": k, "label": js.label(k), "credit": {m: credits[m].get(k, 0.0) for m in MODELS}}
                for k in js.journeys.keys] if converted else []
    else:
        rows = [{**r, "credit": {m: credits[m].get(r["key"], 0.0) for m in MODELS}}
                for r in runtime.attribution.sourced_and_influenced(grain, *window)]
    rows.sort(key=lambda r: (-r["credit"][model], r["label"]))
    top = _max(r["credit"][model] for r in rows)
    for r in rows:
        r["share"] = r["credit"][model] / top
    attributed = sorted((d for d in js.subjects if d.get("kind") == "deal"), key=lambda d: -d.get("amount", 0))
    ctx.update(rows=rows, deals=int(js.journeys.n_journeys), unattributed=js.unattributed, attributed=attributed,
               total=sum(r["credit"][model] for r in rows), conversions=converted,
               non_converting=int(js.journeys.n_journeys) - converted,
               stage_label=labels.get(stage, stage) if stage else None,
               period=(window[0].isoformat(), window[1].isoformat()) if stage else None,
               default_period=bool(stage) and not (start or end), period_days=DEFAULT_PERIOD_DAYS)
    return render(request, "attribution.html", ctx)


@router.get("/attribution/deals/{deal_id}", name="attribution.deal", response_class=HTMLResponse)
def attribution_deal(request: Request, runtime: RuntimeDep, db: SessionDep, deal_id: int, grain: Text = "channel",
                     model: Text = DEFAULT_MODEL) -> HTMLResponse:
    _check_attribution(grain, model)
    data = runtime.attribution.explain_deal(db, deal_id, model=model, grain=grain)
    ctx = {"d": data, "form": {"grain": grain, "model": model}, "grains": GRAINS, "models": MODELS,
           "top": _max(r["credit"] for r in data["rows"])}
    return render(request, "attribution_deal.html", ctx)


# --- content ROI ---------------------------------------------------------------------------------
def _month(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(f"{value}-01")
    except ValueError:
        raise InvalidInput(f"Month {value!r} is not a month; use YYYY-MM.", code="bad_month") from None


def _top_month(rows: list[dict[str, Any]], asked: date | None, model: str) -> dict[str, Any]:
    """The month card: the asked month's top pieces, or the latest month with won revenue."""
    found = sorted({str(r["month"])[:7] for r in rows})
    month = asked.isoformat()[:7] if asked else (found[-1] if found else None)
    top = [{**r, "credit": r["credited"][model]} for r in rows if str(r["month"])[:7] == month][:5]
    label = date.fromisoformat(f"{month}-01").strftime("%B %Y") if month else None
    return {"month": month, "month_label": label, "months": [(m, date.fromisoformat(f"{m}-01").strftime("%b %Y"))
                                                             for m in reversed(found)],
            "top_month": top, "month_top": _max(r["won_revenue"] for r in top)}


@router.get("/content", name="content.page", response_class=HTMLResponse)
def content_page(request: Request, runtime: RuntimeDep, now: NowDep, start: Text = "", end: Text = "",
                 sort: Text = "traffic", model: Text = DEFAULT_MODEL, month: Text = "") -> HTMLResponse:
    form = {"start": start, "end": end, "sort": sort, "model": model, "month": month}
    ctx: dict[str, Any] = {"form": form, "sorts": CONTENT_SORTS, "models": MODELS, "error": None, "pieces": [],
                           "top_week": [], "week": None, "top_month": [], "months": []}
    try:
        if sort not in CONTENT_SORTS:
            raise InvalidInput(f"Unknown sort {sort!r}; pick one of: {', '.join(CONTENT_SORTS)}.", code="bad_sort")
        if model not in MODELS:
            raise InvalidInput(f"Unknown model {model!r}; pick one of: {', '.join(MODELS)}.",
                               code="bad_attribution_model")
        asked_month = _month(month)
        result = content_roi(runtime.analytics, runtime.attribution,
                             ContentSpec(start=parse_day(start, "Start"), end=parse_day(end, "End")))
    except InvalidInput as e:
        ctx["error"] = e.message
        return render(request, "content.html", ctx, status=422)

    def sort_value(p: dict[str, Any]) -> float:
        return p["credited"][model] if sort == "credited" else (p[sort] or 0)

    pieces = sorted(result.rows("pieces"), key=lambda p: -sort_value(p))
    weeks = result.rows("top_by_week")
    this_week = (now.date() - timedelta(days=now.weekday()))
    week_key = next((k for k in ("week", "week_start") if weeks and k in weeks[0]), None)
    latest = None
    if week_key:
        found = sorted({str(w[week_key])[:10] for w in weeks})
        latest = str(this_week) if str(this_week) in found else (found[-1] if found else None)
    top_week = [w for w in weeks if week_key and str(w[week_key])[:10] == latest][:5]
    ctx.update(pieces=pieces, top_week=top_week, week=latest, week_top=_max(w.get("traffic", 0) for w in top_week),
               this_week=str(this_week), model_label=MODELS[model].label,
               **_top_month(result.rows("top_by_month"), asked_month, model))
    return render(request, "content.html", ctx)


@router.get("/content/{content_id}", name="content.piece", response_class=HTMLResponse)
def content_piece(request: Request, runtime: RuntimeDep, content_id: int, start: Text = "",
                  end: Text = "") -> HTMLResponse:
    spec = ContentSpec(start=parse_day(start, "Start"), end=parse_day(end, "End"))  # the whole table: warm with the list
    result = runtime.analytics.content_roi(spec)
    piece = next((p for p in result.rows("pieces") if p.get("content_id") == content_id), None)
    if piece is None:
        raise NotFound(f"No content piece {content_id}.", code="content_not_found")
    by_model = runtime.attribution.credits("content", *deals_closed_in(spec))
    key = str(content_id)
    credits = [{"model": name, "label": m.label, "definition": m.definition, "credit": by_model[name].get(key, 0.0)}
               for name, m in MODELS.items()]
    top = _max(c["credit"] for c in credits)
    return render(request, "content_piece.html", {"p": piece, "credits": credits, "top": top,
                                                  "form": {"start": start, "end": end}})


# --- revenue and the forecast --------------------------------------------------------------------
def nice_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten at or above ``raw``: round gridlines."""
    power = 10 ** np.floor(np.log10(max(raw, 1e-9)))
    return float(next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw))


def spread_labels(p90: float, p50: float, p10: float, gap: float = 22) -> dict[str, float]:
    """Baselines for the P90, P50 and P10 labels, top to bottom, at least ``gap`` apart (no overlap on a phone)."""
    p50 = max(p50, p90 + gap)
    p10 = max(p10, p50 + gap)
    return {"y_p90": round(p90, 1), "y_p50": round(p50, 1), "y_p10": round(p10, 1)}


def fan_chart(f: dict[str, Any]) -> dict[str, Any]:
    """SVG coordinates (viewBox 0 0 600 260) for the won-so-far line and the P10-P90 fan to period end."""
    W, H, L, R, T, B = 600, 280, 84, 16, 26, 34
    start, end, as_of = f["period_start"], f["period_end"], f["as_of"]
    days = max((end - start).days, 1)
    step = nice_step(max(x or 0 for x in (f["p90"], f["target"], f["won_so_far"], 1)) / 4)
    top = step * 4.4  # four gridlines and some room above the highest

    def x(d: date) -> float:
        return round(L + (W - L - R) * min(max((d - start).days, 0), days) / days, 1)

    def y(v: float) -> float:
        return round(T + (H - T - B) * (1 - (v or 0) / top), 1)

    xa, xe = x(as_of), x(end)
    won = f["won_so_far"]
    ticks = [{"y": y(step * i), "label": money(step * i, short=True)} for i in range(5)]
    return {
        "w": W, "h": H, "left": L, "right": W - R, "bottom": H - B, "top": T,
        "won": f"{x(start)},{y(0)} {xa},{y(won)}",
        "band": f"{xa},{y(won)} {xe},{y(f['p90'])} {xe},{y(f['p10'])}",
        "p50": f"{xa},{y(won)} {xe},{y(f['p50'])}",
        "target_y": y(f["target"]) if f["target"] else None,
        "ticks": ticks, "xa": xa, "xe": xe,
        **spread_labels(y(f["p90"]) - 6, y(f["p50"]) - 6, y(f["p10"]) + 18), "y_won": y(won),
        "start_label": start.strftime("%d %b"), "end_label": end.strftime("%d %b"), "as_of_label": as_of.strftime("%d %b"),
    }


def forecast_view(db: Session, today: date) -> dict[str, Any]:
    """Revenue against target by month and the month's and quarter's forecast as of ``today`` (the page's
    context; a fixed seed, so the same data and day give the same numbers)."""
    report = revenue_report(db, today=today)
    months = report["months"]
    top = _max([m["won_revenue"] for m in months] + [m["target"] or 0 for m in months])
    for m in months:
        m["share"] = m["won_revenue"] / top
        m["marker"] = (m["target"] / top) if m["target"] else None
    forecasts = []
    for period in ("month", "quarter"):
        try:
            f = forecast_report(db, as_of=today, period=period, rng=np.random.default_rng(FORECAST_SEED))
        except InvalidInput as e:  # too little history to learn from: say so in that card, keep the rest
            forecasts.append({"period": period, "error": e.message})
            continue
        f["chart"] = fan_chart(f)
        forecasts.append(f)
    return {"report": report, "months": months, "forecasts": forecasts}


@router.get("/forecast", name="forecast.page", response_class=HTMLResponse)
def forecast_page(request: Request, runtime: RuntimeDep, db: SessionDep, now: NowDep) -> HTMLResponse:
    today = now.date()
    return render(request, "forecast.html", runtime.answers.get(("forecast", today), lambda: forecast_view(db, today)))
