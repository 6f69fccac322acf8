"""Nothing falls through (R7), both sides measured (R4): the SLA board, unworked leads, rejection rates
and campaign follow-up. Each page chooses the scope (a rep sees their own by default), asks the analytics
desk one handoff-report question (``analytics/report_questions.py``; definitions in
docs/metrics/handoff.md) and lays the answer out. ``revteam handoff ...`` and ``/api/v1/analytics/reports``
ask the same questions.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from revteam.domain.ids import MAX_ID
from revteam.analytics.handoff_reports import FUNNEL_STEPS
from revteam.analytics.report_questions import CampaignFollowup, Rejections, SlaBoard, Unworked, in_menu
from revteam.domain.roles import DISPUTERS, REPS
from revteam.services.people import User
from revteam.web.deps import CurrentUser, NowDep, RuntimeDep
from revteam.web.templating import render

router = APIRouter(include_in_schema=False)

PERIODS = (7, 30, 90)
REJECTION_PERIODS = (30, 90, 180)
GROUPINGS = {"source": "Source", "campaign": "Campaign", "reason": "Reason", "rep": "Rep"}
STEP_LABELS = {"mql": "Reached MQL", "sal": "Sales-accepted", "sql": "SQL", "opportunity": "Opportunity",
               "customer": "Customer"}

Scope = Annotated[str, Query(pattern="^(me|all)?$", description="me: only my leads; all: everyone's")]


def scope_for(me: User, scope: str) -> str:
    """Reps start on their own leads; everyone else on everyone's."""
    return scope or ("me" if me.role in REPS else "all")


def tone_for(share: float | None) -> str:
    if share is None:
        return "neutral"
    return "good" if share >= 0.9 else "warn" if share >= 0.7 else "bad"


@router.get("/sla", name="sla.board", response_class=HTMLResponse)
def board(request: Request, runtime: RuntimeDep, me: CurrentUser, now: NowDep, scope: Scope = "",
          days: Annotated[int, Query()] = 30) -> HTMLResponse:
    scope = scope_for(me, scope)
    a = runtime.desk.ask(SlaBoard(now=now, days=in_menu(days, PERIODS), rep_id=me.id if scope == "me" else None))
    context = {
        "scope": scope,
        "days": a.days,
        "periods": PERIODS,
        "live": a.live,
        "reps": a.reps,
        "teams": a.teams,
        "overall": a.overall,
        "headline": a.headline,
        "delivery": a.delivery,
        "agreement": a.agreement,
        "tone_for": tone_for,
        "tz": a.tz,
        "now": now,
        "is_rep": me.role in REPS,
    }
    return render(request, "sla_board.html", context)


@router.get("/unworked", name="unworked.page", response_class=HTMLResponse)
def unworked(request: Request, runtime: RuntimeDep, me: CurrentUser, now: NowDep, scope: Scope = "",
             days: Annotated[int, Query()] = 7) -> HTMLResponse:
    scope = scope_for(me, scope)
    a = runtime.desk.ask(Unworked(now=now, days=in_menu(days, PERIODS), rep_id=me.id if scope == "me" else None))
    context = {
        "scope": scope,
        "days": a.days,
        "periods": PERIODS,
        "rows": a.rows,
        "handed": a.handed,
        "unworked": a.unworked,
        "tz": a.tz,
        "now": now,
        "is_rep": me.role in REPS,
    }
    return render(request, "unworked.html", context)


def _share_text(by: str, r: dict[str, Any], decided: int) -> str:
    if r["share"] is None:
        return "–" if by == "reason" else "none decided yet"
    if by == "reason":
        return f"{r['share']:.0%} · {r['rejected']} of {decided} decided"
    return f"{r['share']:.0%} · {r['rejected']} of {r['decided']}"


@router.get("/rejections", name="rejections.page", response_class=HTMLResponse)
def rejections(request: Request, runtime: RuntimeDep, me: CurrentUser, now: NowDep,
               by: Annotated[str, Query(pattern="^(source|campaign|reason|rep)$")] = "source",
               days: Annotated[int, Query()] = 90) -> HTMLResponse:
    a = runtime.desk.ask(Rejections(now=now, days=in_menu(days, REJECTION_PERIODS), by=by))
    context = {
        "by": a.by,
        "days": a.days,
        "periods": REJECTION_PERIODS,
        "groupings": GROUPINGS,
        "rows": [{**r, "share_text": _share_text(a.by, r, a.totals["decided"])} for r in a.rows],
        "totals": a.totals,
        "review_rate": a.review_rate,
        "can_dispute": me.role in DISPUTERS,
    }
    return render(request, "rejections.html", context)


@router.get("/followup", name="followup.page", response_class=HTMLResponse)
def followup(request: Request, runtime: RuntimeDep, campaign: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> HTMLResponse:
    a = runtime.desk.ask(CampaignFollowup(campaign))
    funnel: list[dict[str, Any]] = []
    if a.report is not None:
        base = a.report.people or 1
        steps = [("people", "Touched", a.report.people), ("contacted", "Contacted by sales after", a.report.contacted),
                 *((s, STEP_LABELS[s], a.report.reached[s]) for s in FUNNEL_STEPS)]
        funnel = [{"key": key, "label": label, "n": n, "share": n / base} for key, label, n in steps]
    return render(request, "followup.html", {"campaigns": a.campaigns, "chosen": a.chosen, "report": a.report,
                                             "funnel": funnel})
