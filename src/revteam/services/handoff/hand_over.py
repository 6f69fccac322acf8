"""Handing a qualified lead to sales: MQL move, context packet, routing, SLA clock, notification.

``hand_over_lead`` is the one path by which a lead reaches a rep, whether the scoring model, a
fast-track rule, a marketer or an SDR qualifying to SQL (SDR → AE handover) triggers it.

Race-safe: hand-overs (and the worker's rerouting) take the ``routing`` lock first (``claims.serialize``),
so the open-handoff check, the round-robin credits and the rep's daily count are read and written by
one hand-over at a time; the partial unique index on open handoffs (one per contact and kind) is the
last line, and a hand-over that would break it is a ``Conflict``, not a second handoff.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revteam.domain.routing import Lead, route_lead
from revteam.domain.scoring import ScoringModel
from revteam.domain.sla import start_clock
from revteam.errors import Conflict
from revteam.services.handoff.agreement import agreement_in_force
from revteam.services.claims import serialize
from revteam.services.record.audit import record_audit
from revteam.services.record.lifecycle import get_contact, load_stages, move_contact_stage
from revteam.services.handoff.routing import load_reps, load_rules, load_state, save_credits
from revteam.store.models import ContactScore, Handoff
from revteam.store.models import (
    Account,
    Campaign,
    Contact,
    ContentAsset,
    Deal,
    OwnerChange,
    Touchpoint,
    User,
)

HOT_MARGIN = 25  # points above the MQL threshold that make a lead hot
RECENT_TOUCHES = 10
OPEN_HANDOFF = ("pending", "unassigned")  # waiting for a rep's decision or for a rep: the unique index's statuses


def priority_for(model: ScoringModel, total: float | None, fast_track: bool) -> str:
    if fast_track or (total is not None and total >= model.mql_threshold + HOT_MARGIN):
        return "hot"
    if total is not None and total >= model.mql_threshold:
        return "warm"
    return "cold"


def build_context(session: Session, contact: Contact) -> dict[str, Any]:
    """Everything marketing knows, for the rep: score and reasons, recent touches, persona, content
    consumed, campaign, the account and its open deals, previous owners."""
    score = session.get(ContactScore, contact.id)
    touches = session.execute(
        select(Touchpoint.type, Touchpoint.occurred_at, Touchpoint.url, Campaign.name, ContentAsset.title, ContentAsset.category)
        .outerjoin(Campaign, Campaign.id == Touchpoint.campaign_id)
        .outerjoin(ContentAsset, ContentAsset.id == Touchpoint.content_id)
        .where(Touchpoint.contact_id == contact.id).order_by(Touchpoint.occurred_at.desc())
    ).all()
    content = []
    for t in touches:
        if t[4] and t[4] not in [c["title"] for c in content]:
            content.append({"title": t[4], "category": t[5]})
    account = session.get(Account, contact.account_id) if contact.account_id else None
    deals = []
    if account is not None:
        deals = [{"name": d.name, "stage": d.stage, "amount": float(d.amount), "currency": d.currency}
                 for d in session.scalars(select(Deal).where(Deal.account_id == account.id, Deal.outcome == "open"))]
    owners = session.execute(select(OwnerChange.from_user_id, OwnerChange.changed_at).where(
        OwnerChange.entity == "contact", OwnerChange.entity_id == contact.id, OwnerChange.from_user_id.is_not(None))).all()
    names = {u.id: u.name for u in session.scalars(select(User).where(User.id.in_([o[0] for o in owners])))} if owners else {}
    campaign = session.get(Campaign, contact.original_campaign_id) if contact.original_campaign_id else None
    latest_campaign = next((t[3] for t in touches if t[3]), None)
    return {
        "score": None if score is None else {"total": score.total, "fit": score.fit, "engagement": score.engagement,
                                             "reasons": score.reasons, "model_version": score.model_version},
        "recent_touches": [{"type": t[0], "at": t[1].isoformat(), "url": t[2], "campaign": t[3], "content": t[4]}
                           for t in touches[:RECENT_TOUCHES]],
        "touch_count": len(touches),
        "persona": contact.persona,
        "title": contact.title,
        "content_consumed": content[:10],
        "campaign": campaign.name if campaign else latest_campaign,
        "source": contact.original_source,
        "account": None if account is None else {
            "name": account.name, "industry": account.industry, "employees": account.employees,
            "region": account.region, "segment": account.segment, "open_deals": deals},
        "previous_owners": [names.get(o[0], f"user {o[0]}") for o in owners],
    }


def _set_owner(session: Session, contact: Contact, rep_id: int | None, *, now: datetime, reason: str) -> None:
    if rep_id is None or contact.owner_id == rep_id:
        return
    session.add(OwnerChange(entity="contact", entity_id=contact.id, from_user_id=contact.owner_id, to_user_id=rep_id,
                            changed_at=now, reason=reason[:200]))
    contact.owner_id = rep_id


def hand_over_lead(
    session: Session,
    contact_id: int,
    *,
    now: datetime,
    model: ScoringModel,
    kind: str = "mql",
    by_user: int | None = None,
    rule: str | None = "scoring",
    fast_track: bool = False,
    why: str | None = None,
) -> Handoff:
    """Qualify (MQL, or SQL for SDR → AE), route, start the SLA clock and tell the rep."""
    serialize(session, "routing")
    contact = get_contact(session, contact_id)
    if session.scalar(select(Handoff.id).where(Handoff.contact_id == contact.id, Handoff.kind == kind,
                                               Handoff.status.in_(OPEN_HANDOFF))) is not None:
        raise Conflict(f"{contact.display_name} already has an open {kind.upper()} handoff.", code="handoff_open")
    stages = load_stages(session)
    target = "mql" if kind == "mql" else "sql"
    if contact.stage != target and (contact.stage not in stages.main or stages.rank(contact.stage) < stages.rank(target)):
        move_contact_stage(session, contact, target, at=now, stages=stages, actor_user_id=by_user,
                           actor_rule=None if by_user else rule, reason=why)
    score = session.get(ContactScore, contact.id)
    priority = priority_for(model, score.total if score else None, fast_track)
    assignment = _route(session, contact, kind=kind, priority=priority, now=now)
    agreement = agreement_in_force(session)
    clock = start_clock(agreement.terms, priority, now) if agreement and priority in agreement.terms.response else None
    latest_campaign = session.scalar(select(Touchpoint.campaign_id).where(
        Touchpoint.contact_id == contact.id, Touchpoint.campaign_id.is_not(None)).order_by(Touchpoint.occurred_at.desc()).limit(1))
    h = Handoff(contact_id=contact.id, kind=kind, rep_id=assignment.rep_id,
                status="pending" if assignment.rep_id else "unassigned", priority=priority, handed_at=now,
                sla_version=agreement.row.version if agreement else None,
                at_risk_at=clock.at_risk_at if clock else None, due_at=clock.due_at if clock else None,
                routing_rule=assignment.rule,
                routing_reason="; ".join([assignment.reason, *(f"skipped {s}" for s in assignment.skipped)]),
                score_total=score.total if score else None, source=contact.original_source,
                campaign_id=latest_campaign or contact.original_campaign_id, context=build_context(session, contact))
    try:
        with session.begin_nested():
            session.add(h)
    except IntegrityError:  # the partial unique index: another hand-over of this lead got there first
        raise Conflict(f"{contact.display_name} already has an open {kind.upper()} handoff.", code="handoff_open") from None
    _set_owner(session, contact, assignment.rep_id, now=now, reason=f"{kind} handoff {h.id}")
    record_audit(session, at=now, actor=f"user:{by_user}" if by_user else f"rule:{rule}", actor_user_id=by_user,
                 action=f"handoff.{kind}", entity="handoff", entity_id=h.id,
                 detail={"rep": assignment.rep_id, "priority": priority, "reason": h.routing_reason})
    if assignment.rep_id:
        _tell_rep(session, h, contact, assignment.reason, now=now)
    return h


def _route(session: Session, contact: Contact, *, kind: str, priority: str, now: datetime) -> Any:
    account = session.get(Account, contact.account_id) if contact.account_id else None
    reps = load_reps(session, now=now)
    rules = load_rules(session, "ae" if kind == "sql" else "sdr")
    state = load_state(session, reps, now=now)
    lead = Lead(contact.id, region=account.region if account else None, segment=account.segment if account else None,
                priority=priority, source=contact.original_source,
                account_owner_id=account.owner_id if account else None)
    assignment, state = route_lead(rules, reps, lead, state, at=now)
    save_credits(session, state)
    return assignment


def _tell_rep(session: Session, h: Handoff, contact: Contact, reason: str, *, now: datetime) -> None:
    from revteam.delivery.outbox import notify_user

    due = f", respond by {h.due_at:%a %d %b %H:%M} UTC" if h.due_at else ""
    notify_user(session, h.rep_id, key=f"handoff:{h.id}:assigned", event="assignment",  # type: ignore[arg-type]
                subject=f"New {h.priority} lead: {contact.display_name}",
                body=f"{contact.display_name} ({contact.title or 'no title'}) was handed to you{due}.\n"
                     f"Why you: {reason}.", now=now)


def reroute_unassigned(session: Session, *, now: datetime) -> int:
    """Give waiting leads to a rep as soon as one can take them (the worker calls this every tick):
    a lead that arrived when nobody was working is never left behind."""
    serialize(session, "routing")
    n = 0
    for h in session.scalars(select(Handoff).where(Handoff.status == "unassigned").order_by(Handoff.handed_at)):
        contact = session.get(Contact, h.contact_id)
        if contact is None:
            continue
        assignment = _route(session, contact, kind=h.kind, priority=h.priority, now=now)
        if assignment.rep_id is None:
            continue
        h.rep_id, h.status, h.routing_rule = assignment.rep_id, "pending", assignment.rule
        h.routing_reason = f"{h.routing_reason or ''}; rerouted {now:%Y-%m-%d %H:%M} UTC: {assignment.reason}".lstrip("; ")
        _set_owner(session, contact, assignment.rep_id, now=now, reason=f"{h.kind} handoff {h.id} (rerouted)")
        record_audit(session, at=now, actor="rule:reroute", action="handoff.rerouted", entity="handoff", entity_id=h.id,
                     detail={"rep": assignment.rep_id})
        _tell_rep(session, h, contact, assignment.reason, now=now)
        n += 1
    return n
