"""What sales and the committee do with a handed-over lead: accept, reject (or recycle), log a touch,
qualify to SQL, dispute a rejection, vote on a dispute.

Each is a use case with its own transaction (``store.db.transaction``): a refused action writes nothing.

Rules
    * Who may act on a lead (``may_act``): the rep it was handed to, or a supervisor (a leader or an
      admin, ``domain.roles.SUPERVISORS``), who stands in for the rep.
    * Accept and reject only a pending lead. A touch is logged only on a lead still being worked (pending,
      or accepted and not yet qualified); it stops the SLA clock.
    * A reject reason either recycles (back to nurture until a future return date, which it then needs)
      or disqualifies; the return date is read only for a reason that recycles, so a form may keep the
      date field filled in when another reason is picked.
    * Race-safe (``claims``): each decision claims its row with a conditional update (accept and reject:
      ``... WHERE status = 'pending'``) or locks it (qualify, touch, dispute, vote) before it reads what it
      decides on, so of two decisions at once one wins and the other gets a ``Conflict`` (409).
    * Only an accepted MQL is qualified to SQL (handed to an AE). Marketing (or a supervisor) disputes a
      rejected or recycled lead once; the committee of the SLA in force votes (``domain.disputes``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revteam.domain.days import parse_day
from revteam.domain.disputes import Vote, check_vote, decide
from revteam.domain.roles import DISPUTERS, SUPERVISORS
from revteam.errors import Conflict, Forbidden, InvalidInput, NotFound
from revteam.services.claims import claim, hold, serialize
from revteam.services.record.audit import record_audit
from revteam.services.record.lifecycle import get_contact, load_stages, move_contact_stage
from revteam.store.db import transaction
from revteam.store.models import Dispute, DisputeVote, Handoff, RejectReason
from revteam.store.models import SALES_TOUCH_TYPES, Touchpoint, User

WORKED_STATUSES = ("pending", "accepted")  # a lead on which a touch can still be logged

DEFAULT_REJECT_REASONS = (
    ("bad_fit", "Bad fit (not our market)", False),
    ("no_budget", "No budget", True),
    ("student", "Student or job seeker", False),
    ("competitor", "Competitor", False),
    ("duplicate", "Duplicate of another lead", False),
    ("wrong_contact_data", "Wrong contact data", False),
    ("not_ready", "Not ready to buy yet", True),
)


def seed_reject_reasons(session: Session) -> None:
    if session.scalar(select(RejectReason.code).limit(1)) is None:
        for pos, (code, label, recycles) in enumerate(DEFAULT_REJECT_REASONS):
            session.add(RejectReason(code=code, label=label, recycles=recycles, position=pos))


def get_handoff(session: Session, handoff_id: int) -> Handoff:
    h = session.get(Handoff, handoff_id)
    if h is None:
        raise NotFound(f"No handoff with id {handoff_id}.", code="handoff_not_found")
    return h


def may_act(user: User, h: Handoff) -> bool:
    """The rep the lead was handed to, or a supervisor standing in for the rep."""
    return h.rep_id == user.id or user.role in SUPERVISORS


def check_may_act(user: User, h: Handoff) -> None:
    if not may_act(user, h):
        raise Forbidden("Only the rep the lead was handed to (or a sales leader) can act on it.", code="not_your_lead")


def _pending(h: Handoff) -> None:
    if h.status != "pending":
        raise Conflict(f"This lead was already {h.status}; nothing to do.", code="handoff_decided")


def _lost_race(h: Handoff) -> Conflict:
    return Conflict(f"Someone else decided this lead a moment ago: it is {h.status} now; reload to see it.",
                    code="handoff_decided")


def _stop_clock(h: Handoff, at: datetime) -> None:
    if h.first_touch_at is None or at < h.first_touch_at:
        h.first_touch_at = at


def accept_lead(session: Session, handoff_id: int, user: User, *, now: datetime) -> Handoff:
    with transaction(session):
        h = get_handoff(session, handoff_id)
        check_may_act(user, h)
        _pending(h)
        if not claim(session, Handoff, h.id, Handoff.status == "pending", status="accepted", decided_at=now):
            raise _lost_race(h)
        _stop_clock(h, now)
        contact = get_contact(session, h.contact_id)
        stages = load_stages(session)
        if h.kind == "mql" and stages.rank(contact.stage) < stages.rank("sal"):
            move_contact_stage(session, contact, "sal", at=now, stages=stages, actor_user_id=user.id)
        record_audit(session, at=now, actor=f"user:{user.id}", actor_user_id=user.id, action="handoff.accepted",
                     entity="handoff", entity_id=h.id)
    return h


def reject_lead(session: Session, handoff_id: int, user: User, *, reason: str, note: str = "",
                recycle_until: date | str | None = None, now: datetime) -> Handoff:
    """Reject with a reason code; a reason that recycles (e.g. not ready) sends the lead back to nurture
    until ``recycle_until`` (a date, or ``YYYY-MM-DD`` as typed); any other reason disqualifies it and
    the return date is not read at all."""
    with transaction(session):
        h = get_handoff(session, handoff_id)
        check_may_act(user, h)
        _pending(h)
        rr = session.get(RejectReason, reason)
        if rr is None:
            codes = ", ".join(session.scalars(select(RejectReason.code).order_by(RejectReason.position)))
            raise InvalidInput(f"Unknown reject reason {reason!r}; use one of: {codes}.", code="bad_reject_reason")
        until = _return_date(recycle_until) if rr.recycles else None
        if rr.recycles and until is None:
            raise InvalidInput(f"'{rr.label}' sends the lead back to nurture: give the date it should come back.",
                               code="recycle_date_required")
        if until is not None and until <= now.date():
            raise InvalidInput("The return date must be in the future.", code="bad_recycle_date")
        if not claim(session, Handoff, h.id, Handoff.status == "pending", status="recycled" if rr.recycles else "rejected",
                     decided_at=now, reject_reason=rr.code, reject_note=note.strip() or None, recycle_until=until):
            raise _lost_race(h)
        _stop_clock(h, now)
        contact = get_contact(session, h.contact_id)
        text = rr.label + (f": {note.strip()}" if note.strip() else "")
        move_contact_stage(session, contact, "recycled" if rr.recycles else "disqualified", at=now,
                           stages=load_stages(session), actor_user_id=user.id, reason=text)
        record_audit(session, at=now, actor=f"user:{user.id}", actor_user_id=user.id, action=f"handoff.{h.status}",
                     entity="handoff", entity_id=h.id, detail={"reason": rr.code, "note": h.reject_note})
    return h


def _return_date(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return parse_day(value.strip(), "The return date")


def log_sales_touch(session: Session, contact_id: int, user: User, *, type: str, now: datetime, note: str = "") -> Touchpoint:
    """A call, e-mail or meeting by sales: a touchpoint, and it stops the SLA clock of open handoffs."""
    with transaction(session):
        if type not in SALES_TOUCH_TYPES:
            raise InvalidInput(f"Log one of: {', '.join(SALES_TOUCH_TYPES)}.", code="bad_touch_type")
        contact = get_contact(session, contact_id)
        if user.role not in SUPERVISORS and contact.owner_id not in (None, user.id):
            raise Forbidden("This contact is another rep's; only its owner (or a sales leader) logs touches on it.",
                            code="not_your_lead")
        t = Touchpoint(contact_id=contact.id, type=type, channel="sales", occurred_at=now, actor_user_id=user.id,
                       properties={"note": note.strip()} if note.strip() else None, source_system="revteam")
        session.add(t)
        for h in session.scalars(select(Handoff).where(Handoff.contact_id == contact.id, Handoff.status == "pending")):
            _stop_clock(h, now)
        session.flush()
    return t


def log_touch(session: Session, handoff_id: int, user: User, *, type: str, note: str = "", now: datetime) -> Touchpoint:
    """A call, e-mail or meeting on a lead in the inbox: only its rep (or a supervisor), only while it is
    being worked (pending, or accepted and not yet qualified). Stops the SLA clock (``log_sales_touch``)."""
    with transaction(session):
        h = get_handoff(session, handoff_id)
        check_may_act(user, h)
        if not hold(session, Handoff, h.id, Handoff.status, Handoff.status.in_(WORKED_STATUSES)):
            raise Conflict(f"This lead is {h.status}; there is nothing left to work on it here.",
                           code="handoff_decided")
        if type not in SALES_TOUCH_TYPES:
            raise InvalidInput(f"Log a call, an e-mail or a meeting ({', '.join(SALES_TOUCH_TYPES)}).",
                               code="bad_touch_type")
        return log_sales_touch(session, h.contact_id, user, type=type, note=note, now=now)


def qualify_to_sql(session: Session, handoff_id: int, user: User, *, now: datetime, note: str = "") -> Handoff:
    """An SDR qualifies an accepted lead: it becomes an SQL and is handed over to an AE."""
    from revteam.services.handoff.hand_over import hand_over_lead
    from revteam.services.qualify.scoring import active_model

    with transaction(session):
        h = get_handoff(session, handoff_id)
        check_may_act(user, h)
        if h.kind != "mql" or not hold(session, Handoff, h.id, Handoff.status, Handoff.status == "accepted"):
            raise Conflict("Only an accepted MQL can be qualified to SQL.", code="not_accepted")
        # the lead is locked: of several qualifies at once, the first hands it to an AE, the others see it done
        if session.scalar(select(Handoff.id).where(Handoff.contact_id == h.contact_id, Handoff.kind == "sql",
                                                   Handoff.handed_at >= h.handed_at).limit(1)) is not None:
            raise Conflict("This lead is already qualified to SQL and with an AE; nothing to do.",
                           code="already_qualified")
        return hand_over_lead(session, h.contact_id, now=now, model=active_model(session), kind="sql", by_user=user.id,
                              rule=None, why=note.strip() or None)


def open_dispute(session: Session, handoff_id: int, user: User, *, reason: str, now: datetime) -> Dispute:
    from revteam.delivery.outbox import notify_user
    from revteam.services.handoff.agreement import agreement_in_force

    with transaction(session):
        if user.role not in DISPUTERS:
            raise Forbidden("Marketing disputes rejections; ask a marketer or a leader.", code="not_marketing")
        h = get_handoff(session, handoff_id)
        if not hold(session, Handoff, h.id, Handoff.status, Handoff.status.in_(("rejected", "recycled"))):
            raise Conflict("Only a rejected or recycled lead can be disputed.", code="not_rejected")
        if session.scalar(select(Dispute.id).where(Dispute.handoff_id == h.id)) is not None:
            raise Conflict("This rejection is already disputed.", code="already_disputed")
        if not reason.strip():
            raise InvalidInput("Say why the rejection is wrong; the committee reads it.", code="dispute_reason_required")
        agreement = agreement_in_force(session)
        if agreement is None or not agreement.row.committee:
            raise Conflict("No signed SLA names a committee yet; sign the SLA first.", code="no_committee")
        d = Dispute(handoff_id=h.id, opened_by=user.id, opened_at=now, reason=reason.strip(),
                    committee=list(agreement.row.committee))
        session.add(d)
        try:
            session.flush()
        except IntegrityError:  # a dispute of the same rejection committed while this one was written
            raise Conflict("This rejection is already disputed.", code="already_disputed") from None
        contact = get_contact(session, h.contact_id)
        for member in d.committee:
            notify_user(session, member, key=f"dispute:{d.id}:opened", event="dispute",
                        subject=f"Dispute to decide: {contact.display_name}",
                        body=f"{user.name} disputes the rejection ({h.reject_reason}): {d.reason}", now=now)
        record_audit(session, at=now, actor=f"user:{user.id}", actor_user_id=user.id, action="dispute.opened",
                     entity="dispute", entity_id=d.id)
    return d


def cast_vote(session: Session, dispute_id: int, user: User, *, choice: str, reason: str, now: datetime) -> Dispute:
    with transaction(session):
        d = session.get(Dispute, dispute_id)
        if d is None:
            raise NotFound(f"No dispute with id {dispute_id}.", code="dispute_not_found")
        # votes on one dispute one at a time: each counts the votes before it, so the deciding vote decides once
        if not hold(session, Dispute, d.id, Dispute.outcome, Dispute.outcome.is_(None)):
            raise Conflict(f"This dispute is already decided ({d.outcome}); your vote was not needed.",
                           code="dispute_decided")
        existing = [Vote(v.member_id, v.choice, v.reason) for v in
                    session.scalars(select(DisputeVote).where(DisputeVote.dispute_id == d.id))]
        vote = Vote(user.id, choice, reason)
        check_vote(d.committee, existing, vote)
        session.add(DisputeVote(dispute_id=d.id, member_id=user.id, choice=choice, reason=reason.strip(), voted_at=now))
        try:
            session.flush()
        except IntegrityError:
            raise Conflict("You have already voted on this dispute.", code="already_voted") from None
        decision = decide(d.committee, [*existing, vote])
        if decision.outcome is not None:
            _carry_out(session, d, decision.outcome, decision.summary, user, now)
    return d


def _carry_out(session: Session, d: Dispute, outcome: str, summary: str, user: User, now: datetime) -> None:
    """The committee decided: record it; a lead returned to sales is pending again with a new SLA clock."""
    from revteam.delivery.outbox import notify_user

    h = get_handoff(session, d.handoff_id)
    contact = get_contact(session, h.contact_id)
    again = None
    if outcome == "return_to_sales":
        serialize(session, "routing")  # as a hand-over: the lead must not end up with two open handoffs
        again = session.scalar(select(Handoff.id).where(Handoff.contact_id == h.contact_id, Handoff.kind == h.kind,
                                                        Handoff.id != h.id, Handoff.status.in_(("pending", "unassigned"))))
        if again is not None:
            summary += f" The lead was already handed to sales again (handoff {again}), so it is not reopened."
    d.outcome, d.decided_at, d.summary = outcome, now, summary
    if outcome == "return_to_sales" and again is None:
        from revteam.domain.sla import start_clock
        from revteam.services.handoff.agreement import agreement_in_force

        h.status, h.decided_at, h.first_touch_at = "pending", None, None
        h.reject_reason = None
        agreement = agreement_in_force(session)
        if agreement is not None and h.priority in agreement.terms.response:
            clock = start_clock(agreement.terms, h.priority, now)  # the clock starts again from the decision
            h.at_risk_at, h.due_at, h.sla_version = clock.at_risk_at, clock.due_at, agreement.row.version
        move_contact_stage(session, contact, "mql", at=now, stages=load_stages(session), actor_rule="dispute_decision")
    for uid in {d.opened_by, h.rep_id} - {None}:
        notify_user(session, uid, key=f"dispute:{d.id}:decided", event="dispute",  # type: ignore[arg-type]
                    subject=f"Dispute decided: {contact.display_name}", body=summary, now=now)
    record_audit(session, at=now, actor=f"user:{user.id}", actor_user_id=user.id, action="dispute.decided",
                 entity="dispute", entity_id=d.id, detail={"outcome": outcome, "summary": summary})
