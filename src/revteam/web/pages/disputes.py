"""Disputed rejections (R6): marketing disputes a rejected lead, the SLA's committee votes.

The page lists the open disputes (the lead and its context, the rep's reason and note, marketing's
reason, the votes so far, and a vote form for committee members who have not voted), the recent
rejections with a *Dispute* action for marketing, leaders and admins, and the decided disputes with
their outcome. A refused dispute or vote comes back on the page with the reason and the text kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from revteam.domain.ids import MAX_ID
from revteam.domain.roles import DISPUTERS
from revteam.errors import Conflict, Forbidden, InvalidInput
from revteam.services.handoff.agreement import sla_zone
from revteam.services.handoff.decide import cast_vote, get_handoff, open_dispute
from revteam.services.handoff.disputes import CHOICE_LABELS, committee_ready, dispute_outcome, disputes, recent_rejections
from revteam.services.people import User
from revteam.services.unit_of_work import Session
from revteam.web.deps import CurrentUser, NowDep, SessionDep
from revteam.web.templating import render

router = APIRouter(include_in_schema=False)
REJECTION_DAYS = 30


def _notice(db: Session, done: str, dispute_id: int | None) -> str | None:
    outcome = dispute_outcome(db, dispute_id) if dispute_id else None
    if outcome is None:
        return None
    name = outcome.name
    if done == "opened":
        return f"The rejection of {name} is disputed; the committee has been notified and will vote."
    if done == "voted":
        if outcome.outcome == "return_to_sales":
            return f"Your vote decided it: {name} goes back to the rep with a new SLA clock ({outcome.summary})."
        if outcome.outcome == "uphold_rejection":
            return f"Your vote decided it: the rejection of {name} stands ({outcome.summary})."
        return f"Your vote on {name} is recorded; the dispute stays open until a majority of the committee agrees."
    return None


def _page(request: Request, db: Session, me: User, now: datetime, *, status: int = 200, notice: str | None = None,
          problem: dict[str, Any] | None = None) -> HTMLResponse:
    tz = sla_zone(db)
    context = {
        "open": disputes(db, status="open", now=now, tz=tz),
        "decided": disputes(db, status="decided", now=now, tz=tz, limit=20),
        "rejections": recent_rejections(db, now=now, days=REJECTION_DAYS, tz=tz),
        "rejection_days": REJECTION_DAYS,
        "committee_ready": committee_ready(db),
        "can_open": me.role in DISPUTERS,
        "choices": CHOICE_LABELS,
        "tz": tz,
        "now": now,
        "notice": notice,
        "problem": problem or {},
        "supervisor": False,
    }
    return render(request, "disputes.html", context, status=status)


@router.get("/disputes", name="disputes.page", response_class=HTMLResponse)
def disputes_page(request: Request, db: SessionDep, me: CurrentUser, now: NowDep,
                  done: Annotated[str, Query(max_length=20)] = "",
                  dispute: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> HTMLResponse:
    return _page(request, db, me, now, notice=_notice(db, done, dispute))


@router.post("/disputes", name="disputes.open")
def dispute_open(
    request: Request, db: SessionDep, me: CurrentUser, now: NowDep,
    handoff_id: Annotated[int, Form(ge=1)],
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    get_handoff(db, handoff_id)  # 404 for an unknown lead
    try:
        d = open_dispute(db, handoff_id, me, reason=reason, now=now)
    except (InvalidInput, Conflict, Forbidden) as e:
        problem = {"where": f"handoff-{handoff_id}", "message": e.message, "reason": reason}
        return _page(request, db, me, now, status=e.status, problem=problem)
    return RedirectResponse(f"/disputes?done=opened&dispute={d.id}#dispute-{d.id}", status_code=303)


@router.post("/disputes/{dispute_id}/vote", name="disputes.vote")
def dispute_vote(
    request: Request, db: SessionDep, me: CurrentUser, now: NowDep, dispute_id: int,
    choice: Annotated[str, Form(max_length=30)],
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        cast_vote(db, dispute_id, me, choice=choice, reason=reason, now=now)
    except (InvalidInput, Conflict, Forbidden) as e:
        problem = {"where": f"dispute-{dispute_id}", "message": e.message, "reason": reason, "choice": choice}
        return _page(request, db, me, now, status=e.status, problem=problem)
    return RedirectResponse(f"/disputes?done=voted&dispute={dispute_id}#dispute-{dispute_id}", status_code=303)
