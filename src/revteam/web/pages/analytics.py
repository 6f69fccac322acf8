"""Issue #4, read-only for everyone: the funnel, the attribution explorer, content ROI, revenue and the
forecast. Each page reads its form into one question (``revteam.analytics.questions``), asks the analytics
desk (``runtime.desk``, which keeps the answer per data fingerprint; ``web/warm.py`` asks the pages'
default questions in the background) and lays the answer out as bars and SVG. A bad input comes back as
the question's message in the form (422). The CLI and ``/api/v1/analytics`` ask the same questions.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from revteam.analytics.attribution import GRAINS
from revteam.analytics.funnel import BREAKDOWNS, MODES
from revteam.analytics.questions import (
    CONTENT_SORTS,
    DEFAULT_MODEL,
    ContentPiece,
    ContentRoi,
    DealAttribution,
    Funnel,
    attribution_question,
)
from revteam.analytics.revenue_questions import Outlook
from revteam.analytics.stage_journeys import DEFAULT_PERIOD_DAYS
from revteam.domain.attribution import MODELS
from revteam.errors import InvalidInput
from revteam.services.record.lifecycle import load_stages, stage_labels
from revteam.web.deps import NowDep, RuntimeDep, SessionDep
from revteam.web.templating import money, render

router = APIRouter(include_in_schema=False)

GRAIN_NOUNS = {"channel": "channel", "campaign": "campaign", "content": "content piece"}
TOP_GROUPS = 10

Text = Annotated[str, Query()]

__all__ = ["BREAKDOWNS", "GRAINS", "router"]


def _max(values: Any) -> float:
    return max([float(v or 0) for v in values] + [1e-9])


def _message(e: InvalidInput) -> str:
    return e.message if hasattr(e, "message") else str(e)


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
        result = runtime.desk.ask(Funnel.parse(start=start, end=end, mode=mode, by=by))
    except InvalidInput as e:  # AnalyticsSpecError is one
        ctx["error"] = _message(e)
        return render(request, "funnel.html", ctx, status=422)
    ctx["view"] = _funnel_view(result, by or None)
    ctx["queries"] = {name: q.sql for name, q in result.queries.items()}
    return render(request, "funnel.html", ctx)


# --- attribution ---------------------------------------------------------------------------------
@router.get("/attribution", name="attribution.page", response_class=HTMLResponse)
def attribution_page(request: Request, runtime: RuntimeDep, db: SessionDep, now: NowDep, grain: Text = "channel",
                     model: Text = DEFAULT_MODEL, start: Text = "", end: Text = "", stage: Text = "") -> HTMLResponse:
    """Won revenue (no ``stage``) or conversions to ``stage`` credited per key under every model."""
    form = {"grain": grain, "model": model, "start": start, "end": end, "stage": stage}
    ctx: dict[str, Any] = {"form": form, "grains": GRAINS, "models": MODELS, "error": None, "rows": [],
                           "deals": 0, "unattributed": [], "attributed": [], "grain_noun": GRAIN_NOUNS.get(grain, grain),
                           "stages": [], "stage_label": None}
    try:
        a = runtime.desk.ask(attribution_question(today=now.date(), grain=grain, model=model or DEFAULT_MODEL,
                                                  start=start, end=end, stage=stage or None))
    except InvalidInput as e:
        labels = stage_labels(db)
        ctx.update(error=e.message, stages=[(key, labels.get(key, key)) for key in load_stages(db).main])
        return render(request, "attribution.html", ctx, status=422)
    model = model or DEFAULT_MODEL
    top = _max(r["credit"][model] for r in a.keys)
    ctx.update(rows=[{**r, "share": r["credit"][model] / top} for r in a.keys], deals=a.journeys,
               unattributed=a.unattributed, attributed=a.attributed, total=a.total(model), conversions=a.conversions,
               non_converting=a.non_converting, stage_label=a.stage_label,
               stages=[(key, a.labels.get(key, key)) for key in a.main_stages],
               period=(a.start.isoformat(), a.end.isoformat()) if a.stage else None,
               default_period=bool(stage) and not (start or end), period_days=DEFAULT_PERIOD_DAYS)
    return render(request, "attribution.html", ctx)


@router.get("/attribution/deals/{deal_id}", name="attribution.deal", response_class=HTMLResponse)
def attribution_deal(request: Request, runtime: RuntimeDep, deal_id: int, grain: Text = "channel",
                     model: Text = DEFAULT_MODEL) -> HTMLResponse:
    data = runtime.desk.ask(DealAttribution(deal_id, model, grain)).data
    ctx = {"d": data, "form": {"grain": grain, "model": model}, "grains": GRAINS, "models": MODELS,
           "top": _max(r["credit"] for r in data["rows"])}
    return render(request, "attribution_deal.html", ctx)


# --- content ROI ---------------------------------------------------------------------------------
def _month_label(month: str, fmt: str) -> str:
    return date.fromisoformat(f"{month}-01").strftime(fmt)


@router.get("/content", name="content.page", response_class=HTMLResponse)
def content_page(request: Request, runtime: RuntimeDep, now: NowDep, start: Text = "", end: Text = "",
                 sort: Text = "traffic", model: Text = DEFAULT_MODEL, month: Text = "") -> HTMLResponse:
    form = {"start": start, "end": end, "sort": sort, "model": model, "month": month}
    ctx: dict[str, Any] = {"form": form, "sorts": CONTENT_SORTS, "models": MODELS, "error": None, "pieces": [],
                           "top_week": [], "week": None, "top_month": [], "months": []}
    try:
        a = runtime.desk.ask(ContentRoi.parse(start=start, end=end, sort=sort, model=model, month=month,
                                              today=now.date()))
    except InvalidInput as e:
        ctx["error"] = e.message
        return render(request, "content.html", ctx, status=422)
    ctx.update(pieces=a.pieces, top_week=a.top_week, week=a.week, week_top=_max(w.get("traffic", 0) for w in a.top_week),
               this_week=a.this_week, model_label=MODELS[a.model].label, month=a.month,
               month_label=_month_label(a.month, "%B %Y") if a.month else None,
               months=[(m, _month_label(m, "%b %Y")) for m in reversed(a.months)], top_month=a.top_month,
               month_top=_max(r["won_revenue"] for r in a.top_month))
    return render(request, "content.html", ctx)


@router.get("/content/{content_id}", name="content.piece", response_class=HTMLResponse)
def content_piece(request: Request, runtime: RuntimeDep, content_id: int, start: Text = "",
                  end: Text = "") -> HTMLResponse:
    a = runtime.desk.ask(ContentPiece.parse(content_id, start=start, end=end))
    return render(request, "content_piece.html", {"p": a.piece, "credits": a.credits,
                                                  "top": _max(c["credit"] for c in a.credits),
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


def forecast_view(outlook: Any) -> dict[str, Any]:
    """The page's context from the ``Outlook`` answer: bars for revenue against target by month, a fan chart
    for each forecast (new dicts: the answer is shared)."""
    report = outlook.revenue
    top = _max([m["won_revenue"] for m in report["months"]] + [m["target"] or 0 for m in report["months"]])
    months = [{**m, "share": m["won_revenue"] / top, "marker": (m["target"] / top) if m["target"] else None}
              for m in report["months"]]
    forecasts = [f if "error" in f else {**f, "chart": fan_chart(f)} for f in outlook.forecasts]
    return {"report": report, "months": months, "forecasts": forecasts}


@router.get("/forecast", name="forecast.page", response_class=HTMLResponse)
def forecast_page(request: Request, runtime: RuntimeDep, now: NowDep) -> HTMLResponse:
    return render(request, "forecast.html", forecast_view(runtime.desk.ask(Outlook(today=now.date()))))
