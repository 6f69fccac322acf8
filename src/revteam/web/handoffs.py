"""Queries behind the handoff pages and API (issue #3), so both always show the same thing.

Everything that changes a handoff goes through ``revteam.services`` (decisions, agreement, scoring,
outbox). Two thin wrappers here add the web's own rules around them, for pages and API alike:
``log_touch`` (only on a lead being worked, only by its rep or a supervisor) and ``reject`` (a return
date counts only for a reason that recycles). The rest only reads: a rep's inbox in order of urgency,
the leads waiting to be qualified,
recent rejections, disputes with their votes, campaigns with the people they touched, and the small
lists the forms offer (reps, committee candidates, reject reasons). ``clock_of`` and ``duration_text``
turn an SLA clock into the words the inbox shows ("due in 35 min", "overdue by 2 h").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revteam.errors import Conflict, Forbidden, InvalidInput, NotFound
from revteam.services.handoff.agreement import agreement_in_force
from revteam.services.handoff.decide import SUPERVISORS, log_sales_touch, reject_lead
from revteam.store.models import Dispute, DisputeVote, Handoff, RejectReason
from revteam.store.models import SALES_TOUCH_TYPES, Account, Campaign, Contact, Touchpoint, User
from revteam.web.policy import REPS

PRIORITY_RANK = {"hot": 0, "warm": 1, "cold": 2}
PRIORITY_LABELS = {"hot": "Hot", "warm": "Warm", "cold": "Cold"}
TOUCH_KINDS = {"sales_call": "Call", "sales_email": "E-mail", "meeting": "Meeting"}
CHOICE_LABELS = {"return_to_sales": "Return to sales", "uphold_rejection": "Uphold the rejection"}
UTC = ZoneInfo("UTC")


# ---------------------------------------------------------------- clocks and durations
def duration_text(delta: timedelta) -> str:
    """``timedelta(minutes=35)`` → ``35 min``; 125 minutes → ``2 h 5 min``; 50 hours → ``2 days 2 h``."""
    minutes = int(abs(delta).total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, mins = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h" + (f" {mins} min" if mins and hours < 10 else "")
    days, hours = divmod(hours, 24)
    return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours and days < 3 else "")


def minutes_text(minutes: float | None) -> str:
    return "–" if minutes is None else duration_text(timedelta(minutes=minutes))


@dataclass(frozen=True)
class ClockView:
    """Where a handoff's SLA clock stands at ``now``, in words."""

    state: str  # open | at_risk | breached | worked | none
    text: str  # "due in 35 min", "overdue by 2 h", "first touch 10:05", "no SLA clock"
    due_at: datetime | None

    @property
    def live(self) -> bool:
        return self.state in ("open", "at_risk", "breached") and self.due_at is not None


def clock_of(h: Handoff, now: datetime, tz: ZoneInfo = UTC) -> ClockView:
    if h.first_touch_at is not None and h.first_touch_at <= now:
        late = h.due_at is not None and h.first_touch_at > h.due_at
        when = h.first_touch_at.astimezone(tz).strftime("%a %H:%M")
        return ClockView("worked", f"worked {when}{' (late)' if late else ''}", h.due_at)
    if h.due_at is None:
        return ClockView("none", "no SLA clock", None)
    if now >= h.due_at:
        return ClockView("breached", f"overdue by {duration_text(now - h.due_at)}", h.due_at)
    state = "at_risk" if h.at_risk_at is not None and now >= h.at_risk_at else "open"
    return ClockView(state, f"due in {duration_text(h.due_at - now)}", h.due_at)


def sla_zone(session: Session) -> ZoneInfo:
    """The time zone of the SLA in force (its business hours); UTC when there is none."""
    agreement = agreement_in_force(session)
    return agreement.terms.calendar.zone if agreement is not None else UTC


# ---------------------------------------------------------------- who may act on a lead
def may_act(user: User, h: Handoff) -> bool:
    """The rule the decision services apply: the rep the lead was handed to, or a supervisor."""
    return h.rep_id == user.id or user.role in SUPERVISORS


def check_may_act(user: User, h: Handoff) -> None:
    if not may_act(user, h):
        raise Forbidden("Only the rep the lead was handed to (or a sales leader) can act on it.", code="not_your_lead")


def get_handoff(session: Session, handoff_id: int) -> Handoff:
    h = session.get(Handoff, handoff_id)
    if h is None:
        raise NotFound(f"No handoff with id {handoff_id}.", code="handoff_not_found")
    return h


def log_touch(db: Session, h: Handoff, me: User, *, type: str, note: str, now: datetime) -> Touchpoint:
    """A call, e-mail or meeting on a lead in the inbox: only its rep (or a supervisor), only while it is
    being worked (pending, or accepted and not yet qualified). Stops the SLA clock (``log_sales_touch``)."""
    check_may_act(me, h)
    if h.status not in ("pending", "accepted"):
        raise Conflict(f"This lead is {h.status}; there is nothing left to work on it here.", code="handoff_decided")
    if type not in SALES_TOUCH_TYPES:
        raise InvalidInput(f"Log a call, an e-mail or a meeting ({', '.join(SALES_TOUCH_TYPES)}).", code="bad_touch_type")
    return log_sales_touch(db, h.contact_id, me, type=type, note=note, now=now)


def parse_day(value: str | date | None, field: str = "date") -> date | None:
    if value is None or isinstance(value, date):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"The {field} {text!r} is not a date; use YYYY-MM-DD.", code="bad_date") from None


def reject(db: Session, h: Handoff, me: User, *, reason: str, note: str, recycle_until: str | date | None,
           now: datetime) -> Handoff:
    """Reject with a reason; the return date is read only when the reason sends the lead back to nurture
    (a form keeps the date field even when another reason is picked)."""
    rr = db.get(RejectReason, reason)
    until = parse_day(recycle_until, "return date") if rr is not None and rr.recycles else None
    return reject_lead(db, h.id, me, reason=reason, note=note, recycle_until=until, now=now)


def check_zone(tz: str) -> None:
    """A clear message for an unknown time zone (the agreement service would call it a missing term)."""
    from zoneinfo import ZoneInfoNotFoundError

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"{tz!r} is not a time zone; use a name like America/New_York or Europe/Berlin.",
                           code="bad_sla") from None


# ---------------------------------------------------------------- the inbox
@dataclass
class LeadRow:
    handoff: Handoff
    contact: Contact
    account: Account | None
    rep: User | None
    campaign: str | None
    clock: ClockView
    qualified: bool = False  # an accepted MQL already handed to an AE as an SQL
    dispute: Dispute | None = None  # the dispute about its rejection, if marketing opened one

    @property
    def returned(self) -> bool:
        """Back with sales because the committee returned it (its rejection cannot be disputed again)."""
        return self.dispute is not None and self.dispute.outcome == "return_to_sales"

    @property
    def can_qualify(self) -> bool:
        return self.handoff.kind == "mql" and self.handoff.status == "accepted" and not self.qualified

    @property
    def context(self) -> dict[str, Any]:
        return self.handoff.context or {}


@dataclass
class Inbox:
    rep: User | None  # None: every rep
    pending: list[LeadRow]
    to_qualify: list[LeadRow]  # accepted MQLs with no SQL handoff yet
    unassigned: list[LeadRow] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        states = [r.clock.state for r in self.pending]
        return {"pending": len(self.pending), "breached": states.count("breached"), "at_risk": states.count("at_risk"),
                "to_qualify": len(self.to_qualify), "unassigned": len(self.unassigned)}


def _rows(session: Session, handoffs: list[Handoff], now: datetime, tz: ZoneInfo) -> list[LeadRow]:
    if not handoffs:
        return []
    contacts = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_({h.contact_id for h in handoffs})))}
    account_ids = {c.account_id for c in contacts.values() if c.account_id}
    accounts = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(account_ids)))} if account_ids else {}
    rep_ids = {h.rep_id for h in handoffs if h.rep_id}
    reps = {u.id: u for u in session.scalars(select(User).where(User.id.in_(rep_ids)))} if rep_ids else {}
    camp_ids = {h.campaign_id for h in handoffs if h.campaign_id}
    camps = dict(session.execute(select(Campaign.id, Campaign.name).where(Campaign.id.in_(camp_ids))).all()) if camp_ids else {}
    accepted = [h.contact_id for h in handoffs if h.kind == "mql" and h.status == "accepted"]
    with_sql = set(session.scalars(select(Handoff.contact_id).where(Handoff.kind == "sql",
                                                                    Handoff.contact_id.in_(accepted)))) if accepted else set()
    ids = [h.id for h in handoffs]
    disputed = {d.handoff_id: d for d in session.scalars(select(Dispute).where(Dispute.handoff_id.in_(ids)))}
    out = []
    for h in handoffs:
        c = contacts[h.contact_id]
        out.append(LeadRow(h, c, accounts.get(c.account_id) if c.account_id else None, reps.get(h.rep_id or -1),
                           camps.get(h.campaign_id or -1) or (h.context or {}).get("campaign"), clock_of(h, now, tz),
                           qualified=h.contact_id in with_sql, dispute=disputed.get(h.id)))
    return out


def urgency(row: LeadRow) -> tuple[Any, ...]:
    """Most urgent first: a running clock by due time (overdue first), then priority, then the oldest."""
    h = row.handoff
    running = row.clock.live
    return (0 if running else 1, h.due_at or datetime.max.replace(tzinfo=UTC), PRIORITY_RANK.get(h.priority, 9),
            h.handed_at, h.id)


def inbox(session: Session, *, rep_id: int | None, now: datetime, tz: ZoneInfo = UTC, qualify_days: int = 90) -> Inbox:
    """Pending handoffs of ``rep_id`` (every rep when None), most urgent first; accepted MQLs still to qualify."""
    q = select(Handoff).where(Handoff.status == "pending")
    if rep_id is not None:
        q = q.where(Handoff.rep_id == rep_id)
    pending = sorted(_rows(session, list(session.scalars(q)), now, tz), key=urgency)
    has_sql = select(Handoff.contact_id).where(Handoff.kind == "sql")
    aq = (select(Handoff).where(Handoff.kind == "mql", Handoff.status == "accepted",
                                Handoff.decided_at >= now - timedelta(days=qualify_days),
                                Handoff.contact_id.not_in(has_sql))
          .order_by(Handoff.decided_at.desc()))
    if rep_id is not None:
        aq = aq.where(Handoff.rep_id == rep_id)
    to_qualify = _rows(session, list(session.scalars(aq.limit(100))), now, tz)
    unassigned: list[LeadRow] = []
    if rep_id is None:
        uq = select(Handoff).where(Handoff.status == "unassigned").order_by(Handoff.handed_at.desc()).limit(100)
        unassigned = _rows(session, list(session.scalars(uq)), now, tz)
    rep = session.get(User, rep_id) if rep_id is not None else None
    return Inbox(rep, pending, to_qualify, unassigned)


def lead_row(session: Session, h: Handoff, now: datetime, tz: ZoneInfo = UTC) -> LeadRow:
    return _rows(session, [h], now, tz)[0]


def reps(session: Session) -> list[User]:
    """Active sales reps (SDRs and AEs), for the inbox's rep picker."""
    return list(session.scalars(select(User).where(User.role.in_(REPS), User.is_active.is_(True)).order_by(User.name)))


def inbox_rep(session: Session, me: User, rep: str | None) -> int | None:
    """Whose inbox to show: reps see their own (asking for another rep's is refused); supervisors pick
    one (``rep`` = a user id) or everyone (``all``, the default)."""
    value = (rep or "").strip().lower()
    if me.role not in SUPERVISORS:
        if value in ("", "me") or value == str(me.id):
            return me.id
        raise Forbidden("You can open your own inbox only; a leader or admin can open anybody's.", code="not_your_inbox")
    if value in ("", "all", "any"):
        return None
    if value == "me":
        return me.id
    if not value.isdigit():
        raise InvalidInput(f"Unknown rep {rep!r}; use all, me or a user id.", code="bad_rep")
    user = session.get(User, int(value))
    if user is None or user.role not in REPS:
        raise NotFound(f"No sales rep with id {value}; pick one from the list.", code="rep_not_found")
    return user.id


def reject_reasons(session: Session) -> list[RejectReason]:
    return list(session.scalars(select(RejectReason).order_by(RejectReason.position, RejectReason.code)))


def reason_labels(session: Session) -> dict[str, str]:
    return {r.code: r.label for r in reject_reasons(session)}


# ---------------------------------------------------------------- rejections and disputes
@dataclass
class RejectionRow:
    lead: LeadRow
    reason: str  # the label
    dispute_id: int | None


def recent_rejections(session: Session, *, now: datetime, days: int = 30, tz: ZoneInfo = UTC,
                      limit: int = 100) -> list[RejectionRow]:
    """Rejected or recycled MQLs decided in the last ``days`` days, newest first, with their dispute if any."""
    hs = list(session.scalars(select(Handoff).where(Handoff.status.in_(("rejected", "recycled")), Handoff.kind == "mql",
                                                    Handoff.decided_at >= now - timedelta(days=days))
                              .order_by(Handoff.decided_at.desc(), Handoff.id.desc()).limit(limit)))
    disputes = dict(session.execute(select(Dispute.handoff_id, Dispute.id).where(
        Dispute.handoff_id.in_([h.id for h in hs]))).all()) if hs else {}
    labels = reason_labels(session)
    return [RejectionRow(row, labels.get(row.handoff.reject_reason or "", row.handoff.reject_reason or "–"),
                         disputes.get(row.handoff.id)) for row in _rows(session, hs, now, tz)]


@dataclass
class VoteView:
    member: User
    vote: DisputeVote | None

    @property
    def choice_label(self) -> str:
        return CHOICE_LABELS.get(self.vote.choice, self.vote.choice) if self.vote else "not voted yet"


@dataclass
class DisputeView:
    dispute: Dispute
    lead: LeadRow
    opened_by: User | None
    reason_label: str  # the rejection reason the rep gave
    note: str | None  # the rep's note
    rejected_by: User | None
    rejected_at: datetime | None
    members: list[VoteView]

    @property
    def votes_for(self) -> dict[str, int]:
        out = {c: 0 for c in CHOICE_LABELS}
        for m in self.members:
            if m.vote is not None:
                out[m.vote.choice] = out.get(m.vote.choice, 0) + 1
        return out

    @property
    def needed(self) -> int:
        return len(self.members) // 2 + 1

    def can_vote(self, user: User) -> bool:
        return self.dispute.outcome is None and any(m.member.id == user.id and m.vote is None for m in self.members)


def disputes(session: Session, *, status: str = "open", now: datetime, tz: ZoneInfo = UTC, limit: int = 50,
             dispute_id: int | None = None) -> list[DisputeView]:
    """Disputes (``open``, ``decided`` or ``all``; or the one ``dispute_id``), newest first, with the lead,
    the rejection and the votes."""
    q = select(Dispute).order_by(Dispute.opened_at.desc(), Dispute.id.desc()).limit(limit)
    if dispute_id is not None:
        q = q.where(Dispute.id == dispute_id)
    if status == "open":
        q = q.where(Dispute.outcome.is_(None))
    elif status == "decided":
        q = q.where(Dispute.outcome.is_not(None))
    elif status != "all":
        raise InvalidInput(f"Unknown dispute status {status!r}; use open, decided or all.", code="bad_status")
    ds = list(session.scalars(q))
    if not ds:
        return []
    handoffs = {h.id: h for h in session.scalars(select(Handoff).where(Handoff.id.in_([d.handoff_id for d in ds])))}
    rows = {r.handoff.id: r for r in _rows(session, list(handoffs.values()), now, tz)}
    votes: dict[int, dict[int, DisputeVote]] = {}
    for v in session.scalars(select(DisputeVote).where(DisputeVote.dispute_id.in_([d.id for d in ds]))):
        votes.setdefault(v.dispute_id, {})[v.member_id] = v
    user_ids = {d.opened_by for d in ds} | {m for d in ds for m in d.committee}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
    labels = reason_labels(session)
    out = []
    for d in ds:
        h = handoffs[d.handoff_id]
        # the rejection as the rep gave it: a lead returned to sales no longer carries its reason on the handoff
        reason, note, by, at = _rejection_of(session, d, h, labels)
        members = [VoteView(users[m], votes.get(d.id, {}).get(m)) for m in d.committee if m in users]
        out.append(DisputeView(d, rows[h.id], users.get(d.opened_by), reason, note, by, at, members))
    return out


def _rejection_of(session: Session, d: Dispute, h: Handoff, labels: dict[str, str]) -> tuple[str, str | None, User | None, datetime | None]:
    from revteam.store.models import AuditEntry

    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity == "handoff", AuditEntry.entity_id == str(h.id),
                                                     AuditEntry.action.in_(("handoff.rejected", "handoff.recycled")),
                                                     AuditEntry.at <= d.opened_at)
                            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(1)).first()
    if entry is not None:
        detail = entry.detail or {}
        code = str(detail.get("reason") or "")
        by = session.get(User, entry.actor_user_id) if entry.actor_user_id else None
        return labels.get(code, code or "–"), detail.get("note"), by, entry.at
    code = h.reject_reason or ""
    return labels.get(code, code or "–"), h.reject_note, session.get(User, h.rep_id) if h.rep_id else None, h.decided_at


def committee_candidates(session: Session) -> list[User]:
    """Who can sit on the dispute committee: the senior people (leaders) and admins, active."""
    return list(session.scalars(select(User).where(User.role.in_(SUPERVISORS), User.is_active.is_(True))
                                .order_by(User.role.desc(), User.name)))


def check_committee(session: Session, committee: list[int]) -> None:
    allowed = {u.id for u in committee_candidates(session)}
    strangers = [uid for uid in committee if uid not in allowed]
    if strangers:
        raise InvalidInput("The committee is made of leaders and admins (senior people from both teams); "
                           f"user{'s' if len(strangers) > 1 else ''} {', '.join(map(str, strangers))} cannot sit on it.",
                           code="bad_committee")


# ---------------------------------------------------------------- campaigns
@dataclass
class CampaignRow:
    campaign: Campaign
    people: int
    last_touch: datetime | None


def campaigns_touched(session: Session, limit: int = 200) -> list[CampaignRow]:
    """Campaigns with the number of people they touched, the most recently active first."""
    q = (select(Campaign, func.count(func.distinct(Touchpoint.contact_id)), func.max(Touchpoint.occurred_at))
         .outerjoin(Touchpoint, Touchpoint.campaign_id == Campaign.id)
         .group_by(Campaign.id)
         .order_by(func.max(Touchpoint.occurred_at).desc().nulls_last(), Campaign.name)
         .limit(limit))
    return [CampaignRow(c, int(n or 0), last) for c, n, last in session.execute(q)]


def names_of(session: Session, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def rep_of_handoffs(session: Session, handoff_ids: list[int]) -> dict[int, int | None]:
    if not handoff_ids:
        return {}
    return dict(session.execute(select(Handoff.id, Handoff.rep_id).where(Handoff.id.in_(handoff_ids))).all())
