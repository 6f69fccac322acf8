"""Nothing falls through (R7), both sides measured (R4): the SLA board, unworked leads, rejection rates
and campaign follow-up. Every number comes from ``revteam.analytics.handoff_reports`` (definitions in
docs/metrics/handoff.md); these routes choose the scope (a rep sees their own by default) and lay it out.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from revteam.errors import InvalidInput
from revteam.services.handoff.agreement import agreement_in_force
from revteam.analytics.handoff_reports import (
    FUNNEL_STEPS,
    campaign_followup,
    marketing_delivery,
    rejection_analytics,
    sla_board,
    sla_compliance,
    unworked_leads,
)
from revteam.store.models import User
from revteam.web.deps import CurrentUser, NowDep, SessionDep
from revteam.web.handoffs import campaigns_touched, reason_labels, rep_of_handoffs, sla_zone
from revteam.web.policy import DISPUTERS, REPS
from revteam.web.templating import render

router = APIRouter(include_in_schema=False)

PERIODS = (7, 30, 90)
REJECTION_PERIODS = (30, 90, 180)
GROUPINGS = {"source": "Source", "campaign": "Campaign", "reason": "Reason", "rep": "Rep"}
REVIEW_RATE = 0.35  # above about 35 % rejected, the scoring usually needs recalibrating (PRODUCT.md field figures)
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


def _period(days: int, allowed: tuple[int, ...]) -> int:
    if days not in allowed:
        raise InvalidInput(f"Pick a period of {', '.join(map(str, allowed))} days.", code="bad_period")
    return days


@router.get("/sla", name="sla.board", response_class=HTMLResponse)
def board(request: Request, db: SessionDep, me: CurrentUser, now: NowDep, scope: Scope = "",
          days: Annotated[int, Query()] = 30) -> HTMLResponse:
    scope = scope_for(me, scope)
    days = _period(days, PERIODS)
    tz = sla_zone(db)
    live = sla_board(db, now=now)
    if scope == "me":
        owners = rep_of_handoffs(db, [x["handoff_id"] for v in live.values() for x in v])
        live = {k: [x for x in v if owners.get(x["handoff_id"]) == me.id] for k, v in live.items()}
    by_rep = sla_compliance(db, now=now, days=days, by="rep")
    by_team = sla_compliance(db, now=now, days=days, by="team")
    overall = next((r for r in by_rep if r["rep"] == "all"), None)
    reps = [r for r in by_rep if r["rep"] != "all"]
    if scope == "me":
        reps = [r for r in reps if r["rep"] == me.name]
    mine = next((r for r in by_rep if r["rep"] == me.name), None) if scope == "me" else overall
    context = {
        "scope": scope,
        "days": days,
        "periods": PERIODS,
        "live": live,
        "reps": reps,
        "teams": [r for r in by_team if r["team"] != "all"],
        "overall": overall,
        "headline": mine,
        "delivery": marketing_delivery(db, now=now),
        "agreement": agreement_in_force(db),
        "tone_for": tone_for,
        "tz": tz,
        "now": now,
        "is_rep": me.role in REPS,
    }
    return render(request, "sla_board.html", context)


@router.get("/unworked", name="unworked.page", response_class=HTMLResponse)
def unworked(request: Request, db: SessionDep, me: CurrentUser, now: NowDep, scope: Scope = "",
             days: Annotated[int, Query()] = 7) -> HTMLResponse:
    scope = scope_for(me, scope)
    days = _period(days, PERIODS)
    rows = unworked_leads(db, now=now, days=days, rep_id=me.id if scope == "me" else None)
    context = {
        "scope": scope,
        "days": days,
        "periods": PERIODS,
        "rows": rows,
        "handed": sum(r.handed for r in rows),
        "unworked": sum(r.unworked for r in rows),
        "tz": sla_zone(db),
        "now": now,
        "is_rep": me.role in REPS,
    }
    return render(request, "unworked.html", context)


@router.get("/rejections", name="rejections.page", response_class=HTMLResponse)
def rejections(request: Request, db: SessionDep, me: CurrentUser, now: NowDep,
               by: Annotated[str, Query(pattern="^(source|campaign|reason|rep)$")] = "source",
               days: Annotated[int, Query()] = 90) -> HTMLResponse:
    days = _period(days, REJECTION_PERIODS)
    rows = rejection_analytics(db, now=now, days=days, by=by)
    totals = {k: sum(r[k] for r in rows) for k in ("handed", "decided", "rejected")}
    totals["rejection_rate"] = totals["rejected"] / totals["decided"] if totals["decided"] else None
    labels = reason_labels(db) if by == "reason" else {}
    shown = []
    for r in rows:
        key = str(r[by])
        if by == "reason":
            if r["rejected"] == 0:
                continue  # the leads nobody rejected: their share is what the other rows leave
            # per reason the rate is always 100 %; what matters is its share of everything sales decided
            share = r["rejected"] / totals["decided"] if totals["decided"] else None
            text = f"{share:.0%} · {r['rejected']} of {totals['decided']} decided" if share is not None else "–"
            flag = False
        else:
            share = r["rejection_rate"]
            text = f"{share:.0%} · {r['rejected']} of {r['decided']}" if share is not None else "none decided yet"
            flag = share is not None and share > REVIEW_RATE
        label = labels.get(key, key) if by == "reason" else (key.replace("_", " ").capitalize() if by == "source" else key)
        shown.append({**r, "label": label, "share": share, "share_text": text, "flag": flag})
    context = {
        "by": by,
        "days": days,
        "periods": REJECTION_PERIODS,
        "groupings": GROUPINGS,
        "rows": shown,
        "totals": totals,
        "review_rate": REVIEW_RATE,
        "can_dispute": me.role in DISPUTERS,
    }
    return render(request, "rejections.html", context)


@router.get("/followup", name="followup.page", response_class=HTMLResponse)
def followup(request: Request, db: SessionDep, me: CurrentUser,
             campaign: Annotated[int | None, Query(ge=1)] = None) -> HTMLResponse:
    campaigns = campaigns_touched(db)
    chosen = campaign if campaign is not None else next((c.campaign.id for c in campaigns if c.people), None)
    report = campaign_followup(db, chosen) if chosen is not None else None
    funnel: list[dict[str, Any]] = []
    if report is not None:
        base = report.people or 1
        funnel = [{"key": "people", "label": "Touched", "n": report.people},
                  {"key": "contacted", "label": "Contacted by sales after", "n": report.contacted}]
        funnel += [{"key": s, "label": STEP_LABELS[s], "n": report.reached[s]} for s in FUNNEL_STEPS]
        for step in funnel:
            step["share"] = step["n"] / base
    context = {"campaigns": campaigns, "chosen": chosen, "report": report, "funnel": funnel}
    return render(request, "followup.html", context)
