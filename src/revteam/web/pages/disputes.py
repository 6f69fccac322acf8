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
from sqlalchemy.orm import Session

from revteam.errors import Conflict, Forbidden, InvalidInput
from revteam.services.handoff.agreement import agreement_in_force
from revteam.services.handoff.decide import cast_vote, open_dispute
from revteam.store.models import Dispute
from revteam.store.models import Contact, User
from revteam.web.deps import CurrentUser, NowDep, SessionDep
from revteam.web.handoffs import CHOICE_LABELS, disputes, get_handoff, recent_rejections, sla_zone
from revteam.web.policy import DISPUTERS
from revteam.web.templating import render

router = APIRouter(include_in_schema=False)
REJECTION_DAYS = 30


def _notice(db: Session, done: str, dispute_id: int | None) -> str | None:
    d = db.get(Dispute, dispute_id) if dispute_id else None
    if d is None:
        return None
    h = get_handoff(db, d.handoff_id)
    contact = db.get(Contact, h.contact_id)
    name = contact.display_name if contact else "the lead"
    if done == "opened":
        return f"The rejection of {name} is disputed; the committee has been notified and will vote."
    if done == "voted":
        if d.outcome == "return_to_sales":
            return f"Your vote decided it: {name} goes back to the rep with a new SLA clock ({d.summary})."
        if d.outcome == "uphold_rejection":
            return f"Your vote decided it: the rejection of {name} stands ({d.summary})."
        return f"Your vote on {name} is recorded; the dispute stays open until a majority of the committee agrees."
    return None


def _page(request: Request, db: Session, me: User, now: datetime, *, status: int = 200, notice: str | None = None,
          problem: dict[str, Any] | None = None) -> HTMLResponse:
    tz = sla_zone(db)
    agreement = agreement_in_force(db)
    context = {
        "open": disputes(db, status="open", now=now, tz=tz),
        "decided": disputes(db, status="decided", now=now, tz=tz, limit=20),
        "rejections": recent_rejections(db, now=now, days=REJECTION_DAYS, tz=tz),
        "rejection_days": REJECTION_DAYS,
        "committee_ready": agreement is not None and bool(agreement.row.committee),
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
                  dispute: Annotated[int | None, Query(ge=1)] = None) -> HTMLResponse:
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
        db.commit()
    except (InvalidInput, Conflict, Forbidden) as e:
        db.rollback()
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
        db.commit()
    except (InvalidInput, Conflict, Forbidden) as e:
        db.rollback()
        problem = {"where": f"dispute-{dispute_id}", "message": e.message, "reason": reason, "choice": choice}
        return _page(request, db, me, now, status=e.status, problem=problem)
    return RedirectResponse(f"/disputes?done=voted&dispute={dispute_id}#dispute-{dispute_id}", status_code=303)
