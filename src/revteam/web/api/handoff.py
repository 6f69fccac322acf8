"""The handoff over the API: the inbox and its actions, rejected leads, disputes and votes.

The same use cases and reads as the pages (``services/handoff/{decide,inbox,disputes}.py``); a refused
action is the usual JSON error (403 ``not_your_lead``, 409 ``handoff_decided``, 422 ``bad_reject_reason`` …)
and nothing is written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from revteam.services.handoff.agreement import sla_zone
from revteam.services.handoff.decide import (
    accept_lead,
    cast_vote,
    get_handoff,
    log_touch,
    open_dispute,
    qualify_to_sql,
    reject_lead,
)
from revteam.services.handoff.disputes import DisputeView, dispute, disputes, recent_rejections
from revteam.services.handoff.inbox import LeadRow, inbox, inbox_rep, lead_row
from revteam.services.people import User
from revteam.services.unit_of_work import Session
from revteam.web.api.handoff_models import (
    ActionOut,
    ContactRef,
    ClockOut,
    ContextOut,
    DisputeIn,
    DisputeOut,
    HandoffOut,
    InboxCounts,
    InboxOut,
    QualifyIn,
    RejectedLeadOut,
    RejectIn,
    RejectionOut,
    TouchIn,
    UserRef,
    VoteIn,
    VoteOut,
)
from revteam.web.api.models import ERROR_RESPONSES, IdPath
from revteam.web.deps import CurrentUser, NowDep, SessionDep

router = APIRouter(responses={**ERROR_RESPONSES, 404: {"description": "No such handoff or dispute"},
                              409: {"description": "The lead or dispute is already decided"}})


def user_ref(user: User | None) -> UserRef | None:
    return UserRef(id=user.id, name=user.name) if user is not None else None


def handoff_out(row: LeadRow) -> HandoffOut:
    h, c = row.handoff, row.contact
    return HandoffOut(
        id=h.id, kind=h.kind, status=h.status, priority=h.priority,
        contact=ContactRef(id=c.id, name=c.display_name, title=c.title, email=c.email, account_id=c.account_id,
                           account_name=row.account.name if row.account else None),
        rep=user_ref(row.rep), handed_at=h.handed_at, at_risk_at=h.at_risk_at, due_at=h.due_at,
        first_touch_at=h.first_touch_at, decided_at=h.decided_at,
        clock=ClockOut(state=row.clock.state, text=row.clock.text, due_at=row.clock.due_at),
        score_total=h.score_total, source=h.source, campaign=row.campaign, routing_rule=h.routing_rule,
        routing_reason=h.routing_reason, reject_reason=h.reject_reason, reject_note=h.reject_note,
        recycle_until=h.recycle_until, can_qualify=row.can_qualify,
        context=ContextOut.model_validate(h.context) if h.context else None,
    )


def _fresh(db: Session, handoff_id: int, now: datetime) -> HandoffOut:
    return handoff_out(lead_row(db, handoff_id, now, sla_zone(db)))


@router.get("/inbox", name="api.inbox.list", response_model=InboxOut, summary="A rep's lead inbox")
def inbox_list(db: SessionDep, me: CurrentUser, now: NowDep,
               rep: Annotated[str, Query(max_length=20, description="me (reps' default), all (leaders' default) or "
                                                                     "a rep's user id (leaders and admins)")] = "") -> InboxOut:
    """Pending handoffs, most urgent first (running clocks by due time, then priority), each with its
    context packet; and the accepted MQLs waiting to be qualified to SQL. Reps get their own inbox only."""
    rep_id = inbox_rep(db, me, rep)
    box = inbox(db, rep_id=rep_id, now=now, tz=sla_zone(db))
    return InboxOut(rep=user_ref(box.rep), counts=InboxCounts(**box.counts),
                    pending=[handoff_out(r) for r in box.pending], to_qualify=[handoff_out(r) for r in box.to_qualify],
                    unassigned=[handoff_out(r) for r in box.unassigned])


@router.post("/handoffs/{handoff_id}/accept", name="api.handoffs.accept", response_model=ActionOut,
             summary="Accept a lead")
def accept(db: SessionDep, me: CurrentUser, now: NowDep, handoff_id: IdPath) -> ActionOut:
    """The lead's rep (or a leader or admin) accepts it: the clock stops and an MQL becomes sales-accepted."""
    accept_lead(db, handoff_id, me, now=now)
    return ActionOut(message="Accepted.", handoff=_fresh(db, handoff_id, now))


@router.post("/handoffs/{handoff_id}/reject", name="api.handoffs.reject", response_model=ActionOut,
             summary="Reject a lead with a reason")
def reject_handoff(db: SessionDep, me: CurrentUser, now: NowDep, handoff_id: IdPath, body: RejectIn) -> ActionOut:
    """``reason`` is a reject reason code. A reason that recycles (not ready, no budget) needs
    ``recycle_until``, a future date when the lead comes back; any other reason disqualifies the lead."""
    h = reject_lead(db, handoff_id, me, reason=body.reason, note=body.note, recycle_until=body.recycle_until, now=now)
    message = "Back to nurture until the return date." if h.status == "recycled" else "Rejected."
    return ActionOut(message=message, handoff=_fresh(db, handoff_id, now))


@router.post("/handoffs/{handoff_id}/touches", name="api.handoffs.touch", response_model=ActionOut,
             summary="Log a call, e-mail or meeting on a lead")
def touch(db: SessionDep, me: CurrentUser, now: NowDep, handoff_id: IdPath, body: TouchIn) -> ActionOut:
    """Stops the SLA clock of a pending lead; allowed while the lead is pending or accepted."""
    log_touch(db, handoff_id, me, type=body.type, note=body.note, now=now)
    return ActionOut(message="Logged.", handoff=_fresh(db, handoff_id, now))


@router.post("/handoffs/{handoff_id}/qualify", name="api.handoffs.qualify", response_model=ActionOut,
             summary="Qualify an accepted MQL to SQL (hand it to an AE)")
def qualify(db: SessionDep, me: CurrentUser, now: NowDep, handoff_id: IdPath, body: QualifyIn | None = None) -> ActionOut:
    sql = qualify_to_sql(db, handoff_id, me, now=now, note=body.note if body else "")
    return ActionOut(message="Qualified to SQL.", handoff=_fresh(db, handoff_id, now),
                     sql_handoff=_fresh(db, sql.id, now))


@router.get("/rejected-leads", name="api.rejected.list", response_model=list[RejectedLeadOut],
            summary="Recently rejected leads (what marketing may dispute)")
def rejected_leads(db: SessionDep, me: CurrentUser, now: NowDep,
                   days: Annotated[int, Query(ge=1, le=365)] = 30) -> list[RejectedLeadOut]:
    rows = recent_rejections(db, now=now, days=days, tz=sla_zone(db))
    return [RejectedLeadOut(handoff=handoff_out(r.lead), reason_label=r.reason, dispute_id=r.dispute_id) for r in rows]


def dispute_out(v: DisputeView) -> DisputeOut:
    d = v.dispute
    return DisputeOut(
        id=d.id, handoff=handoff_out(v.lead), opened_by=user_ref(v.opened_by), opened_at=d.opened_at, reason=d.reason,
        rejection=RejectionOut(reason_label=v.reason_label, note=v.note, by=user_ref(v.rejected_by), at=v.rejected_at),
        committee=[VoteOut(member=UserRef(id=m.member.id, name=m.member.name),
                           choice=m.vote.choice if m.vote else None,  # type: ignore[arg-type]
                           reason=m.vote.reason if m.vote else None, voted_at=m.vote.voted_at if m.vote else None)
                   for m in v.members],
        votes=v.votes_for, needed=v.needed, outcome=d.outcome, decided_at=d.decided_at,  # type: ignore[arg-type]
        summary=d.summary,
    )


@router.get("/disputes", name="api.disputes.list", response_model=list[DisputeOut], summary="Disputed rejections")
def disputes_list(db: SessionDep, me: CurrentUser, now: NowDep,
                  status: Annotated[str, Query(pattern="^(open|decided|all)$")] = "open",
                  limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[DisputeOut]:
    """Newest first, with the lead, the rejection as the rep gave it, marketing's reason and the votes."""
    return [dispute_out(v) for v in disputes(db, status=status, now=now, tz=sla_zone(db), limit=limit)]


def _one_dispute(db: Session, dispute_id: int, now: datetime) -> DisputeOut:
    return dispute_out(dispute(db, dispute_id, now=now, tz=sla_zone(db)))


@router.post("/disputes", name="api.disputes.open", response_model=DisputeOut, status_code=201,
             summary="Dispute a rejection")
def dispute_open(db: SessionDep, me: CurrentUser, now: NowDep, body: DisputeIn) -> DisputeOut:
    """Marketing (or a leader or admin) disputes a rejected or recycled lead; the committee named in the SLA in
    force is notified and votes."""
    get_handoff(db, body.handoff_id)
    d = open_dispute(db, body.handoff_id, me, reason=body.reason, now=now)
    return _one_dispute(db, d.id, now)


@router.post("/disputes/{dispute_id}/votes", name="api.disputes.vote", response_model=DisputeOut,
             summary="Vote on a dispute (committee members)")
def dispute_vote(db: SessionDep, me: CurrentUser, now: NowDep, dispute_id: IdPath, body: VoteIn) -> DisputeOut:
    """One vote per member, with a reason. A strict majority of the committee decides; a full tie upholds the
    rejection. ``return_to_sales`` puts the lead back in the rep's inbox with a new clock."""
    cast_vote(db, dispute_id, me, choice=body.choice, reason=body.reason, now=now)
    return _one_dispute(db, dispute_id, now)

